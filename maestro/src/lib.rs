//! The maestro: a durable priority queue of jobs, pushed over HTTP to the esclavos that
//! registered with it.
//!
//! Layout:
//! - [`config`]: the settings and their defaults.
//! - [`cola`]: the in-memory priority queue (priority, then FIFO; O(log n)).
//! - [`reintentos`]: jobs waiting out the delay before their retry, by due instant.
//! - [`planificador`]: the scheduling decision as a pure function, and why a job waits.
//! - [`ids`]: the typed identities of an esclavo process and of an attempt.
//! - [`estado`]: the live state (jobs, esclavos, memoria nodes) and every transition of a
//!   job's life, without I/O.
//! - [`almacen`]: the durable store behind a seam (SQLite today), its group-commit writer
//!   and recovery at start.
//! - [`servicio`]: the service handle every task and handler shares, and the one path of
//!   every change of state: decide under the lock, commit, publish.
//! - [`despacho`]: the event-driven dispatcher and the watchdog (lost esclavos, attempts past
//!   their time limit).
//! - [`archivo`]: the watched `trabajos.txt`.
//! - [`entradas`]: the uploaded images jobs name as `entrada`: every door refuses a job naming
//!   one the store lacks.
//! - [`estadisticas`]: figures since start (times by tipo and backend, throughput, speedups,
//!   each esclavo's history), bounded, fed by the state's transitions.
//! - [`series`]: the last hour's time series, sampled by a task of their own.
//! - [`operaciones`]: what an operator does with jobs (a filtered page, retry, new
//!   priority), as operations of the service that the API and the dashboard share.
//! - [`http`]: the API.
//! - [`metricas`]: the Prometheus metrics of `GET /metrics`: events counted from the changes
//!   transitions decide, the rest read from the state when scraped.
//! - [`panel`]: the dashboard at `/`, rendered on the server, live over server-sent events.
//!
//! [`run`] is the entry point: it takes a config, an already bound listener and a shutdown
//! future, so `main.rs`, the tests and `cliente local` all start it the same way.

pub mod almacen;
pub mod archivo;
pub mod carpeta;
pub mod cola;
pub mod config;
pub mod despacho;
pub mod entradas;
pub mod estadisticas;
pub mod estado;
pub mod http;
pub mod ids;
pub mod metricas;
pub mod operaciones;
pub mod panel;
pub mod planificador;
pub mod reintentos;
pub mod replicas;
pub mod series;
pub mod servicio;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::almacen::Almacen;
use crate::estado::{Estado, Reglas};
use crate::servicio::Servicio;
pub use config::{Config, Sincronizacion};

/// Serves the maestro on `listener` until `shutdown` completes.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (almacen, recuperado) = {
        let config = config.clone();
        tokio::task::spawn_blocking(move || Almacen::abrir(&config))
            .await
            .context("opening the database")??
    };
    std::fs::create_dir_all(config.carpeta_trabajos()).with_context(|| {
        format!(
            "creating the jobs folder {}",
            config.carpeta_trabajos().display()
        )
    })?;
    tracing::info!(
        pendientes = recuperado.pendientes.len(),
        reencolados = recuperado.reencolados,
        "queue recovered from {}",
        config.datos.display()
    );
    let reglas = Reglas::de(&config);
    let (parar_tx, parar_rx) = watch::channel(false);
    let s = Servicio::new(
        config.clone(),
        almacen,
        Estado::new(recuperado, reglas),
        parar_rx.clone(),
    )?;
    let mut tareas = tokio::task::JoinSet::new();
    tareas.spawn(despacho::despachar(s.clone(), parar_rx.clone()));
    tareas.spawn(despacho::vigilar(s.clone(), parar_rx.clone()));
    tareas.spawn(series::muestrear(s.clone(), parar_rx.clone()));
    if let Some(ruta) = config.archivo.clone() {
        tareas.spawn(archivo::vigilar(s.clone(), ruta, parar_rx.clone()));
    }
    if let Some(carpeta) = config.carpeta_tareas.clone() {
        tareas.spawn(carpeta::vigilar(s.clone(), carpeta, parar_rx.clone()));
    }
    s.despertar.notify_one();
    let apagado = async move {
        shutdown.await;
        let _ = parar_tx.send(true);
    };
    plataforma::servir(listener, http::router(s), &config.transporte, apagado)
        .await
        .context("serving HTTP")?;
    while tareas.join_next().await.is_some() {}
    Ok(())
}
