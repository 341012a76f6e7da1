//! The `red_neuronal` job kernel: a multi-layer perceptron trained on a seeded synthetic set.
//!
//! Stub until its kernel lands: every backend answers `NoDisponible`.

use comun::Algoritmo;
use comun::trabajo::ParamsRedNeuronal;

use crate::{Control, ErrorKernel, Salida};

/// Whether the kernel has a GPU version (must match `comun::Tipo::tiene_cuda`).
pub const CUDA: bool = true;

/// Runs the job on `algoritmo`, checking `control` between chunks of work.
pub fn ejecutar(
    p: &ParamsRedNeuronal,
    algoritmo: Algoritmo,
    control: &Control,
) -> Result<Salida, ErrorKernel> {
    let _ = (p, algoritmo, control);
    Err(ErrorKernel::NoDisponible(
        "red_neuronal: not implemented yet".into(),
    ))
}
