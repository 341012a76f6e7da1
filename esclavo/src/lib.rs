//! The esclavo: a worker of the cluster. It registers with the maestro, keeps a heartbeat, runs
//! the jobs the maestro pushes to it (up to `capacidad` at once) and posts their results back.
//!
//! # Layout
//!
//! - [`config`]: [`Config`], what a process needs to start.
//! - [`http`]: the routes (`/ping`, `/estado`, `/ejecutar`, `/cancelar`) and their handlers.
//! - [`ejecucion`]: the job slots; kernels on the blocking pool, `espera` jobs on timers; each
//!   attempt's stop (`/cancelar`, the heartbeat's `cancelar` list, its time limit).
//! - [`envio`]: one task that batches finished results and retries each batch until the
//!   maestro acknowledges it.
//! - [`registro`]: registration with backoff, the heartbeat, re-registration on 404.
//! - [`conexion`]: the maestro's API as one keep-alive `reqwest` client.
//! - [`compartido`]: [`Esclavo`], the state handlers and tasks share.
//! - [`estado`]: the body of `GET /estado`.
//! - `sistema`: capabilities and load, via `sysinfo` (the backoff is `comun::reintento`).
//!
//! # Lifecycle
//!
//! [`run`] serves on the listener it is given, registers, heartbeats and sends results until the
//! shutdown future completes. Then it stops accepting requests and jobs, stops heartbeating,
//! stops the background tasks and returns. **Running jobs are abandoned** and results not yet
//! acknowledged are lost with the process: that is safe, because the maestro sees the heartbeats
//! stop (or a new `instancia` under the same name) and runs those jobs again. A kernel on the
//! blocking pool is told to stop (it checks between chunks of work), so its thread ends soon in
//! the background.

pub mod compartido;
pub mod conexion;
pub mod config;
pub mod ejecucion;
pub mod envio;
pub mod estado;
pub mod http;
pub mod registro;
mod sistema;

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

pub use compartido::Esclavo;
pub use conexion::ClienteMaestro;
pub use config::{Config, LATIDO_POR_DEFECTO, PUERTO_POR_DEFECTO};
pub use estado::{EnCurso, EstadoEsclavo, Terminado};
pub use http::router;

/// How long requests in flight at shutdown may take to finish before they are cut.
const GRACIA: Duration = Duration::from_secs(5);

/// Runs an esclavo on `listener` until `shutdown` completes.
///
/// Returns an error only if the HTTP client cannot be built or a task fails unexpectedly;
/// an absent maestro is waited for, not an error.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let direccion = listener
        .local_addr()
        .context("listener has no local address")?;
    let url = config
        .url_publica
        .clone()
        .unwrap_or_else(|| url_por_defecto(direccion, config.transporte.esquema()));
    let cliente = ClienteMaestro::new(
        &config.maestro,
        config.token.clone(),
        config.ca.as_ref(),
        conexion::TIEMPO_PETICION,
    )?;
    let (esclavo, informes) = Esclavo::new(&config, url);
    tracing::info!(
        nombre = esclavo.nombre(),
        instancia = esclavo.instancia(),
        url = esclavo.url(),
        maestro = cliente.base(),
        capacidad = config.capacidad,
        "esclavo started"
    );

    let mut tareas = JoinSet::new();
    let mut cierre = esclavo.aviso_de_cierre();
    let parada = async move {
        let _ = cierre.wait_for(|cerrado| *cerrado).await;
    };
    let (app, transporte) = (router(esclavo.clone()), config.transporte.clone());
    tareas.spawn(async move {
        arranque::servir(listener, app, &transporte, parada)
            .await
            .context("HTTP server failed")
    });
    let registro = tareas.spawn({
        let (esclavo, cliente) = (esclavo.clone(), cliente.clone());
        async move {
            registro::mantener_registro(esclavo, cliente, config.latido).await;
            Ok(())
        }
    });
    let envio = tareas.spawn({
        let esclavo = esclavo.clone();
        async move {
            envio::enviar_resultados(esclavo, cliente, informes).await;
            Ok(())
        }
    });

    let resultado = tokio::select! {
        () = shutdown => Ok(()),
        Some(fin) = tareas.join_next() => Err(match fin {
            Ok(Ok(())) => anyhow::anyhow!("a background task of the esclavo ended"),
            Ok(Err(e)) => e,
            Err(e) => anyhow::Error::new(e).context("a background task of the esclavo crashed"),
        }),
    };
    tracing::info!("esclavo stopping; running jobs are abandoned (the maestro runs them again)");
    esclavo.cerrar();
    registro.abort();
    envio.abort();
    let terminar = async { while tareas.join_next().await.is_some() {} };
    if tokio::time::timeout(GRACIA, terminar).await.is_err() {
        tracing::warn!("requests still in flight after {GRACIA:?}; cutting them");
    }
    tareas.shutdown().await;
    resultado
}

/// `esquema://` (`http` or `https`) and the bound address; the host name instead of an
/// unspecified address (`0.0.0.0`), which the maestro could not connect to.
pub fn url_por_defecto(direccion: SocketAddr, esquema: &str) -> String {
    if direccion.ip().is_unspecified() {
        format!(
            "{esquema}://{}:{}",
            config::nombre_de_host(),
            direccion.port()
        )
    } else {
        format!("{esquema}://{direccion}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_url_never_names_an_unspecified_address() {
        assert_eq!(
            url_por_defecto("127.0.0.1:5011".parse().unwrap(), "http"),
            "http://127.0.0.1:5011"
        );
        assert_eq!(
            url_por_defecto("[::1]:7".parse().unwrap(), "https"),
            "https://[::1]:7"
        );
        let url = url_por_defecto("0.0.0.0:5011".parse().unwrap(), "https");
        assert!(url.starts_with("https://"), "{url}");
        assert!(!url.contains("0.0.0.0") && url.ends_with(":5011"), "{url}");
    }
}
