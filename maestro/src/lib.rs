//! The maestro: a durable priority queue of jobs, pushed over HTTP to the esclavos that
//! registered with it.
//!
//! Layout:
//! - [`cola`]: the in-memory priority queue (priority, then FIFO; O(log n)).
//! - [`reintentos`]: jobs waiting out the delay before their retry, by due instant.
//! - [`planificador`]: the scheduling decision as a pure function, and why a job waits.
//! - [`estado`]: the live state and every transition of a job's life, without I/O.
//! - [`db`]: SQLite (WAL) with one writer thread doing group commits; recovery at start.
//! - [`compartido`]: what tasks and handlers share; decide under the lock, commit, publish.
//! - [`despacho`]: the event-driven dispatcher, the watchdog (lost esclavos, attempts past
//!   their time limit) and the requests that tell esclavos to stop attempts.
//! - [`archivo`]: the watched `trabajos.txt`.
//! - [`http`]: the API.
//!
//! [`run`] is the entry point: it takes a config, an already bound listener and a shutdown
//! future, so `main.rs`, the tests and `cliente local` all start it the same way.

pub mod archivo;
pub mod cola;
pub mod compartido;
pub mod db;
pub mod despacho;
pub mod estado;
pub mod http;
pub mod planificador;
pub mod reintentos;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::compartido::Compartido;
use crate::estado::{Estado, Reglas};

/// Everything the maestro can be told.
#[derive(Debug, Clone)]
pub struct Config {
    /// Data folder: the database (`maestro.db`) and the jobs folder (`trabajos/`).
    pub datos: PathBuf,
    /// The jobs file to load at start and watch; `None` to watch none.
    pub archivo: Option<PathBuf>,
    /// Cluster token required for every request but `GET /ping`, when set.
    pub token: Option<String>,
    /// Whether reads (GET) pass without the token.
    pub lecturas_abiertas: bool,
    /// How the API is served: plain HTTP or TLS, and the limits of each connection.
    pub transporte: arranque::Transporte,
    /// The cluster's CA, trusted when calling esclavos over https.
    pub ca: Option<arranque::Ca>,
    /// An esclavo silent for longer than this is lost and its jobs run again.
    pub plazo_esclavo: Duration,
    /// How often esclavos are asked to send a heartbeat.
    pub latido: Duration,
    /// Failed attempts after which a job is `fallido`.
    pub max_intentos: u32,
    /// Time limit of each attempt of a job that sets none (`plazo_s`); zero: none. The
    /// esclavo stops an attempt past its limit; the maestro fails it itself if no answer comes
    /// within two heartbeat periods and 2 s more.
    pub plazo_trabajo: Duration,
    /// Delay before retrying a job after its first failed attempt (error or time limit); it
    /// doubles with each failure, up to [`estado::REINTENTO_MAX`]. A lost or restarted
    /// esclavo's jobs go back at once.
    pub reintento_base: Duration,
    /// Fallback poll of the jobs file, for file systems without change notification.
    pub sondeo_archivo: Duration,
    /// A memoria report older than this is stale: its alerts no longer steer jobs.
    pub plazo_memoria: Duration,
    /// Whether a commit waits for the disk (survives the machine) or only for the OS (survives
    /// the process).
    pub sincronizacion: db::Sincronizacion,
}

impl Config {
    /// The defaults of the `maestro` binary, with the given data folder and no watched file.
    pub fn new(datos: impl Into<PathBuf>) -> Self {
        Self {
            datos: datos.into(),
            archivo: None,
            token: None,
            lecturas_abiertas: false,
            transporte: arranque::Transporte::default(),
            ca: None,
            plazo_esclavo: Duration::from_secs(10),
            latido: Duration::from_secs(2),
            max_intentos: 3,
            plazo_trabajo: Duration::from_secs(3600),
            reintento_base: Duration::from_secs(1),
            sondeo_archivo: Duration::from_secs(5),
            plazo_memoria: Duration::from_secs(20),
            sincronizacion: db::Sincronizacion::Completa,
        }
    }

    /// Where `POST /cargar_trabajos` may read named files from.
    pub fn carpeta_trabajos(&self) -> PathBuf {
        self.datos.join("trabajos")
    }
}

/// Serves the maestro on `listener` until `shutdown` completes.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (datos, sincronizacion) = (config.datos.clone(), config.sincronizacion);
    let (db, recuperado) =
        tokio::task::spawn_blocking(move || db::Db::abrir(&datos, sincronizacion))
            .await
            .context("opening the database")??;
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
    let reglas = Reglas {
        plazo_trabajo: config.plazo_trabajo,
        gracia_plazo: 2 * config.latido + Duration::from_secs(2),
        reintento_base: config.reintento_base,
        ..Reglas::new(config.max_intentos.max(1), config.plazo_memoria)
    };
    let (parar_tx, parar_rx) = watch::channel(false);
    let c = Compartido::new(
        config.clone(),
        db,
        Estado::new(recuperado, reglas),
        parar_rx.clone(),
    );
    let mut tareas = tokio::task::JoinSet::new();
    tareas.spawn(despacho::despachar(c.clone(), parar_rx.clone()));
    tareas.spawn(despacho::vigilar_esclavos(c.clone(), parar_rx.clone()));
    if let Some(ruta) = config.archivo.clone() {
        tareas.spawn(archivo::vigilar(c.clone(), ruta, parar_rx.clone()));
    }
    c.despertar.notify_one();
    let apagado = async move {
        shutdown.await;
        let _ = parar_tx.send(true);
    };
    arranque::servir(listener, http::router(c), &config.transporte, apagado)
        .await
        .context("serving HTTP")?;
    while tareas.join_next().await.is_some() {}
    Ok(())
}
