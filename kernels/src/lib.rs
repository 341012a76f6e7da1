//! Compute kernels of the cluster: what an esclavo actually runs.
//!
//! - [`julia`](mod@julia): the Julia set's exact definition, [`Conteos`] and the `Secuencial`
//!   reference backend.
//! - `julia_simd`: the `Paralelo` backend (all cores, vector lanes, run-time CPU dispatch).
//! - `color`: the colour palette and PNG encoding of a Julia image.
//! - [`ejecutar`](mod@ejecutar): runs any job (Julia or `espera`) and builds the wire
//!   [`Resultado`](comun::api::Resultado).
//! - [`dispositivo`](mod@dispositivo): describes the hardware a backend runs on.
//!
//! Invariant: every backend computes the same counts, bit for bit, for every size. There is
//! no `Cuda` backend in this build: it answers [`ErrorKernel::NoDisponible`].

#![warn(missing_docs)]

mod color;
pub mod dispositivo;
pub mod ejecutar;
pub mod julia;
mod julia_simd;

pub use dispositivo::dispositivo;
pub use ejecutar::{Ejecucion, ejecutar};
pub use julia::{Conteos, julia};

/// Why a kernel did not run.
#[derive(Debug, thiserror::Error)]
pub enum ErrorKernel {
    /// The requested backend does not exist on this esclavo; the text says why.
    #[error("backend not available: {0}")]
    NoDisponible(String),
    /// A parameter is outside the documented limits.
    #[error("invalid parameter: {0}")]
    Parametros(#[from] comun::ErrorCampo),
}
