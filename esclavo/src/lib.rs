//! The esclavo: a worker of the cluster. It registers with the maestro, keeps a heartbeat, runs
//! the jobs the maestro pushes to it (up to `capacidad` at once) and posts their results back.
//!
//! # Layout
//!
//! - [`config`]: [`Config`], what a process needs to start.
//! - [`http`]: the routes (`/ping`, `/estado`, `/ejecutar`, `/cancelar`) and their handlers.
//! - `ranuras`: the job slots, each running attempt's stop (`/cancelar`, the heartbeat's
//!   `cancelar` list, its time limit) and the record of those that ended.
//! - [`gpus`]: the GPUs as slots of `Cuda` jobs (`--ranuras-por-gpu` each) and the choice of
//!   the device a job runs on, as plain code.
//! - [`ejecucion`]: running an accepted job in its slot: kernels on the blocking pool,
//!   `espera` jobs on timers; its result queued for the maestro.
//! - [`envio`]: one task that batches finished results and retries each batch until the
//!   maestro acknowledges it.
//! - [`registro`]: registration with backoff, the heartbeat, re-registration on 404.
//! - [`drenaje`]: the drain at shutdown: refuse, wait for the running jobs up to the grace
//!   period, hand the rest back.
//! - [`conexion`]: the maestro's API as one keep-alive `reqwest` client.
//! - [`entradas`]: the uploaded PNGs `imagen` jobs name, fetched from the maestro before the
//!   kernel runs and kept in a small cache.
//! - [`metricas`]: the Prometheus metrics of `GET /metrics` (slots, attempts by tipo and
//!   outcome, kernel time by tipo and backend, results waiting for delivery).
//! - [`servicio`]: [`Esclavo`], the handle of a running esclavo that handlers and tasks share.
//! - [`vista`]: [`EstadoEsclavo`], the body of `GET /estado`.
//! - `sistema`: capabilities (the GPUs detected once per process) and load, via `sysinfo`.
//!
//! # Lifecycle
//!
//! [`run`] serves on the listener it is given, registers, heartbeats and sends results until the
//! shutdown future completes ([`plataforma::Tareas`]). Then it **drains** ([`drenaje`]): it
//! refuses new jobs and says so in a heartbeat sent at once (the maestro sends it nothing
//! more), lets the running jobs finish and their results reach the maestro for up to
//! [`Config::gracia`], and hands back whatever still runs (`POST /esclavos/{nombre}/baja`: the
//! maestro queues those jobs again at once, without counting a failure). Then it stops
//! accepting requests, stops heartbeating, stops the background tasks and returns; attempts
//! still running are abandoned, their kernels told to stop. A process killed outright
//! (SIGKILL) is safe too, only slower: the maestro sees the heartbeats stop (or a new
//! `instancia` under the same name) and runs those jobs again.

pub mod conexion;
pub mod config;
pub mod drenaje;
pub mod ejecucion;
pub mod entradas;
pub mod envio;
pub mod gpus;
pub mod http;
pub mod metricas;
mod ranuras;
pub mod registro;
pub mod servicio;
mod sistema;
pub mod vista;

use std::future::Future;
use std::net::SocketAddr;

use anyhow::Context as _;
use tokio::net::TcpListener;

pub use conexion::ClienteMaestro;
pub use config::{
    Config, GRACIA_POR_DEFECTO, LATIDO_POR_DEFECTO, PUERTO_POR_DEFECTO, RANURAS_POR_GPU,
};
pub use gpus::GpuEnUso;
pub use http::router;
pub use servicio::Esclavo;
pub use vista::{EnCurso, EstadoEsclavo, Terminado};

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
    esclavo.entradas.conectar(cliente.clone());
    tracing::info!(
        nombre = esclavo.nombre(),
        instancia = esclavo.instancia(),
        url = esclavo.url(),
        maestro = cliente.base(),
        capacidad = config.capacidad,
        capacidad_gpu = esclavo.registro().capacidad_gpu,
        "esclavo started"
    );

    let mut tareas = plataforma::Tareas::new("esclavo");
    tareas.servir(listener, router(esclavo.clone()), config.transporte.clone());
    tareas.bucle({
        let (esclavo, cliente) = (esclavo.clone(), cliente.clone());
        async move {
            registro::mantener_registro(esclavo, cliente, config.latido).await;
            Ok(())
        }
    });
    tareas.bucle({
        let (esclavo, cliente) = (esclavo.clone(), cliente.clone());
        async move {
            envio::enviar_resultados(esclavo, cliente, informes).await;
            Ok(())
        }
    });
    let drenaje = {
        let esclavo = esclavo.clone();
        async move {
            shutdown.await;
            drenaje::drenar(&esclavo, &cliente, config.gracia).await;
        }
    };
    tareas.hasta(drenaje, || esclavo.cerrar()).await
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
