//! `Cuda` for montecarlo: the host side of the grid-stride Philox kernel of
//! `kernels/cuda/calculo.cu`, which counts whole blocks (two samples each); an odd last
//! sample is counted on the host.
//!
//! Stopping: a piece is one launch over a range of [`bloques_por_pieza`] blocks (about 50 ms),
//! and the run's [`Control`] is checked before each.

use comun::trabajo::ParamsMontecarlo;
use cust::launch;

use super::{Conteo, bloque, clave};
use crate::ErrorKernel;
use crate::control::Control;
use crate::cuda::{HILOS, Limites, Llamada, Tiempos, bajar, fallo, subir, trozos};

/// The samples of `p` inside the quarter circle, counted on the GPU.
pub(super) fn montecarlo(p: &ParamsMontecarlo, control: &Control) -> Result<Conteo, ErrorKernel> {
    let (mut dentro, t) = contar(p.muestras / 2, p.semilla, control)?;
    if p.muestras % 2 == 1 {
        dentro += bloque(p.muestras / 2, clave(p.semilla), true);
    }
    Ok(Conteo {
        muestras: p.muestras,
        dentro,
        duracion: t.kernel,
        total: t.total,
    })
}

/// Blocks in one launch: about 50 ms where each SM retires 64 32-bit integer instructions per
/// clock and a block takes about 100 (Philox4x32-10 and the test); at least 2²⁰.
fn bloques_por_pieza(limites: &Limites) -> u64 {
    let por_segundo =
        f64::from(limites.multiprocesadores) * 64.0 * f64::from(limites.reloj_khz) * 1e3 / 100.0;
    ((por_segundo * 0.05) as u64).max(1 << 20)
}

/// Points inside among the first `2 · bloques_philox` samples (whole Philox blocks) under
/// `semilla`; `control` is checked between launches.
fn contar(
    bloques_philox: u64,
    semilla: u64,
    control: &Control,
) -> Result<(u64, Tiempos), ErrorKernel> {
    let llamada = Llamada::new()?;
    let motor = llamada.motor;
    let funcion = llamada.funcion_calculo("montecarlo")?;
    let dentro_gpu = subir(&[0u64])?;
    let flujo = &llamada.flujo;
    let piezas = trozos(bloques_philox, bloques_por_pieza(&motor.limites()));
    let kernel = llamada.en_piezas(control, piezas, "running montecarlo", |(desde, cuantos)| {
        let grid = motor.bloques(cuantos);
        // SAFETY: montecarlo(u64, u64, u32, u32, u64*) in calculo.cu; it only adds to the one
        // u64 of `dentro_gpu`, which outlives the stream's work.
        unsafe {
            launch!(funcion<<<grid, HILOS, 0, flujo>>>(
                desde,
                desde + cuantos,
                semilla as u32,
                (semilla >> 32) as u32,
                dentro_gpu.as_device_ptr()
            ))
        }
        .map_err(fallo("launching montecarlo"))
    })?;
    let dentro = bajar(&dentro_gpu, "copying the count back")?;
    Ok((dentro[0], llamada.tiempos(kernel)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn h100_sxm_pieces_follow_the_formula() {
        let bloques = bloques_por_pieza(&Limites::H100_SXM);
        assert!((bloques as f64 / 1e9 - 8.36).abs() < 0.01, "{bloques}");
    }
}
