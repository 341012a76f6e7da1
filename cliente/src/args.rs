//! The command line: clap definitions, and the original CLI's `--comando X` spelling.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use comun::api::{Cursor, FiltroTrabajos, Via};
use comun::{Estado, Prioridad, Tipo, TrabajoId};

mod trabajo;
pub use trabajo::{ArgsTrabajo, Entrada};

const LARGA: &str = "\
Command line of the HPC cluster: queue jobs on the maestro, watch them run, fetch results.

The verbs are those of the original cliente_hpc.py, and its spelling still works:
`cliente --comando estado` is `cliente estado`.

Examples:
  cliente local                            # a whole cluster in this process, running ./trabajos.txt
  cliente estado                           # queue, esclavos, watched file
  cliente cargar_trabajos --archivo trabajos.txt --esperar
  cliente trabajo --algoritmo Secuencial --width 1000 --height 800 --iteraciones 200
  cliente trabajo --width 800 --height 600 --iteraciones 100 --imagen julia.png
  cliente trabajo --tipo espera --ms 250 --esperar
  cliente trabajo --tipo fft --n 4096 --m 4096 --algoritmo Auto --esperar
  cliente trabajo --tipo red_neuronal --capas 128,64 --epocas 20 --esperar
  cliente trabajos --estado fallido        # list jobs (--tipo, --esclavo, --todos...)
  cliente resultado 42 --imagen salida.png # one job in detail, with its PNG
  cliente cancelar 42
  cliente reintentar 42                    # a fallido or cancelado job, again
  cliente prioridad 42 alta                # a pending job's new priority
  cliente limpiar_cola                     # cancel every pending job
  cliente monitorear --intervalo 15        # estado, refreshed until Ctrl-C
  cliente stats                            # throughput, times by tipo, GPU speedup, usage
  cliente carga --local --n 20000          # measure the cluster's own overhead
  cliente --comando trabajo --algoritmo Numpy --width 1000 --height 800 --iteraciones 200

The maestro is at --maestro (MAESTRO_URL; with only MAESTRO_IP set, http://$MAESTRO_IP:5001).
With --json every command prints the maestro's answer as JSON for scripts.

Exit status: 0 done; 1 the maestro refused the request (its message and field are printed) or \
a local file or port failed; 2 the maestro cannot be reached (or a malformed command line); \
3 jobs waited for did not all complete (fallido, cancelado, or no esclavo can run them).";

const FORMATO: &str = "\
Jobs file format (trabajos.txt), one job per line:

  # comments start with '#'; blank lines are ignored
  algoritmo,width,height,iteraciones,prioridad
  Secuencial,800,600,100,1
  Numpy,1000,800,150          # prioridad may be left out: 2 (media)
  espera,250,3                # an `espera` job: ms[,prioridad]
  matmul,Paralelo,n=2048,iteraciones=3,prioridad=1    # tipo[,algoritmo],clave=valor,...
  fft                                     # the catalogue's kernels: every parameter defaults
  red_neuronal,Auto,capas=64,64,epocas=5  # a list (capas, filtros) runs on over the fields
  imagen,filtros=desenfoque,sobel,sigma=3
  eigenvalue,size=1024                    # the original names of tipos and parameters work too

A named-parameter line takes the flags of `cliente trabajo` as keys (`cliente trabajo --help`
lists each tipo's parameters, defaults and limits).
algoritmo: Secuencial, Paralelo, Cuda or Auto (Numpy and juliaCython mean Paralelo).
prioridad: 1 (alta), 2 (media) or 3 (baja). A header line starting with `algoritmo` is skipped.
A malformed line is reported with its number and reason; the other lines still load.";

const CARGA: &str = "\
Measures the cluster's own overhead with `espera` jobs of 0 ms (nothing to compute).

Phase 1: submit --n jobs from --concurrencia concurrent tasks over one keep-alive HTTP client \
(with --lote K, in POST /trabajos batches of K instead of one POST /agregar_trabajo each), \
measuring each request's latency, and wait (long-polling /resumen) until all are final. \
Reports jobs/s end to end (n / time from the first submit to the last completion) and the \
submit-only rate.

Phase 2: on the now idle cluster, --latencia single jobs one at a time: submit, then wait for \
its result (GET /trabajos/{id}?esperar_ms=10000). Reports the submit-to-result p50 and p99.

Run it against an idle cluster: other jobs finishing meanwhile would count as these.

For comparison, on this kind of machine (small jobs, one host):
  Celery + Redis   ~400 tasks/s, p50 4 ms
  Dask             ~450 tasks/s, p50 11 ms
  Ray              ~1,600 tasks/s, p50 2 ms

Examples:
  cliente carga --local --n 20000 --concurrencia 32
  cliente carga --local --n 20000 --lote 100
  cliente --maestro http://10.0.0.5:5001 carga --n 5000 --json";

const LOCAL: &str = "\
Starts a maestro and --esclavos esclavos in this process, on loopback, the maestro watching \
--archivo: a whole cluster without Docker.

It shows a progress bar until the queue drains, writes each completed Julia job's PNG to \
--salida/trabajo-{id}.png as it completes, and prints a summary table. Then it keeps serving \
(edit the jobs file, move an orchestrator task file into --tareas, or use `cliente` from \
another terminal) until Ctrl-C; with --salir-al-terminar it exits instead.

Data: with --datos DIR the queue is durable across runs (lines of the jobs file already loaded \
are not loaded again); without it, a fresh temporary folder is used for this run only.

Jobs no esclavo here can run (algoritmo Cuda without a GPU esclavo) wait in the queue; the \
summary lists them with the maestro's reason, and --salir-al-terminar exits with status 3 \
rather than wait forever. Exit status with --salir-al-terminar: 0 when every job completed (or \
was cancelled), 3 when any is fallido or cannot run here.

Examples:
  cliente local
  cliente local --esclavos 2 --archivo mis_trabajos.txt --salida ./pngs
  cliente local --puerto 0 --salir-al-terminar    # for scripts: run the file, then exit
  cliente local --datos ./datos                   # keep the queue between runs";

/// The `cliente` command line.
#[derive(Debug, Parser)]
#[command(
    name = "cliente",
    version,
    about = "Command line of the HPC cluster: queue jobs, watch them, fetch results",
    long_about = LARGA
)]
pub struct Cli {
    /// Base URL of the maestro, or the replicas of one cluster separated by commas
    /// (http://m1:5001,http://m2:5001: a request that one cannot take goes to the next)
    /// [default: http://127.0.0.1:5001, or http://$MAESTRO_IP:5001 when MAESTRO_IP is set].
    #[arg(long, env = "MAESTRO_URL", global = true, value_name = "URL")]
    pub maestro: Option<String>,
    /// Print the maestro's answers (or the benchmark's figures) as JSON, for scripts.
    #[arg(long, global = true)]
    pub json: bool,
    /// Cluster token, sent as `Authorization: Bearer` on every request.
    #[arg(long, env = "HPC_TOKEN", global = true, hide_env_values = true)]
    pub token: Option<String>,
    /// PEM file with the cluster's CA certificate, trusted (besides the system's roots) for an
    /// https:// maestro.
    #[arg(long, env = "HPC_CA", global = true, value_name = "PEM",
          value_parser = plataforma::Ca::de_argumento)]
    pub ca: Option<plataforma::Ca>,
    /// What to do.
    #[command(subcommand)]
    pub comando: Comando,
}

/// The commands: the original CLI's verbs, then this one's additions.
#[derive(Debug, Subcommand)]
pub enum Comando {
    /// Cluster summary: jobs by state, queue by priority, esclavos, watched jobs file.
    Estado,
    /// Queue the jobs of a jobs file (the local file is uploaded).
    #[command(name = "cargar_trabajos", alias = "cargar-trabajos", after_long_help = FORMATO)]
    CargarTrabajos(ArgsCarga),
    /// Queue one job of any kernel: a Julia fractal (the original's flags), an FFT, a neural
    /// network... (`cliente trabajo --help` lists each tipo's parameters, defaults and limits).
    #[command(after_long_help = trabajo::ayuda())]
    Trabajo(Box<ArgsTrabajo>),
    /// Cancel every pending job.
    #[command(name = "limpiar_cola", alias = "limpiar-cola")]
    LimpiarCola,
    /// The estado view, refreshed every --intervalo seconds until Ctrl-C.
    Monitorear(ArgsMonitorear),
    /// List jobs, newest first, filtered (estado, tipo, prioridad, esclavo, origen) and paged.
    #[command(long_about = TRABAJOS)]
    Trabajos(ArgsTrabajos),
    /// One job in detail: parameters, result, attempts; optionally its PNG.
    Resultado(ArgsResultado),
    /// Cancel a pending or running job.
    Cancelar(ArgsCancelar),
    /// Retry a fallido or cancelado job: a new attempt of it (same id, earlier attempts kept).
    Reintentar(ArgsReintentar),
    /// Change the priority of a pending job (it takes its new place in the queue).
    Prioridad(ArgsPrioridad),
    /// Drain an esclavo: no new job goes to it; the ones it runs finish there.
    #[command(long_about = DRENAR)]
    Drenar(ArgsDrenar),
    /// Statistics since the maestro started: jobs by state, throughput, wait, run and kernel
    /// times by tipo and backend, GPU speedup, esclavos' utilisation; or one esclavo's history.
    #[command(alias = "stats", long_about = ESTADISTICAS)]
    Estadisticas(ArgsEstadisticas),
    /// A whole cluster in this process: maestro and esclavos on loopback, running trabajos.txt.
    #[command(long_about = LOCAL)]
    Local(ArgsLocal),
    /// Benchmark of the cluster's overhead: throughput and latency of empty jobs.
    #[command(long_about = CARGA)]
    Carga(ArgsBenchmark),
    /// GPU-versus-CPU benchmark through the cluster: each kernel × sizes × backends, with
    /// repetitions; writes CSV, JSON, charts and BENCHMARK_REPORT.md.
    #[command(long_about = COMPARATIVA)]
    Benchmark(ArgsComparativa),
    /// The orchestrator's task files: write an example one (`tareas generar`).
    #[command(subcommand)]
    Tareas(ComandoTareas),
}

const COMPARATIVA: &str = "\
Measures the real cluster: submits, one at a time, each kernel (--tipos) at each size
(--tamanos, or each kernel's own range) on each backend (--algoritmos), --repeticiones times,
interleaved so no backend always runs first, after one discarded warm-up of each kernel and
backend. Cuda is left out, and the report says so, when no registered esclavo has a GPU.

Writes into --salida (resultados/benchmark-<date> by default):
  resultados.ndjson / .json / .csv   every job: kernel time, time with copies, end-to-end time,
                                     esclavo, device, throughput, checksum
  resumen.csv                        per kernel, size and backend: n, mean, min, max, std dev,
                                     median, throughput, overhead, speedups
  tiempo_<tipo>.png/.svg, aceleracion.png/.svg, sobrecoste.png/.svg   charts, and limite.png/.svg
                                     (throughput against the device's peak) where a GPU
                                     esclavo reports its peaks
  plan.json, cabecera.json           what the run measures and its environment, for
                                     --continuar and --informe
  BENCHMARK_REPORT.md                environment, method, tables, charts, a reading of the numbers

Progress shows the job running and an estimate of the time left. Ctrl-C writes the report from
what it has (exit status 130); --continuar DIR resumes that run with its plan (plan.json),
never repeating a recorded job. --informe DIR writes a run's report again from its records,
without a cluster.

Examples:
  cliente benchmark --local --rapido             # under a minute: small sizes, one repetition
  cliente benchmark --tipos matmul,fft --repeticiones 5
  cliente benchmark --algoritmos Paralelo,Cuda --tamanos matmul=4096:8192,julia=8192,4096
  cliente benchmark --continuar resultados/benchmark-20261129T221500Z
  cliente benchmark --informe resultados/benchmark-20261129T221500Z";

/// One item of `benchmark --tamanos`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tamano {
    /// A size for every kernel without sizes of its own.
    Todos(u64),
    /// The sizes of one kernel.
    De(Tipo, Vec<u64>),
}

/// `1024` or `matmul=2048:4096`.
fn tamano(s: &str) -> Result<Tamano, String> {
    let numero = |n: &str| {
        n.trim()
            .parse::<u64>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("{n:?} is not a size (a whole number above 0)"))
    };
    match s.split_once('=') {
        None => numero(s).map(Tamano::Todos),
        Some((tipo, tamanos)) => {
            let tipo: Tipo = tipo.trim().parse().map_err(|e| format!("{e}"))?;
            let tamanos = tamanos
                .split(':')
                .map(numero)
                .collect::<Result<Vec<u64>, String>>()?;
            Ok(Tamano::De(tipo, tamanos))
        }
    }
}

/// Flags of `benchmark`.
#[derive(Debug, Args)]
pub struct ArgsComparativa {
    /// Start a cluster in this process (maestro and --esclavos esclavos) instead of using
    /// --maestro.
    #[arg(long)]
    pub local: bool,
    /// Esclavos of the --local cluster.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=16))]
    pub esclavos: u32,
    /// Kernels to measure, comma-separated [default: every kernel but espera].
    #[arg(long, value_delimiter = ',')]
    pub tipos: Vec<Tipo>,
    /// Sizes, comma-separated (each kernel's size parameter): `512,1024` for every kernel
    /// chosen, `matmul=2048:4096` for one kernel (its sizes separated by `:`); both may be
    /// mixed [default: each kernel's own range].
    #[arg(long, value_delimiter = ',', value_parser = tamano)]
    pub tamanos: Vec<Tamano>,
    /// Backends, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "Secuencial,Paralelo,Cuda"
    )]
    pub algoritmos: Vec<comun::Algoritmo>,
    /// Measured jobs of each kernel, size and backend.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub repeticiones: u32,
    /// Output folder [default: resultados/benchmark-<date>].
    #[arg(long, value_name = "CARPETA")]
    pub salida: Option<PathBuf>,
    /// Small sizes and one repetition: under a minute on two cores.
    #[arg(long)]
    pub rapido: bool,
    /// Resume the run whose folder this is, with its plan (plan.json): jobs recorded in its
    /// resultados.ndjson are not run again.
    #[arg(
        long,
        value_name = "CARPETA",
        conflicts_with_all = ["salida", "tipos", "tamanos", "algoritmos", "repeticiones", "rapido"]
    )]
    pub continuar: Option<PathBuf>,
    /// Write the report of the run in this folder again from its records, running nothing
    /// (no maestro needed): the analysis step on its own.
    #[arg(
        long,
        value_name = "CARPETA",
        conflicts_with_all = ["salida", "continuar", "local", "tipos", "tamanos", "algoritmos", "repeticiones", "rapido"]
    )]
    pub informe: Option<PathBuf>,
}

/// `tareas` subcommands.
#[derive(Debug, Subcommand)]
pub enum ComandoTareas {
    /// Write an example task file, in the orchestrator's format, to drop into the maestro's
    /// task folder (the orchestrator's manual task generator).
    #[command(long_about = TAREAS_GENERAR)]
    Generar(ArgsGenerar),
}

const TAREAS_GENERAR: &str = "\
Writes an example task file in the orchestrator's format: particle simulations (algorithm
python = nbody on Secuencial, cython = nbody on Paralelo) with task_id task_001..., priorities
high / medium / low, and a metadata block whose total_tasks matches.

Drop it into the maestro's task folder (--carpeta-tareas; <datos>/task_queues by default, and
./task_queues in docker-compose): it is queued whole and moved to processed/, or refused whole
and moved to rechazados/ beside a .error.json naming each bad task. Edit it first to name any
tipo of this cluster as algorithm, with that tipo's parameters (`cliente trabajo --help`).
Write the file elsewhere and move it in (mv is a rename: taken at once, whole).

Examples:
  cliente tareas generar                        # tareas_<date>.json here, 4 tasks
  cliente tareas generar --n 20 --salida datos/task_queues/lote.json
  cliente tareas generar --salida -             # to stdout";

/// Flags of `tareas generar`.
#[derive(Debug, Args)]
pub struct ArgsGenerar {
    /// How many tasks.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub n: u32,
    /// The file to write (`-`: standard output); tareas_<date>.json when absent. An existing
    /// file is not overwritten.
    #[arg(long, value_name = "ARCHIVO")]
    pub salida: Option<PathBuf>,
    /// The metadata's created_by.
    #[arg(long, default_value = "cliente")]
    pub autor: String,
}

/// Flags of `estadisticas`.
#[derive(Debug, Args)]
pub struct ArgsEstadisticas {
    /// Instead, this esclavo's history: utilisation, mean run times, latest attempts, failures.
    #[arg(long, value_name = "NOMBRE")]
    pub esclavo: Option<String>,
}

const ESTADISTICAS: &str = "\
Statistics since the maestro started (GET /estadisticas, also served as /stats):
  - jobs by state, and jobs finished per second over the last minute and since start;
  - wait (acceptance to the start of the attempt that completed it), run (that attempt's
    dispatch to its result) and kernel time (as the esclavo measured it), each as
    mean / p50 / p95 / max, by tipo and the backend that ran it (Auto counted as what it
    resolved to);
  - GPU speedup per tipo: for each size (e.g. matmul's n) that both Cuda and a CPU backend
    completed, mean CPU kernel time / mean GPU kernel time; the geometric mean over sizes;
  - each esclavo's utilisation: busy slot-time over slots × time, over the last minute.

With --esclavo NOMBRE, that esclavo's history (GET /esclavos/NOMBRE). --json prints the
maestro's answer as it came; GET /estadisticas/series holds the last hour's time series.

Examples:
  cliente estadisticas
  cliente stats --esclavo esclavo-1
  cliente --json stats";

/// Flags of `cargar_trabajos`.
#[derive(Debug, Args)]
pub struct ArgsCarga {
    /// Jobs file on this machine, uploaded to the maestro [default: trabajos.txt].
    #[arg(long, conflicts_with = "remoto")]
    pub archivo: Option<PathBuf>,
    /// Instead, the name of a file in the maestro's jobs folder (DATOS/trabajos/).
    #[arg(long, value_name = "NOMBRE")]
    pub remoto: Option<String>,
    /// Then wait, with a progress bar, until the loaded jobs finish.
    #[arg(long)]
    pub esperar: bool,
}

/// Flags of `monitorear`.
#[derive(Debug, Args)]
pub struct ArgsMonitorear {
    /// Seconds between refreshes.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    pub intervalo: u64,
}

const TRABAJOS: &str = "\
Lists jobs from the maestro's database, newest first, one page at a time. Every filter given \
must match. The last line says how to see the next page (--cursor), or use --todos.

Examples:
  cliente trabajos --estado fallido
  cliente trabajos --tipo julia --prioridad alta --limite 200
  cliente trabajos --esclavo gpu1 --estado completado --todos
  cliente trabajos --origen archivo --cursor t1234      # the page after job 1234";

/// Flags of `trabajos`.
#[derive(Debug, Args)]
pub struct ArgsTrabajos {
    /// Only jobs in this state: pendiente, asignado, completado, fallido, cancelado.
    #[arg(long)]
    pub estado: Option<Estado>,
    /// Only jobs of this kernel: julia, espera, matmul, vector_add, montecarlo, nbody,
    /// red_neuronal, imagen, fft, autovalores, kmeans.
    #[arg(long)]
    pub tipo: Option<Tipo>,
    /// Only jobs of this priority: 1, 2, 3 or alta, media, baja.
    #[arg(long)]
    pub prioridad: Option<Prioridad>,
    /// Only jobs this esclavo runs, or whose last attempt it ran.
    #[arg(long)]
    pub esclavo: Option<String>,
    /// Only jobs that came in this way: api or archivo.
    #[arg(long)]
    pub origen: Option<Via>,
    /// Show at most this many, following the maestro's pages as needed.
    #[arg(long, default_value_t = 50, conflicts_with = "todos")]
    pub limite: u32,
    /// Show every matching job, following the maestro's pages to the last.
    #[arg(long)]
    pub todos: bool,
    /// Start after the job a previous listing ended at (its last line names the cursor).
    #[arg(long)]
    pub cursor: Option<Cursor>,
}

impl ArgsTrabajos {
    /// The filters, as the maestro takes them.
    pub fn filtro(&self) -> FiltroTrabajos {
        FiltroTrabajos {
            estado: self.estado,
            tipo: self.tipo,
            prioridad: self.prioridad,
            esclavo: self.esclavo.clone(),
            origen: self.origen,
            algoritmo_pedido: None,
        }
    }
}

/// Flags of `reintentar`.
#[derive(Debug, Args)]
pub struct ArgsReintentar {
    /// The job's id (fallido or cancelado).
    pub id: TrabajoId,
}

/// Flags of `prioridad`.
#[derive(Debug, Args)]
pub struct ArgsPrioridad {
    /// The job's id (pendiente).
    pub id: TrabajoId,
    /// Its new priority: 1, 2, 3 or alta, media, baja.
    pub prioridad: Prioridad,
}

/// Flags of `resultado`.
#[derive(Debug, Args)]
pub struct ArgsResultado {
    /// The job's id.
    pub id: TrabajoId,
    /// Save its PNG here (completed julia and imagen jobs).
    #[arg(long, value_name = "PNG")]
    pub imagen: Option<PathBuf>,
}

/// Flags of `cancelar`.
#[derive(Debug, Args)]
pub struct ArgsCancelar {
    /// The job's id.
    pub id: TrabajoId,
}

/// Flags of `drenar`.
#[derive(Debug, Args)]
pub struct ArgsDrenar {
    /// The esclavo's name, as `cliente estado` lists it.
    pub esclavo: String,
}

/// `drenar --help`.
const DRENAR: &str = "Drain an esclavo: the maestro sends it no new job; the jobs it runs \
    finish there. Use it before stopping an esclavo's machine by hand, then stop the esclavo \
    once `cliente estado` shows it running nothing.\n\n\
    An esclavo drains itself on SIGTERM (docker stop, a Kubernetes scale-down): it refuses new \
    jobs, lets the running ones finish for up to its --gracia-s, and hands the rest back to \
    the maestro, which queues them again at once without counting a failure.\n\n\
    The drain lasts until a new process registers under that name (or the maestro restarts).";

/// Flags of `local`.
#[derive(Debug, Args)]
pub struct ArgsLocal {
    /// How many esclavos to start (esclavo1, esclavo2, ...).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub esclavos: u32,
    /// Port of the maestro (0: any free port; the first line of output says which).
    #[arg(long, default_value_t = 5001)]
    pub puerto: u16,
    /// Jobs file the maestro loads and watches.
    #[arg(long, default_value = "./trabajos.txt")]
    pub archivo: PathBuf,
    /// The orchestrator's task folder the maestro watches: JSON task files moved in are queued
    /// whole, then moved to processed/ (or rechazados/, with a .error.json).
    #[arg(long, default_value = "./task_queues")]
    pub tareas: PathBuf,
    /// Data folder, kept across runs [default: a temporary folder for this run].
    #[arg(long)]
    pub datos: Option<PathBuf>,
    /// Folder for the PNGs of completed Julia jobs (trabajo-{id}.png).
    #[arg(long, default_value = "./resultados")]
    pub salida: PathBuf,
    /// Job slots of each esclavo [default: the number of cores].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub capacidad: Option<u32>,
    /// Exit when the queue drains (or only jobs no esclavo can run remain) instead of serving.
    #[arg(long)]
    pub salir_al_terminar: bool,
}

/// Flags of `carga`.
#[derive(Debug, Args)]
pub struct ArgsBenchmark {
    /// Jobs of phase 1.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub n: u64,
    /// Concurrent submitting tasks of phase 1.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub concurrencia: u32,
    /// Jobs per POST /trabajos request (at most the maestro's 100000); 0: one POST
    /// /agregar_trabajo per job.
    #[arg(long, default_value_t = 0,
          value_parser = clap::value_parser!(u32).range(..=comun::api::MAX_LOTE as i64))]
    pub lote: u32,
    /// Milliseconds each espera job sleeps.
    #[arg(long, default_value_t = 0)]
    pub ms: u64,
    /// Jobs of phase 2, one at a time; 0 skips it.
    #[arg(long, default_value_t = 200)]
    pub latencia: u32,
    /// Start a cluster in this process (temporary data folder) instead of using --maestro.
    #[arg(long)]
    pub local: bool,
    /// Esclavos of the --local cluster.
    #[arg(long, default_value_t = 3, requires = "local",
          value_parser = clap::value_parser!(u32).range(1..=64))]
    pub esclavos: u32,
    /// Job slots of each esclavo of the --local cluster.
    #[arg(long, default_value_t = 64, requires = "local",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub capacidad: u32,
    /// Commit mode of the --local maestro's database: full (on disk before "accepted") or
    /// normal (survives a killed process, not a lost machine); see `maestro --help`.
    #[arg(long, default_value = "full", requires = "local")]
    pub sincronizacion: maestro::Sincronizacion,
    /// The --local maestro's store in this PostgreSQL database instead of SQLite
    /// (postgresql://user@host:port/database; its tables are made if missing, and the jobs
    /// stay there afterwards: use an empty database); see `maestro --help`.
    #[arg(long, env = "BASE_DATOS", hide_env_values = true, requires = "local",
          value_parser = maestro::almacen::postgres::base)]
    pub base: Option<maestro::almacen::postgres::Base>,
}

impl Cli {
    /// The maestro's base URL: --maestro / MAESTRO_URL, else MAESTRO_IP, else loopback:5001.
    pub fn url_maestro(&self) -> String {
        url_maestro(self.maestro.as_deref(), std::env::var("MAESTRO_IP").ok())
    }

    /// The token, unless empty.
    pub fn token(&self) -> Option<String> {
        self.token.clone().filter(|t| !t.is_empty())
    }
}

fn url_maestro(explicita: Option<&str>, ip: Option<String>) -> String {
    if let Some(u) = explicita.map(str::trim).filter(|u| !u.is_empty()) {
        // One URL, or the replicas of one cluster separated by commas; `host:port` alone is
        // taken as http.
        let urls: Vec<String> = u
            .split(',')
            .map(|u| u.trim().trim_end_matches('/'))
            .filter(|u| !u.is_empty())
            .map(|u| {
                if u.contains("://") {
                    u.to_string()
                } else {
                    format!("http://{u}")
                }
            })
            .collect();
        return urls.join(",");
    }
    match ip.as_deref().map(str::trim) {
        Some(ip) if !ip.is_empty() => format!("http://{ip}:5001"),
        _ => "http://127.0.0.1:5001".into(),
    }
}

/// Rewrites the original CLI's `--comando X` (or `--comando=X`) into the subcommand `X`, moved
/// to the front: argparse accepted its flags in any order, so `--algoritmo A --comando trabajo`
/// must work too; every flag after the subcommand still parses (the global ones are global).
pub fn reescribir_comando(argv: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let mut argv = argv.into_iter();
    let programa = argv.next();
    let mut resto = Vec::new();
    let mut comando = None;
    while let Some(a) = argv.next() {
        if a == "--" {
            resto.push(a);
            resto.extend(argv.by_ref());
            break;
        }
        if comando.is_none() {
            if a == "--comando" {
                match argv.next() {
                    Some(v) => comando = Some(v),
                    None => resto.push(a),
                }
                continue;
            }
            if let Some(v) = a.to_str().and_then(|s| s.strip_prefix("--comando=")) {
                comando = Some(v.into());
                continue;
            }
        }
        resto.push(a);
    }
    programa.into_iter().chain(comando).chain(resto).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use comun::Algoritmo;

    #[test]
    fn benchmark_sizes_are_for_all_kernels_or_for_one() {
        assert_eq!(tamano("1024"), Ok(Tamano::Todos(1024)));
        assert_eq!(
            tamano("matmul=2048:4096"),
            Ok(Tamano::De(Tipo::Matmul, vec![2048, 4096]))
        );
        assert_eq!(
            tamano(" julia = 64 "),
            Ok(Tamano::De(Tipo::Julia, vec![64]))
        );
        assert!(tamano("0").unwrap_err().contains("\"0\" is not a size"));
        assert!(tamano("matmul=").unwrap_err().contains("is not a size"));
        assert!(tamano("matrix=64").is_err());
    }

    fn argv(s: &str) -> Vec<OsString> {
        s.split_whitespace().map(OsString::from).collect()
    }

    fn reescrito(s: &str) -> String {
        reescribir_comando(argv(s))
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn comando_becomes_the_subcommand_at_the_front() {
        assert_eq!(reescrito("cliente --comando estado"), "cliente estado");
        assert_eq!(reescrito("cliente --comando=estado"), "cliente estado");
        assert_eq!(
            reescrito("cliente --comando trabajo --algoritmo Secuencial --width 1000"),
            "cliente trabajo --algoritmo Secuencial --width 1000"
        );
        assert_eq!(
            reescrito("cliente --algoritmo Secuencial --comando trabajo --width 8"),
            "cliente trabajo --algoritmo Secuencial --width 8"
        );
        assert_eq!(
            reescrito("cliente --maestro http://m:5001 --comando monitorear --intervalo 15"),
            "cliente monitorear --maestro http://m:5001 --intervalo 15"
        );
    }

    #[test]
    fn other_command_lines_are_left_alone() {
        for s in [
            "cliente estado",
            "cliente trabajo --width 3",
            "cliente --comando",
            "cliente cargar_trabajos -- --comando x",
        ] {
            assert_eq!(reescrito(s), s);
        }
        assert_eq!(
            reescrito("cliente --comando estado --comando trabajo"),
            "cliente estado --comando trabajo"
        );
    }

    #[test]
    fn the_original_spellings_parse() {
        let casos = [
            "cliente --comando estado",
            "cliente --comando trabajo --algoritmo Secuencial --width 1000 --height 800 \
             --iteraciones 200",
            "cliente --comando cargar_trabajos --archivo trabajos.txt",
            "cliente --comando limpiar_cola",
            "cliente --comando monitorear --intervalo 15",
            "cliente --json --comando=estado",
        ];
        for s in casos {
            let cli = Cli::try_parse_from(reescribir_comando(argv(s)))
                .unwrap_or_else(|e| panic!("{s}: {e}"));
            match (s, &cli.comando) {
                (_, Comando::Trabajo(t)) => {
                    assert_eq!(t.algoritmo, Some(Algoritmo::Secuencial.into()));
                    assert_eq!(
                        (t.width, t.height, t.iteraciones),
                        (Some(1000), Some(800), Some(200))
                    );
                }
                (_, Comando::Monitorear(m)) => assert_eq!(m.intervalo, 15),
                (_, Comando::CargarTrabajos(c)) => {
                    assert_eq!(c.archivo.as_deref(), Some("trabajos.txt".as_ref()))
                }
                (s, Comando::Estado) => assert_eq!(cli.json, s.contains("--json")),
                (_, Comando::LimpiarCola) => {}
                (s, otro) => panic!("{s}: parsed as {otro:?}"),
            }
        }
    }

    #[test]
    fn the_maestro_url_comes_from_the_flag_then_maestro_ip() {
        assert_eq!(url_maestro(None, None), "http://127.0.0.1:5001");
        assert_eq!(
            url_maestro(None, Some("10.0.0.2".into())),
            "http://10.0.0.2:5001"
        );
        assert_eq!(
            url_maestro(Some("http://m:7/"), Some("10.0.0.2".into())),
            "http://m:7"
        );
        assert_eq!(url_maestro(Some("m:7"), None), "http://m:7");
        assert_eq!(
            url_maestro(Some(" m:7/, https://n:8 ,"), None),
            "http://m:7,https://n:8"
        );
    }

    #[test]
    fn the_command_line_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
