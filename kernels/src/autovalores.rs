//! The `autovalores` job kernel: every eigenvalue of a seeded random symmetric matrix.
//!
//! Stub until its kernel lands: every backend answers `NoDisponible`.

use comun::Algoritmo;
use comun::trabajo::ParamsAutovalores;

use crate::{Control, ErrorKernel, Salida};

/// Whether the kernel has a GPU version (must match `comun::Tipo::tiene_cuda`).
pub const CUDA: bool = true;

/// Runs the job on `algoritmo`, checking `control` between chunks of work.
pub fn ejecutar(
    p: &ParamsAutovalores,
    algoritmo: Algoritmo,
    control: &Control,
) -> Result<Salida, ErrorKernel> {
    let _ = (p, algoritmo, control);
    Err(ErrorKernel::NoDisponible(
        "autovalores: not implemented yet".into(),
    ))
}
