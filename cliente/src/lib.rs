//! `cliente`: the command line of the HPC cluster.
//!
//! It speaks the original `cliente_hpc.py` verbs (`estado`, `cargar_trabajos`, `trabajo`,
//! `limpiar_cola`, `monitorear`, also spelled `--comando X`), adds `trabajos`, `resultado`,
//! `cancelar`, and two commands that start services in this process: `local` (a whole cluster
//! for a newcomer) and `carga` (the overhead benchmark).
//!
//! Layout:
//! - [`args`]: the clap definitions and the `--comando X` rewrite.
//! - [`api`]: a typed client of the maestro (one keep-alive `reqwest::Client`).
//! - [`error`]: [`Error`] and the exit status of each failure ([`IntoExit`]).
//! - [`consultas`], [`envios`]: the commands that read, and those that change the queue.
//! - [`esperar`]: waiting for jobs with the maestro's long polls.
//! - [`estadisticas`]: `cliente estadisticas` (alias `stats`): the statistics as tables.
//! - [`local`], [`seguimiento`] (following its queue), [`cluster`]: `cliente local`.
//! - [`carga`]: `cliente carga`.
//! - [`salida`], [`progreso`]: tables and JSON; progress bars.
//!
//! [`principal`] is the whole program; `main.rs` only calls it.

pub mod api;
pub mod args;
pub mod benchmark;
pub mod carga;
pub mod cluster;
pub mod consultas;
pub mod envios;
pub mod error;
pub mod esperar;
pub mod estadisticas;
pub mod local;
pub mod progreso;
pub mod salida;
pub mod seguimiento;
pub mod tareas;

use std::ffi::OsString;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

use crate::api::Maestro;
use crate::args::{Cli, Comando, ComandoTareas};
pub use crate::error::{Error, IntoExit};

/// What every command needs.
pub struct Contexto {
    /// The maestro of `--maestro`.
    pub maestro: Maestro,
    /// `--json`: machine output on stdout.
    pub json: bool,
    /// Whether progress bars are drawn.
    pub visibles: bool,
    /// The cluster token given (`--token`, `HPC_TOKEN`), if any.
    pub token: Option<String>,
}

impl Contexto {
    /// Shows an answer: `valor` as JSON with `--json`, else the text `texto` makes of it.
    pub fn mostrar<T: serde::Serialize + ?Sized>(&self, valor: &T, texto: impl FnOnce() -> String) {
        if self.json {
            salida::json(valor);
        } else {
            print!("{}", texto());
        }
    }
}

/// Runs the program on `argv` (program name first) and returns its exit status.
pub fn principal(argv: impl IntoIterator<Item = OsString>) -> ExitCode {
    let cli = match Cli::try_parse_from(args::reescribir_comando(argv)) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    iniciar_logs();
    let json = cli.json;
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            return fallar(
                &Error::local(format!("cannot start the runtime: {e}")),
                json,
            );
        }
    };
    let r = runtime.block_on(ejecutar(cli));
    // Kernels of in-process esclavos cannot be interrupted: do not wait for them.
    runtime.shutdown_timeout(Duration::from_millis(500));
    match r {
        Ok(codigo) => ExitCode::from(codigo),
        Err(e) => fallar(&e, json),
    }
}

fn fallar(e: &Error, json: bool) -> ExitCode {
    if json {
        salida::json(&e.cuerpo());
    }
    eprintln!("error: {e}");
    ExitCode::from(e.codigo_salida())
}

/// Runs one parsed command line; returns the exit status of a command that ran.
pub async fn ejecutar(cli: Cli) -> Result<u8, Error> {
    let cx = Contexto {
        maestro: Maestro::con_ca(&cli.url_maestro(), cli.token(), cli.ca.as_ref())?,
        token: cli.token(),
        json: cli.json,
        visibles: progreso::visibles(cli.json),
    };
    match &cli.comando {
        Comando::Estado => consultas::estado(&cx).await,
        Comando::CargarTrabajos(a) => envios::cargar_trabajos(&cx, a).await,
        Comando::Trabajo(a) => envios::trabajo(&cx, a).await,
        Comando::LimpiarCola => envios::limpiar_cola(&cx).await,
        Comando::Monitorear(a) => consultas::monitorear(&cx, a).await,
        Comando::Trabajos(a) => consultas::trabajos(&cx, a).await,
        Comando::Resultado(a) => consultas::resultado(&cx, a).await,
        Comando::Cancelar(a) => envios::cancelar(&cx, a).await,
        Comando::Reintentar(a) => envios::reintentar(&cx, a).await,
        Comando::Prioridad(a) => envios::priorizar(&cx, a).await,
        Comando::Drenar(a) => envios::drenar(&cx, a).await,
        Comando::Estadisticas(a) => estadisticas::estadisticas(&cx, a).await,
        Comando::Local(a) => local::local(&cx, a).await,
        Comando::Carga(a) => carga::carga(&cx, a).await,
        Comando::Tareas(ComandoTareas::Generar(a)) => tareas::generar(a),
        Comando::Benchmark(a) => benchmark::benchmark(&cx, a).await,
    }
}

/// Logs on stderr: warnings by default (the services of `local` and `carga` run in this
/// process; the jobs file's rejected lines are printed by `local` itself), `RUST_LOG` for more.
fn iniciar_logs() {
    let filtro = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "warn,maestro::archivo=error".into());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filtro)
        .with_writer(std::io::stderr)
        .try_init();
}
