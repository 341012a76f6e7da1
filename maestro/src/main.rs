//! The `maestro` binary: parses the command line into a [`Config`], binds the port and runs
//! [`maestro::run`] until SIGINT or SIGTERM.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use maestro::config::{Config, Sincronizacion, ms, por_defecto};

/// The maestro of the HPC cluster: a durable priority queue of jobs pushed to esclavos.
///
/// Jobs arrive four ways: the HTTP API (POST /agregar_trabajo, /trabajos, /cargar_trabajos,
/// /tasks), the `cliente` CLI, the watched jobs file (--archivo), whose new lines are queued the
/// moment they are written, and the orchestrator's task folder (--carpeta-tareas), whose JSON
/// files are queued whole. Every accepted job is stored before it is acknowledged, in SQLite (in
/// --datos) or in PostgreSQL (--base); kill the maestro and start it again on the same store and
/// nothing is lost.
#[derive(Parser, Debug)]
#[command(version, about, long_about)]
struct Args {
    /// TCP port to listen on (0: any free port; the first line of output says which).
    #[arg(long, env = "PUERTO", default_value_t = por_defecto::PUERTO)]
    puerto: u16,
    /// Data folder: database, and the jobs folder `trabajos/` for POST /cargar_trabajos.
    #[arg(long, env = "DATOS", default_value = por_defecto::DATOS)]
    datos: PathBuf,
    /// Jobs file to load at start and watch (lines `algoritmo,width,height,iteraciones,prioridad`).
    #[arg(long, env = "ARCHIVO_TRABAJOS", default_value = por_defecto::ARCHIVO)]
    archivo: PathBuf,
    /// Do not load or watch any jobs file.
    #[arg(long)]
    sin_archivo: bool,
    /// The orchestrator's task folder: JSON task files dropped here are queued whole and moved
    /// to processed/, or refused whole and moved to rechazados/ with a .error.json naming
    /// each bad task [default: <datos>/task_queues]
    #[arg(long, env = "CARPETA_TAREAS")]
    carpeta_tareas: Option<PathBuf>,
    /// Do not watch any task folder.
    #[arg(long)]
    sin_carpeta_tareas: bool,
    /// Cluster token: esclavos and clients must present it on every request but GET /ping
    /// (reads too, unless --lecturas-abiertas).
    #[arg(long, env = "HPC_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Milliseconds without a heartbeat after which an esclavo is lost and its jobs run again.
    #[arg(long, env = "PLAZO_ESCLAVO_MS", default_value_t = ms(por_defecto::PLAZO_ESCLAVO))]
    plazo_esclavo_ms: u64,
    /// Failed attempts after which a job is marked fallido.
    #[arg(long, env = "MAX_INTENTOS", default_value_t = por_defecto::MAX_INTENTOS)]
    max_intentos: u32,
    /// Time limit in seconds of each attempt of a job that sets none (plazo_s); past it the
    /// attempt is stopped and counts as failed. 0: no limit.
    #[arg(long, env = "PLAZO_TRABAJO_S", default_value_t = por_defecto::PLAZO_TRABAJO.as_secs())]
    plazo_trabajo_s: u64,
    /// Milliseconds before retrying a job after its first failed attempt; the delay doubles
    /// with each failure, up to 60 s.
    #[arg(long, env = "REINTENTO_BASE_MS", default_value_t = ms(por_defecto::REINTENTO_BASE))]
    reintento_base_ms: u64,
    /// Milliseconds after which a memoria node's last report is stale and its alerts steer nothing.
    #[arg(long, env = "PLAZO_MEMORIA_MS", default_value_t = ms(por_defecto::PLAZO_MEMORIA))]
    plazo_memoria_ms: u64,
    /// The store: a PostgreSQL database (13 or later) instead of SQLite in --datos, as
    /// postgresql://user:password@host:port/database or libpq's "host=… dbname=…". Its schema
    /// is created or upgraded at start. Without it: SQLite, the file maestro.db in --datos.
    #[arg(long, env = "BASE_DATOS", hide_env_values = true, value_parser = maestro::almacen::postgres::base)]
    base: Option<maestro::almacen::postgres::Base>,
    /// With --base: this replica's name, unique among the maestros sharing the database
    /// (one started again under its name takes its leadership back at once)
    /// [default: <host name>-<port>].
    #[arg(long, env = "REPLICA", requires = "base")]
    replica: Option<String>,
    /// With --base: the URL at which the other replicas reach this one while it leads
    /// [default: http://127.0.0.1:<port>, https with TLS].
    #[arg(long, env = "URL_REPLICA", requires = "base")]
    url_replica: Option<String>,
    /// With --base: milliseconds the leader's lease lasts without a renewal (renewed every
    /// third of it); a follower takes over at most about 4/3 of it after the leader's death.
    #[arg(long, env = "PLAZO_LIDER_MS", default_value_t = ms(maestro::replicas::PLAZO),
          value_parser = clap::value_parser!(u64).range(300..=600_000))]
    plazo_lider_ms: u64,
    /// SQLite only (PostgreSQL commits as its server is set to: synchronous_commit).
    /// full: every accepted job and result is on disk before it is acknowledged (survives a
    /// power cut); normal: it survives a killed maestro but not a lost machine, for several
    /// times the throughput on disks with slow fsync.
    #[arg(long, env = "SINCRONIZACION", default_value_t = Sincronizacion::default())]
    sincronizacion: Sincronizacion,
    #[command(flatten)]
    red: plataforma::ArgsRed,
}

impl Args {
    /// The replica's name, URL and lease time, as given.
    fn replica(&mut self) -> (Option<String>, Option<String>, Duration) {
        (
            self.replica.take(),
            self.url_replica.take(),
            Duration::from_millis(self.plazo_lider_ms),
        )
    }

    /// The library's config: the flags, with the two staleness limits raised to the minimum.
    fn config(self) -> anyhow::Result<Config> {
        let minimo = |ms| Duration::from_millis(ms).max(por_defecto::PLAZO_MINIMO);
        Ok(Config {
            archivo: (!self.sin_archivo).then_some(self.archivo),
            carpeta_tareas: (!self.sin_carpeta_tareas).then(|| {
                self.carpeta_tareas
                    .unwrap_or_else(|| self.datos.join(por_defecto::CARPETA_TAREAS))
            }),
            token: self.token.filter(|t| !t.is_empty()),
            plazo_esclavo: minimo(self.plazo_esclavo_ms),
            max_intentos: self.max_intentos,
            plazo_trabajo: Duration::from_secs(self.plazo_trabajo_s),
            reintento_base: Duration::from_millis(self.reintento_base_ms),
            plazo_memoria: minimo(self.plazo_memoria_ms),
            sincronizacion: self.sincronizacion,
            base: self.base,
            lecturas_abiertas: self.red.lecturas_abiertas,
            transporte: self.red.transporte()?,
            ca: self.red.ca,
            ..Config::new(self.datos)
        })
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = Args::parse();
    plataforma::iniciar_logs();
    let puerto = args.puerto;
    let replica = args.replica();
    let config = args.config()?;
    let listener = plataforma::escuchar("maestro", puerto, &config.transporte).await?;
    if config.base.is_none() {
        return maestro::run(config, listener, plataforma::senal_de_parada()).await;
    }
    let puerto = listener.local_addr()?.port();
    let replica = maestro::replicas::Replica {
        nombre: replica
            .0
            .unwrap_or_else(|| format!("{}-{puerto}", nombre_de_host())),
        url: replica
            .1
            .unwrap_or_else(|| format!("{}://127.0.0.1:{puerto}", config.transporte.esquema())),
        plazo: replica.2,
    };
    maestro::replicas::run(config, replica, listener, plataforma::senal_de_parada()).await
}

/// This machine's name, for a replica's default name.
fn nombre_de_host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "maestro".into())
}
