//! The memoria: a node's resource monitor. It samples the host every few seconds (CPU use, load
//! average, memory, swap, each filesystem and, where an NVIDIA driver is present, each GPU),
//! raises alerts when a resource crosses its thresholds, serves what it sees over HTTP and
//! reports it to the maestro, which steers new jobs away from nodes in trouble.
//!
//! # Layout
//!
//! - [`config`]: [`Config`], the defaults and the `aviso,critico` threshold syntax.
//! - [`alertas`]: **the alert engine, pure code**: [`Umbrales`], [`Politica`], [`Evaluador`]
//!   (two levels with hysteresis per resource) and the [`Cambios`] of each sample.
//! - [`historial`]: the ring buffer of recent samples.
//! - [`fuente`]: the [`Fuente`] trait and [`FuenteSistema`] (`sysinfo`); `gpu`: NVML, loaded
//!   at run time.
//! - `muestreo`: the sampler task; `reporte`: the reporter task (periodic, and at once on an
//!   alert change, retrying with backoff); `conexion`: the maestro's `POST /reporte_memoria`.
//! - [`servicio`]: [`Memoria`], the handle of a running memoria that the tasks and handlers
//!   share: samples and alerts behind one lock.
//! - [`metricas`]: the Prometheus metrics of `GET /metrics`: every sampled value, the active
//!   alerts, the samples taken.
//! - [`http`]: the routes (`/ping`, `/metricas`, `/historial`, `/alertas`) and their handlers.
//!
//! # Lifecycle
//!
//! [`run`] serves on the listener it is given, samples every `intervalo` (the first sample at
//! once) and, when a maestro is configured, reports until the shutdown future completes; then
//! it stops sampling and reporting, lets requests in flight finish and returns. Without a
//! maestro it runs standalone: the HTTP API only. A maestro that is away is retried for as long
//! as it takes; only the latest state is ever sent, so nothing piles up meanwhile.

pub mod alertas;
mod conexion;
pub mod config;
pub mod fuente;
mod gpu;
pub mod historial;
pub mod http;
pub mod metricas;
mod muestreo;
mod reporte;
pub mod servicio;

use std::future::Future;

use anyhow::Context as _;
use tokio::net::TcpListener;

pub use alertas::{Cambios, ErrorUmbrales, Evaluador, Politica, Umbrales};
pub use config::{Config, Niveles, PUERTO_POR_DEFECTO};
pub use fuente::{Fuente, FuenteSistema};
pub use http::router;
pub use servicio::Memoria;

/// Runs a memoria on `listener`, sampling this host, until `shutdown` completes.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    // Opening the readers loads NVML and reads /proc: blocking work.
    let fuente = tokio::task::spawn_blocking(FuenteSistema::new)
        .await
        .context("opening the resource readers panicked")?;
    run_con_fuente(config, listener, fuente, shutdown).await
}

/// [`run`] with samples taken from `fuente`: tests script the samples with it.
///
/// Returns an error only if the HTTP client cannot be built or a task fails unexpectedly (the
/// source panics); an absent maestro is retried, not an error.
pub async fn run_con_fuente(
    config: Config,
    listener: TcpListener,
    fuente: impl Fuente,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let cliente = config
        .maestro
        .as_deref()
        .map(|base| {
            conexion::ClienteMaestro::new(
                base,
                config.token.clone(),
                config.ca.as_ref(),
                conexion::TIEMPO_PETICION,
            )
        })
        .transpose()?;
    let memoria = Memoria::new(&config);
    tracing::info!(
        nodo = memoria.nodo(),
        instancia = memoria.instancia(),
        intervalo = ?config.intervalo,
        maestro = cliente.as_ref().map_or("(none)", |c| c.base()),
        "memoria started"
    );
    if cliente.is_none() {
        tracing::warn!(
            "no maestro configured (--maestro, MAESTRO_URL or MAESTRO_IP): running standalone, not reporting"
        );
    }

    // The first sample before the service answers: `/metricas` never says "no sample yet".
    // Polling `shutdown` alongside installs its signal handlers before anything is served,
    // and a signal during that sample stops the memoria cleanly.
    let mut shutdown = std::pin::pin!(shutdown);
    let fuente = tokio::select! {
        fuente = muestreo::primera(&memoria, fuente) => fuente?,
        () = &mut shutdown => return Ok(()),
    };
    let mut tareas = plataforma::Tareas::new("memoria");
    tareas.servir(listener, router(memoria.clone()), config.transporte.clone());
    tareas.bucle(muestreo::muestrear(
        memoria.clone(),
        fuente,
        config.intervalo,
    ));
    if let Some(cliente) = cliente {
        tareas.bucle(async move {
            reporte::reportar(memoria, cliente).await;
            Ok(())
        });
    }
    tareas.hasta(shutdown, || {}).await
}
