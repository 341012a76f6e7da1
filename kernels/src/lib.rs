//! Compute kernels of the cluster: what an esclavo actually runs.
//!
//! Each job kernel is one module that owns its three backends: the `Secuencial` and `Paralelo`
//! code, and (feature `cuda`) the host side of its GPU kernel in a `cuda` submodule.
//!
//! - [`julia`](mod@julia): the Julia set's exact definition, [`Conteos`] and the `Secuencial`
//!   reference; `julia/paralelo.rs` (all cores, vector lanes, run-time CPU dispatch),
//!   `julia/color.rs` (the palette and PNG encoding), `julia::cuda` (the GPU).
//! - [`matmul`](mod@matmul), [`vector_add`](mod@vector_add), [`montecarlo`](mod@montecarlo),
//!   [`nbody`](mod@nbody): the other job kernels, each on the three backends; [`azar`] holds
//!   the seeded generators (inputs, Philox4x32-10) they all share.
//! - [`fft`](mod@fft), [`autovalores`](mod@autovalores), [`kmeans`](mod@kmeans),
//!   [`red_neuronal`](mod@red_neuronal), [`imagen`](mod@imagen): the catalogue's kernels, each
//!   exporting `ejecutar(params, algoritmo, control) -> Salida` (`imagen`'s takes the uploaded PNG too) and `CUDA` (whether it has a
//!   GPU version, as `comun::Tipo::tiene_cuda` says).
//! - [`salida`](mod@salida): [`Salida`], what every kernel run hands back (times, the wire
//!   detail, the PNG).
//! - [`ejecutar`](mod@ejecutar): runs any job and builds the wire
//!   [`Resultado`](comun::api::Resultado); [`ejecutar_con`] under a [`Control`],
//!   [`ejecutar_con_entrada`] with an uploaded image.
//! - [`control`](mod@control): [`Control`], the cancellation flag and time limit every kernel
//!   checks between chunks of its work.
//! - [`dispositivo`](mod@dispositivo): describes the hardware a backend runs on.
//! - `cuda` (feature `cuda`): what every kernel's GPU side shares, and no kernel's own code:
//!   each GPU set up once (driver, device, context, the embedded PTX of `cuda/julia.cu` and
//!   `cuda/calculo.cu`), a call's stream and timing, copies, launching in pieces, driver
//!   errors.
//! - [`gpus`](mod@gpus): which GPU a thread's `Cuda` work runs on ([`en_gpu`]), and the GPUs
//!   this process can use ([`gpus()`], [`gpu()`]).
//!
//! Invariant: every backend computes the same Julia counts and Monte Carlo counts, bit for bit,
//! for every size; the `f32` kernels agree within the tolerances their modules state.
//! Invariant: every kernel checks its [`Control`] between chunks of work; a run that stops
//! returns [`ErrorKernel::Cancelado`] or [`ErrorKernel::PlazoExcedido`], never a partial result,
//! and a run that does not stop computes exactly what it computed without a control.
//! Invariant: the shared `cuda` module knows no kernel: each kernel's `cuda` submodule calls
//! it, never the reverse, so GPU host code lives next to the CPU code it must agree with.
//! Invariant: the default build has no CUDA dependency; without the `cuda` feature, or without
//! a usable GPU, `Cuda` answers [`ErrorKernel::NoDisponible`] saying why.

#![warn(missing_docs)]

pub mod autovalores;
pub mod azar;
pub mod control;
#[cfg(feature = "cuda")]
pub mod cuda;
pub mod dispositivo;
pub mod ejecutar;
pub mod fft;
pub mod gpus;
pub mod imagen;
pub mod julia;
pub mod kmeans;
pub mod matmul;
pub mod montecarlo;
pub mod nbody;
pub mod red_neuronal;
pub mod salida;
pub mod vector_add;

pub use control::Control;
pub use dispositivo::dispositivo;
pub use ejecutar::{Ejecucion, ejecutar, ejecutar_con, ejecutar_con_entrada};
pub use gpus::{en_gpu, gpu, gpus};
pub use julia::{Conteos, julia};
pub use salida::Salida;

/// Why `Cuda` is not available in a build without the `cuda` feature.
#[cfg(not(feature = "cuda"))]
pub(crate) const SIN_CUDA: &str = "kernels built without the `cuda` feature: no CUDA backend";

/// Why a kernel did not run.
#[derive(Debug, thiserror::Error)]
pub enum ErrorKernel {
    /// The requested backend does not exist on this esclavo; the text says why.
    #[error("backend not available: {0}")]
    NoDisponible(String),
    /// The GPU failed while running the kernel; the text names the step and the CUDA error.
    #[error("GPU error: {0}")]
    Gpu(String),
    /// A parameter is outside the documented limits.
    #[error("invalid parameter: {0}")]
    Parametros(#[from] comun::ErrorCampo),
    /// The run was stopped through its [`Control`] before it finished.
    #[error("cancelled: {motivo}")]
    Cancelado {
        /// Why, as given to [`Control::cancelar`] (`"cancelled by a user"`).
        motivo: String,
    },
    /// The run reached the time limit of its [`Control`] before it finished.
    #[error(
        "time limit of {} s exceeded after {} s",
        control::segundos(.plazo),
        control::segundos(.transcurrido)
    )]
    PlazoExcedido {
        /// The limit.
        plazo: std::time::Duration,
        /// How long it had run when it stopped.
        transcurrido: std::time::Duration,
    },
}
