//! [`Tareas`]: the tasks of a running service (its HTTP server and its background loops) and
//! the way they stop, the same for every service: run until the shutdown future completes or a
//! task ends on its own (a failure), then abort the loops, stop the server and give requests in
//! flight [`GRACIA`] to finish.

use std::future::Future;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{AbortHandle, JoinSet};

use crate::Transporte;

/// How long requests in flight at shutdown may take to finish before they are cut.
pub const GRACIA: Duration = Duration::from_secs(5);

/// A service's tasks. Each one runs until shutdown: one that ends before is a failure of the
/// service.
pub struct Tareas {
    /// The service's name, for the log and the errors.
    servicio: &'static str,
    /// Every task: the server and the loops.
    tareas: JoinSet<anyhow::Result<()>>,
    /// The loops, aborted at shutdown (the server stops gracefully instead).
    bucles: Vec<AbortHandle>,
    /// Turns true at shutdown: the server stops accepting.
    parada: watch::Sender<bool>,
}

impl Tareas {
    pub fn new(servicio: &'static str) -> Self {
        Self {
            servicio,
            tareas: JoinSet::new(),
            bucles: Vec::new(),
            parada: watch::Sender::new(false),
        }
    }

    /// Serves `app` on `listener` ([`crate::servir`]) until shutdown.
    pub fn servir(&mut self, listener: TcpListener, app: Router, transporte: Transporte) {
        let mut parada = self.parada.subscribe();
        let parar = async move {
            let _ = parada.wait_for(|parar| *parar).await;
        };
        self.tareas.spawn(async move {
            crate::servir(listener, app, &transporte, parar)
                .await
                .context("HTTP server failed")
        });
    }

    /// Runs a loop that should only end when aborted at shutdown.
    pub fn bucle(&mut self, bucle: impl Future<Output = anyhow::Result<()>> + Send + 'static) {
        self.bucles.push(self.tareas.spawn(bucle));
    }

    /// Runs every task until `shutdown` completes or one of them ends, then stops them:
    /// `al_parar` (the service's own stop), the loops aborted, the server stopped with
    /// [`GRACIA`] for the requests in flight. An error says which task ended and why.
    pub async fn hasta(
        mut self,
        shutdown: impl Future<Output = ()>,
        al_parar: impl FnOnce(),
    ) -> anyhow::Result<()> {
        let servicio = self.servicio;
        let resultado = tokio::select! {
            () = shutdown => Ok(()),
            Some(fin) = self.tareas.join_next() => Err(match fin {
                Ok(Ok(())) => anyhow::anyhow!("a background task of the {servicio} ended"),
                Ok(Err(e)) => e,
                Err(e) => anyhow::Error::new(e)
                    .context(format!("a background task of the {servicio} crashed")),
            }),
        };
        tracing::info!("{servicio} stopping");
        al_parar();
        self.parada.send_replace(true);
        for bucle in &self.bucles {
            bucle.abort();
        }
        let terminar = async { while self.tareas.join_next().await.is_some() {} };
        if tokio::time::timeout(GRACIA, terminar).await.is_err() {
            tracing::warn!("requests still in flight after {GRACIA:?}; cutting them");
        }
        self.tareas.shutdown().await;
        resultado
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn shutdown_stops_the_loops_and_a_loop_that_ends_is_a_failure() {
        let mut t = Tareas::new("prueba");
        t.bucle(std::future::pending());
        let mut parado = false;
        t.hasta(async {}, || parado = true).await.unwrap();
        assert!(parado);

        let mut t = Tareas::new("prueba");
        t.bucle(async { Ok(()) });
        let e = t.hasta(std::future::pending(), || {}).await.unwrap_err();
        assert_eq!(e.to_string(), "a background task of the prueba ended");

        let mut t = Tareas::new("prueba");
        t.bucle(async { Err(anyhow::anyhow!("disk full")) });
        let e = t.hasta(std::future::pending(), || {}).await.unwrap_err();
        assert_eq!(e.to_string(), "disk full");
    }
}
