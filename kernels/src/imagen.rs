//! The `imagen` job kernel: a chain of filters over an uploaded PNG or a generated test image.
//!
//! Stub until its kernel lands: every backend answers `NoDisponible`.

use comun::Algoritmo;
use comun::trabajo::ParamsImagen;

use crate::{Control, ErrorKernel, Salida};

/// Whether the kernel has a GPU version (must match `comun::Tipo::tiene_cuda`).
pub const CUDA: bool = true;

/// Runs the job on `algoritmo` over `entrada` (the uploaded PNG's bytes; `None`: the generated
/// image), checking `control` between chunks of work.
pub fn ejecutar(
    p: &ParamsImagen,
    entrada: Option<&[u8]>,
    algoritmo: Algoritmo,
    control: &Control,
) -> Result<Salida, ErrorKernel> {
    let _ = (p, entrada, algoritmo, control);
    Err(ErrorKernel::NoDisponible(
        "imagen: not implemented yet".into(),
    ))
}
