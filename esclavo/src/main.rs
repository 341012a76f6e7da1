//! The `esclavo` binary: parses the command line, binds the port and runs [`esclavo::run`]
//! until SIGINT or SIGTERM.

use std::time::Duration;

use clap::Parser;
use esclavo::Config;

/// Command line of the esclavo; every flag can also come from the environment.
#[derive(Debug, Parser)]
#[command(
    name = "esclavo",
    version,
    about = "Worker of the HPC cluster: runs the jobs the maestro sends it",
    long_about = "Worker (esclavo) of the HPC cluster.\n\n\
        An esclavo registers itself with the maestro, sends it a heartbeat every couple of \
        seconds with its CPU and memory use, and serves POST /ejecutar: the maestro pushes jobs \
        (Julia fractals, espera sleeps) to it, it runs up to --capacidad of them at once and \
        posts each result back, keeping results in memory until the maestro acknowledges them. \
        If the maestro restarts or forgets it, it registers again by itself.\n\n\
        On SIGTERM (docker stop, a Kubernetes scale-down) it drains: it refuses new jobs, tells \
        the maestro, lets the running ones finish for up to --gracia-s seconds and delivers \
        their results, then hands whatever still runs back to the maestro (queued again at \
        once, not counted as a failure) and exits 0.\n\n\
        Built with the `cuda` feature, it registers every GPU it can use (name, memory, compute \
        capability) and runs each Cuda job on one of them: the free GPU running the fewest \
        jobs, then the one with more memory. Each GPU runs --ranuras-por-gpu Cuda jobs at once \
        (each also takes one of --capacidad). Limit the GPUs it sees with \
        CUDA_VISIBLE_DEVICES.\n\n\
        On start it prints `esclavo escuchando en http://127.0.0.1:PORT` (https:// with \
        --tls-cert) as its first line. \
        Logs go to stderr; set RUST_LOG (e.g. RUST_LOG=esclavo=debug) for more detail."
)]
struct Args {
    /// Port to listen on (0 = any free port; the first output line says which).
    #[arg(long, env = "PUERTO", default_value_t = esclavo::PUERTO_POR_DEFECTO)]
    puerto: u16,

    #[command(flatten)]
    maestro: plataforma::ArgsMaestro,

    /// Name of this esclavo, unique in the cluster [default: host name and port, e.g. nodo1-5011].
    #[arg(long, env = "ESCLAVO")]
    nombre: Option<String>,

    /// URL the maestro reaches this esclavo at [default: from the bound address, with the host
    /// name when bound to all interfaces].
    #[arg(long = "url-publica", env = "URL_PUBLICA", value_name = "URL")]
    url_publica: Option<String>,

    /// Jobs run at once; more are refused as busy [default: the number of cores].
    #[arg(long, env = "CAPACIDAD", value_parser = clap::value_parser!(u32).range(1..))]
    capacidad: Option<u32>,

    /// Cuda jobs each GPU runs at once; more wait at the maestro (1: a job has its GPU to
    /// itself, and its kernel time is its own).
    #[arg(long = "ranuras-por-gpu", env = "RANURAS_POR_GPU",
          default_value_t = esclavo::RANURAS_POR_GPU,
          value_parser = clap::value_parser!(u32).range(1..=64))]
    ranuras_por_gpu: u32,

    /// Host name memoria alerts for this machine use [default: this host's name].
    #[arg(long, env = "NODO")]
    nodo: Option<String>,

    /// Bearer token: required on every request but GET /ping (reads too, unless
    /// --lecturas-abiertas) and sent to the maestro [default: none].
    #[arg(long, env = "HPC_TOKEN", hide_env_values = true)]
    token: Option<String>,

    /// Milliseconds between heartbeats (shorter if the maestro asks for it).
    #[arg(long = "latido-ms", env = "LATIDO_MS",
          default_value_t = esclavo::LATIDO_POR_DEFECTO.as_millis() as u64,
          value_parser = clap::value_parser!(u64).range(10..))]
    latido_ms: u64,

    /// On SIGTERM or SIGINT, seconds the running jobs may go on finishing (new ones are
    /// refused, the maestro sends none) before the rest are handed back to the maestro, which
    /// queues them again at once without counting a failure; 0 hands them back at once.
    /// Keep it under the time your supervisor waits before SIGKILL (Kubernetes:
    /// terminationGracePeriodSeconds, 30 by default; Docker: stop_grace_period, 10 by default).
    #[arg(long = "gracia-s", env = "GRACIA_S", value_name = "SECONDS",
          default_value_t = esclavo::GRACIA_POR_DEFECTO.as_secs_f64(),
          value_parser = segundos_de_gracia)]
    gracia_s: f64,

    #[command(flatten)]
    red: plataforma::ArgsRed,
}

/// A grace period in seconds: a number from 0 to 3600.
fn segundos_de_gracia(texto: &str) -> Result<f64, String> {
    plataforma::args::segundos_entre(texto, 0.0, 3600.0).map(|d| d.as_secs_f64())
}

impl Args {
    /// The library's config, with the defaults the flags document.
    fn config(self, puerto: u16, transporte: plataforma::Transporte) -> Config {
        let host = esclavo::config::nombre_de_host();
        let maestro = self
            .maestro
            .url()
            .unwrap_or_else(|| esclavo::config::MAESTRO_POR_DEFECTO.into());
        Config {
            maestro,
            nombre: self.nombre.unwrap_or_else(|| format!("{host}-{puerto}")),
            url_publica: self.url_publica.filter(|u| !u.is_empty()),
            capacidad: self.capacidad.unwrap_or_else(esclavo::config::nucleos),
            ranuras_por_gpu: self.ranuras_por_gpu,
            gpus: None,
            nodo: self.nodo.unwrap_or(host),
            token: self.token.filter(|t| !t.is_empty()),
            lecturas_abiertas: self.red.lecturas_abiertas,
            transporte,
            ca: self.red.ca,
            latido: Duration::from_millis(self.latido_ms),
            gracia: Duration::from_secs_f64(self.gracia_s),
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    plataforma::iniciar_logs();
    let transporte = args.red.transporte()?;
    let listener = plataforma::escuchar("esclavo", args.puerto, &transporte).await?;
    let puerto = listener.local_addr()?.port();
    let config = args.config(puerto, transporte);
    esclavo::run(config, listener, plataforma::senal_de_parada()).await
}
