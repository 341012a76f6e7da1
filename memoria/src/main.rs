//! The `memoria` binary: parses the command line, binds the port and runs [`memoria::run`]
//! until SIGINT or SIGTERM.

use std::time::Duration;

use clap::{CommandFactory as _, Parser};
use memoria::config::{
    self, HISTERESIS_POR_DEFECTO, HISTORIAL_POR_DEFECTO, UMBRAL_CPU, UMBRAL_DISCO,
    UMBRAL_GPU_MEMORIA, UMBRAL_MEMORIA, UMBRAL_SWAP,
};
use memoria::{Config, Niveles, Politica};

/// Command line of the memoria; every flag can also come from the environment.
#[derive(Debug, Parser)]
#[command(
    name = "memoria",
    version,
    about = "Resource monitor of the HPC cluster: watches a node and reports alerts to the maestro",
    long_about = "Resource monitor (memoria) of the HPC cluster.\n\n\
        A memoria samples its host every --intervalo seconds: CPU use, load average, memory and \
        swap, the use of each mounted filesystem and, where an NVIDIA driver is present, GPU \
        memory and utilisation. A resource over its aviso or critico threshold raises an alert; \
        the alert ends only when the value falls --histeresis points below the threshold, so a \
        value hovering at a threshold does not flap. It reports to the maestro \
        (POST /reporte_memoria) every interval and at once when an alert starts or ends, and \
        keeps retrying while the maestro is away; the maestro steers new jobs away from the \
        esclavos of a node in trouble. Without a maestro it runs standalone.\n\n\
        It serves GET /ping, /metricas (the latest sample), /historial?desde=<ms> and /alertas.\n\n\
        On start it prints `memoria escuchando en http://127.0.0.1:PORT` (https:// with \
        --tls-cert) as its first line. \
        Logs go to stderr; set RUST_LOG (e.g. RUST_LOG=memoria=debug) for more detail."
)]
struct Args {
    /// Port to listen on (0 = any free port; the first output line says which).
    #[arg(long, env = "PUERTO", default_value_t = memoria::PUERTO_POR_DEFECTO)]
    puerto: u16,

    #[command(flatten)]
    maestro: plataforma::ArgsMaestro,

    /// The node this memoria watches; esclavos declaring the same --nodo are affected by its
    /// alerts [default: $MEMORIA_NODE, else this host's name].
    #[arg(long, env = "NODO")]
    nodo: Option<String>,

    /// Seconds between samples (fractions allowed, at least 0.2).
    #[arg(long, env = "INTERVALO", default_value = "5", value_parser = segundos)]
    intervalo: Duration,

    /// Seconds between reports when no alert starts or ends [default: --intervalo].
    #[arg(long = "intervalo-reporte", env = "INTERVALO_REPORTE", value_parser = segundos)]
    intervalo_reporte: Option<Duration>,

    /// Bearer token sent to the maestro, and required on every route of this memoria but GET
    /// /ping unless --lecturas-abiertas [default: none].
    #[arg(long, env = "HPC_TOKEN", hide_env_values = true)]
    token: Option<String>,

    /// CPU use thresholds: AVISO,CRITICO in percent, or `off`.
    #[arg(long = "umbral-cpu", env = "UMBRAL_CPU", value_name = "AVISO,CRITICO",
          default_value_t = UMBRAL_CPU)]
    umbral_cpu: Niveles,

    /// Memory use thresholds: AVISO,CRITICO in percent, or `off`.
    #[arg(long = "umbral-memoria", env = "UMBRAL_MEMORIA", value_name = "AVISO,CRITICO",
          default_value_t = UMBRAL_MEMORIA)]
    umbral_memoria: Niveles,

    /// Swap use thresholds: AVISO,CRITICO in percent, or `off` (no swap, no alert).
    #[arg(long = "umbral-swap", env = "UMBRAL_SWAP", value_name = "AVISO,CRITICO",
          default_value_t = UMBRAL_SWAP)]
    umbral_swap: Niveles,

    /// Thresholds of each filesystem's use: AVISO,CRITICO in percent, or `off`.
    #[arg(long = "umbral-disco", env = "UMBRAL_DISCO", value_name = "AVISO,CRITICO",
          default_value_t = UMBRAL_DISCO)]
    umbral_disco: Niveles,

    /// Thresholds of each GPU's memory use: AVISO,CRITICO in percent, or `off`.
    #[arg(long = "umbral-gpu-memoria", env = "UMBRAL_GPU_MEMORIA", value_name = "AVISO,CRITICO",
          default_value_t = UMBRAL_GPU_MEMORIA)]
    umbral_gpu_memoria: Niveles,

    /// Percentage points a value must fall below a threshold for its alert to end.
    #[arg(long, env = "HISTERESIS", default_value_t = HISTERESIS_POR_DEFECTO)]
    histeresis: f64,

    /// Samples kept for GET /historial (the oldest are dropped).
    #[arg(long, env = "HISTORIAL", default_value_t = HISTORIAL_POR_DEFECTO,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    historial: u32,

    #[command(flatten)]
    red: plataforma::ArgsRed,
}

impl Args {
    /// The library's config, with the defaults the flags document; a threshold that does not
    /// fit the hysteresis is a usage error naming its flag.
    fn config(self, transporte: plataforma::Transporte) -> Result<Config, clap::Error> {
        let umbrales = |flag: &str, n: Niveles| {
            n.con_histeresis(self.histeresis).map_err(|e| {
                Args::command().error(
                    clap::error::ErrorKind::ValueValidation,
                    format!("--{flag} {n} with --histeresis {}: {e}", self.histeresis),
                )
            })
        };
        let politica = Politica {
            cpu: umbrales("umbral-cpu", self.umbral_cpu)?,
            memoria: umbrales("umbral-memoria", self.umbral_memoria)?,
            swap: umbrales("umbral-swap", self.umbral_swap)?,
            disco: umbrales("umbral-disco", self.umbral_disco)?,
            gpu_memoria: umbrales("umbral-gpu-memoria", self.umbral_gpu_memoria)?,
        };
        let maestro = self.maestro.url();
        let nodo = self
            .nodo
            .or_else(|| std::env::var("MEMORIA_NODE").ok())
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(config::nombre_de_host);
        Ok(Config {
            maestro,
            nodo,
            intervalo: self.intervalo,
            intervalo_reporte: self.intervalo_reporte.unwrap_or(self.intervalo),
            token: self.token.filter(|t| !t.is_empty()),
            lecturas_abiertas: self.red.lecturas_abiertas,
            transporte,
            ca: self.red.ca,
            politica,
            historial: self.historial as usize,
        })
    }
}

/// Seconds as a flag writes them (`5`, `0.5`): at least 0.2 (`sysinfo` needs that long to
/// measure CPU use), at most a day.
fn segundos(texto: &str) -> Result<Duration, String> {
    plataforma::args::segundos_entre(texto, 0.2, 86_400.0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let puerto = args.puerto;
    let transporte = args.red.transporte()?;
    let config = args.config(transporte).unwrap_or_else(|e| e.exit());
    plataforma::iniciar_logs();
    let listener = plataforma::escuchar("memoria", puerto, &config.transporte).await?;
    memoria::run(config, listener, plataforma::senal_de_parada()).await
}
