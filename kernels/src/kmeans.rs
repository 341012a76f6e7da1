//! The `kmeans` job kernel: Lloyd's k-means on seeded Gaussian blobs.
//!
//! Stub until its kernel lands: every backend answers `NoDisponible`.

use comun::Algoritmo;
use comun::trabajo::ParamsKmeans;

use crate::{Control, ErrorKernel, Salida};

/// Whether the kernel has a GPU version (must match `comun::Tipo::tiene_cuda`).
pub const CUDA: bool = true;

/// Runs the job on `algoritmo`, checking `control` between chunks of work.
pub fn ejecutar(
    p: &ParamsKmeans,
    algoritmo: Algoritmo,
    control: &Control,
) -> Result<Salida, ErrorKernel> {
    let _ = (p, algoritmo, control);
    Err(ErrorKernel::NoDisponible(
        "kmeans: not implemented yet".into(),
    ))
}
