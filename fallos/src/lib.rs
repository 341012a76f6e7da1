//! Fault scenarios and a load test against the real binaries.
//!
//! Each scenario in `tests/` starts the real `maestro`, `esclavo` and `memoria` binaries as
//! separate processes, injects a fault with real signals (SIGKILL, not a graceful stop) or a
//! real network partition, and ends with the same check: **the jobs the maestro acknowledged
//! are exactly the jobs that finished, each completed once with one recorded result** (see
//! [`verificacion`]: `/resumen` while the maestro runs, then its SQLite file read directly).
//!
//! # Scenarios
//!
//! | test | fault | what must hold |
//! |---|---|---|
//! | `esclavo_sigkill` | SIGKILL of esclavo A in the middle of a 6 s job (A has one slot; esclavo B is idle) | after `--plazo-esclavo-ms` the job runs again on B and completes once; its first attempt, on A, carries the "lost" error |
//! | `maestro_sigkill` | SIGKILL of the maestro with 3,000 jobs acknowledged, thousands pending and some running; restart on the same port and data folder | everything completes, nothing twice, nothing unknown in the database |
//! | `esclavo_reinicio` | SIGKILL of an esclavo running jobs, started again at once under the same name, with `--plazo-esclavo-ms 60000` | the new instance's registration makes the maestro run those jobs again at once (long before the heartbeat limit); each completes once |
//! | `maestro_ausente` | SIGKILL of the maestro for 20 s while the esclavos run 8 s jobs; restart on the same port and folder | the esclavos keep the results that finish while it is away, register again by themselves (404 to their heartbeat) and deliver them: each job's result names the esclavo that ran it, which finished it before the maestro came back |
//! | `particion` | network partition (network namespaces): esclavo A's link is cut while it runs jobs | A is declared lost and its jobs run again on B; when the link heals, A delivers its late results, and the maestro answers them `ignorados`: each job keeps one result |
//! | `memoria_caida` | a memoria node reports its node in `crítico`, so jobs wait rather than run on that node's esclavo (the healthy esclavo is full); SIGKILL of the memoria process | after `--plazo-memoria-ms` its report is stale (`GET /memoria` says `obsoleto`) and the waiting jobs run on the esclavo it was steering them from |
//! | `disco_lento` | the disk stalls (the maestro's database write lock is held from outside, as a disk taking seconds to fsync would) while a slot frees and the maestro sends a waiting job; SIGKILL of the maestro before that assignment is durable; restart | every job completes once; each attempt number of a job is run by one esclavo only, and the job sent during the stall has an attempt row naming the esclavo that ran it |
//! | `drenaje` | SIGTERM (not SIGKILL), as an autoscaler or `docker stop` sends it: to esclavo A (`--gracia-s 3`) running a 1.5 s job and an 8 s one; then to the maestro while three clients submit batches; restart | A drains: the maestro lists it `drenando` and sends a new job to B; the short job finishes on A; the long one is handed back when the grace period ends and runs again on B at once, without counting as a failure (`--max-intentos 1`); A exits 0 and is forgotten. The maestro exits 0; restarted, it finishes every acknowledged job and holds no other |
//! | `replicas_sigkill` | two maestro replicas on one PostgreSQL database (lease 1.5 s), two esclavos with `--maestro a,b`, four clients submitting 10,000 `espera` tasks of 2 ms in batches of 100 to both (`POST /tasks`, each task with a `task_id`); SIGKILL of the leader once 3,000 are acknowledged | the follower takes over by itself; a batch whose answer the kill lost is sent again and found queued (409, ids read back by `task_id`), never queued twice; every acknowledged job completes once (read from PostgreSQL); the takeover time is reported |
//! | `replicas_particion` | the leader cut off from PostgreSQL alone (a blackhole route to the database's address in its namespace) while it still reaches its esclavos and the clients | it steps down by itself (no renewal for a lease time) and the follower takes over; its writes cannot commit, and fencing refuses them once the lease is another's; after the route heals it follows; 100 more jobs go through it; every job completes once, one attempt giving its result |
//! | `replicas_postgres_reinicio` | two replicas, two esclavos, three clients submitting batches of 50 tasks to both; PostgreSQL SIGKILLed with 1,000 acknowledged, started again once no replica has led for a lease time | the clients get errors (5xx) for what was refused, never an acknowledgement; a replica leads again by itself under a newer epoch; every acknowledged job completes once |
//! | `replicas_seguidor_sigkill` | the same cluster, the esclavos and clients talking to the follower first (`--maestro b,a`); the follower SIGKILLed with 1,000 acknowledged | the leader keeps its lease and epoch; no attempt fails; the esclavos and clients move on to the leader; every acknowledged job completes once |
//! | `carga` | load: 32 concurrent clients submit 100,000 `espera` jobs of 0–2 ms (batches of 50–200 on `POST /trabajos`, every 20th request a single `POST /agregar_trabajo`; a probe adds a single job every 20 ms until the backlog is nearly done) to a maestro (`--sincronizacion full`) with 4 esclavos of 16 slots, while a chaos task SIGKILLs a random esclavo every ~2 s and restarts it under the same name | every job completes once within 240 s; the maestro's RSS, sampled every 250 ms, stays under 400 MiB; throughput and submit latency (p50, p99, worst, of batches and of single jobs) are reported |
//!
//! # Running them
//!
//! ```text
//! cargo nextest run --workspace                       # builds every binary, runs everything
//! cargo nextest run -p fallos --no-capture            # these only, printing their figures
//! cargo build --release -p maestro -p esclavo -p memoria
//! HPC_BINARIOS=target/release cargo nextest run -p fallos
//! ```
//!
//! **Which binaries.** `HPC_BINARIOS` names the folder (relative to the workspace root, or
//! absolute); without it, the profile folder the test executable runs from (`target/debug` for
//! `cargo nextest run`). `cargo nextest run --workspace` builds them, because cargo builds a
//! package's binaries for its integration tests (maestro, esclavo, memoria and cliente all have
//! some). `cargo nextest run -p fallos` alone does **not** rebuild them: a missing binary fails
//! with the command that builds it, and a binary older than the sources prints a warning. Each
//! scenario prints the path of every binary it starts.
//!
//! **Alone.** `.config/nextest.toml` runs each scenario with every test slot to itself: on a
//! small machine, other tests' CPU load could starve heartbeats and turn a deliberate fault into
//! an accidental one. Each scenario takes its own ports and a fresh data folder.
//!
//! **PostgreSQL.** The `replicas_*` scenarios start their own throwaway server with
//! `pruebas::postgres` (Debian's `postgresql`); without it they pass after saying loudly that
//! they did not run, unless `HPC_EXIGIR_POSTGRES=1` (CI), which makes them fail.
//!
//! **The partition scenarios need root** and iproute2 (`ip netns`, veth, bridge). Without them
//! it fails, saying so. On machines without root, `HPC_SIN_NETNS=1` excludes it: the test then
//! passes after printing, loudly, that the partition was not tested, and its figures file says
//! `excluido`. It names its namespaces `hpcf-<pid>-…` and removes them when it ends, panics
//! included; namespaces of earlier runs whose process is gone are removed when it starts.
//!
//! **Attempt histories.** Besides the results, the final check wants each completed job's
//! attempt history consistent: every attempt ended (an attempt superseded by another's result
//! too), and the successful attempt's row naming the esclavo the job names. A scenario that
//! finds otherwise fails, naming the jobs and keeping a copy of the database next to its logs.
//! `HPC_TOLERAR_HISTORIAL=1` turns that (and only that) into a loud report, so the other checks
//! and the figures still come out while such a bug is open; lost, duplicated, unfinished or
//! unknown jobs always fail.
//!
//! # Output
//!
//! - `target/fallos/<scenario>.json`: the figures of the last successful run of each scenario
//!   (jobs acknowledged, finished, completed, duplicated, lost, faults injected, failed
//!   attempts, duration, and the scenario's own figures), the input of docs/reliability.md. A
//!   failed run leaves no file.
//! - `target/fallos/registros/<scenario>/`: the stderr (logs) of every process started, one
//!   file each, numbered in start order; a failure message names the relevant one.
//!
//! # Layout
//!
//! - [`binarios`]: finding the binaries.
//! - [`proceso`]: a child process, its first line, its log, signals, its RSS.
//! - [`servicios`]: [`Escenario`] and the services it starts ([`Maestro`], [`Esclavo`], memoria).
//! - [`api`]: the maestro's API and an esclavo's `/estado`, as the scenarios call them.
//! - waiting for conditions with deadlines: [`pruebas::espera`], re-exported here.
//! - [`verificacion`]: acknowledged ids and the final check.
//! - [`informe`]: the figures file.
//! - [`red`]: network namespaces for the partition.

pub mod api;
pub mod binarios;
pub mod informe;
pub mod proceso;
pub mod red;
pub mod servicios;
pub mod verificacion;

pub use api::Api;
pub use informe::Informe;
pub use proceso::Proceso;
pub use pruebas::{esperar_a, esperar_hasta, sostener};
pub use servicios::{
    EnRed, Escenario, Esclavo, Maestro, OpcionesEsclavo, OpcionesMaestro, OpcionesMemoria,
};
pub use verificacion::{Aceptados, Recuento, verificar};
