//! The `fft` job kernel: the complex FFT of a seeded signal, 1-D or 2-D, any size.
//!
//! Stub until its kernel lands: every backend answers `NoDisponible`.

use comun::Algoritmo;
use comun::trabajo::ParamsFft;

use crate::{Control, ErrorKernel, Salida};

/// Whether the kernel has a GPU version (must match `comun::Tipo::tiene_cuda`).
pub const CUDA: bool = true;

/// Runs the job on `algoritmo`, checking `control` between chunks of work.
pub fn ejecutar(
    p: &ParamsFft,
    algoritmo: Algoritmo,
    control: &Control,
) -> Result<Salida, ErrorKernel> {
    let _ = (p, algoritmo, control);
    Err(ErrorKernel::NoDisponible("fft: not implemented yet".into()))
}
