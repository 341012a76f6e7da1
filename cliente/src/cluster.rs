//! A maestro and its esclavos started in this process on loopback, for `cliente local` and
//! `cliente carga --local`.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::api::Maestro;
use crate::error::Error;

/// How long the services may take to start answering.
const PLAZO_ARRANQUE: Duration = Duration::from_secs(15);
/// How long the services may take to stop.
const PLAZO_PARADA: Duration = Duration::from_secs(10);

/// A running in-process cluster.
pub struct Cluster {
    /// The maestro's base URL, `http://127.0.0.1:PORT`.
    pub url: String,
    /// The cluster token the maestro was started with; the esclavos present it.
    token: Option<String>,
    /// Flipped to `true` to stop every service.
    parar: watch::Sender<bool>,
    /// The maestro's task.
    maestro: JoinHandle<anyhow::Result<()>>,
    /// The esclavos' tasks, by name.
    esclavos: Vec<(String, JoinHandle<anyhow::Result<()>>)>,
}

impl Cluster {
    /// Binds `127.0.0.1:puerto` (0: any free port), starts the maestro on it and waits until
    /// it answers. No esclavo yet: see [`Cluster::iniciar_esclavos`].
    pub async fn iniciar_maestro(config: maestro::Config, puerto: u16) -> Result<Self, Error> {
        let listener = TcpListener::bind(("127.0.0.1", puerto))
            .await
            .map_err(|e| {
                let pista = if e.kind() == std::io::ErrorKind::AddrInUse {
                    " (another maestro? --puerto 0 takes any free port)"
                } else {
                    ""
                };
                Error::local(format!("cannot listen on 127.0.0.1:{puerto}: {e}{pista}"))
            })?;
        let puerto = listener
            .local_addr()
            .context("the listener has no address")?
            .port();
        let (parar, rx) = watch::channel(false);
        let token = config.token.clone();
        let maestro = tokio::spawn(maestro::run(config, listener, apagado(rx)));
        let mut c = Self {
            url: format!("http://127.0.0.1:{puerto}"),
            token,
            parar,
            maestro,
            esclavos: Vec::new(),
        };
        let m = Maestro::new(&c.url, None)?;
        c.esperar("the maestro answers /ping", || async {
            m.ping().await.is_ok()
        })
        .await?;
        Ok(c)
    }

    /// Starts `n` esclavos (`esclavo1`..`esclavoN`, `capacidad` slots each) on loopback ports
    /// and waits until the maestro lists them all alive.
    pub async fn iniciar_esclavos(&mut self, n: u32, capacidad: u32) -> Result<(), Error> {
        for i in 1..=n {
            let nombre = format!("esclavo{i}");
            let listener = TcpListener::bind(("127.0.0.1", 0))
                .await
                .map_err(|e| Error::local(format!("cannot listen for {nombre}: {e}")))?;
            let mut config = esclavo::Config::new(&self.url, &nombre);
            config.capacidad = capacidad;
            config.token = self.token.clone();
            // Maestro and esclavos stop together: hand running jobs back at once (the
            // maestro's store keeps them for the next start).
            config.gracia = Duration::ZERO;
            let tarea = tokio::spawn(esclavo::run(
                config,
                listener,
                apagado(self.parar.subscribe()),
            ));
            self.esclavos.push((nombre, tarea));
        }
        let m = Maestro::new(&self.url, self.token.clone())?;
        let nombres: Vec<String> = self.esclavos.iter().map(|(n, _)| n.clone()).collect();
        self.esperar("every esclavo is registered", || async {
            m.estado().await.is_ok_and(|e| {
                nombres
                    .iter()
                    .all(|n| e.esclavos.iter().any(|x| &x.nombre == n && x.vivo))
            })
        })
        .await
    }

    /// Polls `condicion` every 10 ms until it holds; fails if a service stopped or after
    /// [`PLAZO_ARRANQUE`].
    async fn esperar<F, Fut>(&mut self, que: &str, mut condicion: F) -> Result<(), Error>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = bool>,
    {
        let limite = Instant::now() + PLAZO_ARRANQUE;
        loop {
            if condicion().await {
                return Ok(());
            }
            if self.maestro.is_finished() {
                let fin = (&mut self.maestro).await;
                return Err(Error::local(format!(
                    "the maestro stopped while starting: {}",
                    describir(fin)
                )));
            }
            if let Some((n, t)) = self.esclavos.iter_mut().find(|(_, t)| t.is_finished()) {
                let fin = t.await;
                return Err(Error::local(format!(
                    "{n} stopped while starting: {}",
                    describir(fin)
                )));
            }
            if Instant::now() >= limite {
                return Err(Error::local(format!(
                    "timed out after {PLAZO_ARRANQUE:?} waiting until {que}"
                )));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Stops every service and waits (a bounded time) until they have stopped.
    pub async fn parar(self) {
        let _ = self.parar.send(true);
        let todas = async {
            for (nombre, t) in self.esclavos {
                if let Ok(Err(e)) = t.await {
                    tracing::warn!("{nombre} stopped with an error: {e:#}");
                }
            }
            if let Ok(Err(e)) = self.maestro.await {
                tracing::warn!("the maestro stopped with an error: {e:#}");
            }
        };
        if tokio::time::timeout(PLAZO_PARADA, todas).await.is_err() {
            tracing::warn!("services still stopping after {PLAZO_PARADA:?}; leaving them");
        }
    }
}

fn describir(fin: Result<anyhow::Result<()>, tokio::task::JoinError>) -> String {
    match fin {
        Ok(Ok(())) => "it returned".into(),
        Ok(Err(e)) => format!("{e:#}"),
        Err(e) => format!("it crashed: {e}"),
    }
}

/// Completes when `rx` turns true (or its sender is gone).
async fn apagado(mut rx: watch::Receiver<bool>) {
    let _ = rx.wait_for(|p| *p).await;
}
