//! What the maestro can be told: one typed [`Config`], and its defaults in one place
//! ([`por_defecto`]), which `main.rs`'s flags and [`Config::new`] both read.

use std::path::PathBuf;
use std::time::Duration;

/// The defaults of the `maestro` command line (README's table and docker-compose rely on them).
pub mod por_defecto {
    use std::time::Duration;

    /// `--puerto`.
    pub const PUERTO: u16 = 5001;
    /// `--datos`.
    pub const DATOS: &str = "./datos";
    /// `--archivo`.
    pub const ARCHIVO: &str = "./trabajos.txt";
    /// `--carpeta-tareas`, inside `--datos`.
    pub const CARPETA_TAREAS: &str = "task_queues";
    /// `--plazo-esclavo-ms`.
    pub const PLAZO_ESCLAVO: Duration = Duration::from_secs(10);
    /// `--max-intentos`.
    pub const MAX_INTENTOS: u32 = 3;
    /// `--plazo-trabajo-s`.
    pub const PLAZO_TRABAJO: Duration = Duration::from_secs(3600);
    /// `--reintento-base-ms`.
    pub const REINTENTO_BASE: Duration = Duration::from_secs(1);
    /// `--plazo-memoria-ms`.
    pub const PLAZO_MEMORIA: Duration = Duration::from_secs(20);
    /// How often esclavos are asked to send a heartbeat (no flag).
    pub const LATIDO: Duration = Duration::from_secs(2);
    /// Fallback poll of the jobs file (no flag).
    pub const SONDEO_ARCHIVO: Duration = Duration::from_secs(5);
    /// Time between two samples of the time series (`GET /estadisticas/series`).
    pub const PASO_SERIES: Duration = Duration::from_secs(5);
    /// Shortest `--plazo-esclavo-ms` and `--plazo-memoria-ms` taken: shorter ones are raised
    /// to it.
    pub const PLAZO_MINIMO: Duration = Duration::from_millis(100);
}

/// Longest delay before a retry, whatever the failures so far.
pub const REINTENTO_MAX: Duration = Duration::from_secs(60);

/// A duration in whole milliseconds, as the flags take it.
pub const fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}

/// Everything the maestro can be told. `main.rs` fills it from flags and environment; tests
/// and `cliente local` build it with [`Config::new`] and change what they need.
#[derive(Debug, Clone)]
pub struct Config {
    /// Data folder: the SQLite database (`maestro.db`, unless `base`) and the jobs folder
    /// (`trabajos/`).
    pub datos: PathBuf,
    /// The jobs file to load at start and watch; `None` to watch none.
    pub archivo: Option<PathBuf>,
    /// The orchestrator's task folder to watch (`task_queues/`); `None` to watch none.
    pub carpeta_tareas: Option<PathBuf>,
    /// Cluster token required for every request but `GET /ping`, when set.
    pub token: Option<String>,
    /// Whether reads (GET) pass without the token.
    pub lecturas_abiertas: bool,
    /// How the API is served: plain HTTP or TLS, and the limits of each connection.
    pub transporte: plataforma::Transporte,
    /// The cluster's CA, trusted when calling esclavos over https.
    pub ca: Option<plataforma::Ca>,
    /// An esclavo silent for longer than this is lost and its jobs run again.
    pub plazo_esclavo: Duration,
    /// How often esclavos are asked to send a heartbeat.
    pub latido: Duration,
    /// Failed attempts after which a job is `fallido`.
    pub max_intentos: u32,
    /// Time limit of each attempt of a job that sets none (`plazo_s`); zero: none. The
    /// esclavo stops an attempt past its limit; the maestro fails it itself if no answer comes
    /// within two heartbeat periods and 2 s more ([`Config::gracia_plazo`]).
    pub plazo_trabajo: Duration,
    /// Delay before retrying a job after its first failed attempt (error or time limit); it
    /// doubles with each failure, up to [`REINTENTO_MAX`]. A lost or restarted esclavo's jobs
    /// go back at once.
    pub reintento_base: Duration,
    /// Fallback poll of the jobs file and the task folder, for file systems without change
    /// notification.
    pub sondeo_archivo: Duration,
    /// A memoria report older than this is stale: its alerts no longer steer jobs.
    pub plazo_memoria: Duration,
    /// Whether a commit waits for the disk (survives the machine) or only for the OS (survives
    /// the process). SQLite's alone.
    pub sincronizacion: Sincronizacion,
    /// The PostgreSQL database to keep the jobs in; `None`: SQLite, `maestro.db` in `datos`.
    pub base: Option<crate::almacen::postgres::Base>,
    /// With `base`: the leadership this maestro holds among replicas (its epoch,
    /// [`crate::almacen::postgres::lider`]); its writes are refused once another replica takes
    /// over. `None`: the only maestro on its database.
    pub epoca_lider: Option<i64>,
    /// With `epoca_lider`: the replicas as the leader last read them from the database, for
    /// `GET /estado`.
    pub replicas: Option<tokio::sync::watch::Receiver<Vec<comun::api::InfoReplica>>>,
    /// Time between two samples of the time series; they keep [`crate::series::CAPACIDAD`].
    pub paso_series: Duration,
}

impl Config {
    /// The defaults of the `maestro` binary, with the given data folder and no watched file.
    pub fn new(datos: impl Into<PathBuf>) -> Self {
        Self {
            datos: datos.into(),
            archivo: None,
            carpeta_tareas: None,
            token: None,
            lecturas_abiertas: false,
            transporte: plataforma::Transporte::default(),
            ca: None,
            plazo_esclavo: por_defecto::PLAZO_ESCLAVO,
            latido: por_defecto::LATIDO,
            max_intentos: por_defecto::MAX_INTENTOS,
            plazo_trabajo: por_defecto::PLAZO_TRABAJO,
            reintento_base: por_defecto::REINTENTO_BASE,
            sondeo_archivo: por_defecto::SONDEO_ARCHIVO,
            plazo_memoria: por_defecto::PLAZO_MEMORIA,
            sincronizacion: Sincronizacion::default(),
            base: None,
            epoca_lider: None,
            replicas: None,
            paso_series: por_defecto::PASO_SERIES,
        }
    }

    /// Where `POST /cargar_trabajos` may read named files from.
    pub fn carpeta_trabajos(&self) -> PathBuf {
        self.datos.join("trabajos")
    }

    /// How long past its time limit an attempt may go before the maestro fails it itself (its
    /// esclavo normally reports it first): two heartbeat periods and 2 s.
    pub fn gracia_plazo(&self) -> Duration {
        2 * self.latido + Duration::from_secs(2)
    }
}

/// How hard a commit waits for the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sincronizacion {
    /// `full`: every commit is on disk (fsync) before it is acknowledged.
    #[default]
    Completa,
    /// `normal`: commits survive a killed process, not a lost machine.
    Normal,
}

impl std::str::FromStr for Sincronizacion {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "full" | "completa" => Ok(Sincronizacion::Completa),
            "normal" => Ok(Sincronizacion::Normal),
            _ => Err(format!(
                "'{s}' is not a synchronisation mode (expected full or normal)"
            )),
        }
    }
}

impl std::fmt::Display for Sincronizacion {
    /// The flag's spelling: `full` or `normal`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Sincronizacion::Completa => "full",
            Sincronizacion::Normal => "normal",
        })
    }
}
