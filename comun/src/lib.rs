//! Wire types shared by every crate of the cluster.
//!
//! Everything that crosses a process boundary (HTTP bodies between maestro, esclavos and
//! cliente; the `trabajos.txt` format) is defined here and nowhere else. Services keep their
//! own internal types and convert to and from these explicitly.
//!
//! - [`trabajo`]: a job's kernel, parameters and their limits, algorithm, priority, state and
//!   result.
//! - [`nodo`]: bodies exchanged between maestro and esclavos (registration, heartbeat,
//!   dispatch, results); uses [`trabajo`].
//! - [`api`]: bodies of the maestro's public API (`/agregar_trabajo`, `/estado`, …) and its
//!   limits; uses [`trabajo`] and [`nodo`] (an esclavo's capabilities and load).
//! - [`estadisticas`]: bodies of the maestro's statistics, esclavo histories and time series.
//! - [`archivo`]: the `trabajos.txt` parser.
//! - [`imagenes`]: the PNGs uploaded for `imagen` jobs: their limits, the one check and decoding,
//!   the answer of `POST /imagenes`.
//! - [`memoria`]: what memoria nodes measure, their alerts and their reports to the maestro.
//! - [`error`]: the JSON error body every service answers with.

pub mod api;
pub mod archivo;
pub mod error;
pub mod estadisticas;
pub mod fecha;
pub mod imagenes;
pub mod memoria;
pub mod nodo;
pub mod tareas;
pub mod trabajo;

pub use error::{CuerpoError, ErrorCampo};
pub use trabajo::{Algoritmo, Estado, NuevoTrabajo, Parametros, Prioridad, Tipo, TrabajoId};

/// Milliseconds since the Unix epoch: the one time format of the wire.
pub fn ahora_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
