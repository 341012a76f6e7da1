//! `Cuda` for vector_add: the host side of the grid-stride `float4` kernel of
//! `kernels/cuda/calculo.cu`.
//!
//! Stopping: a piece is as many iterations as read and write about [`BYTES_POR_PIEZA`] (at
//! least one), and the run's [`Control`] is checked before each.

use comun::trabajo::ParamsVectorAdd;
use cust::launch;

use super::{Suma, entradas_con};
use crate::ErrorKernel;
use crate::control::Control;
use crate::cuda::{HILOS, Llamada, Tiempos, bajar, fallo, reservar, subir, trozos};

/// vector_add bytes read and written in one piece: a few ms at HBM bandwidth.
const BYTES_POR_PIEZA: f64 = 8.0 * (1u64 << 30) as f64;

/// The seeded vectors of `p` added on the GPU, `p.iteraciones` times; without a GPU,
/// [`ErrorKernel::NoDisponible`] before the inputs are made.
pub(super) fn vector_add(p: &ParamsVectorAdd, control: &Control) -> Result<Suma, ErrorKernel> {
    crate::cuda::motor()?;
    let (a, b) = entradas_con(p.n, control)?;
    let (c, t) = sumar(&a, &b, p.iteraciones, control)?;
    Ok(Suma {
        c,
        duracion: t.kernel,
        total: t.total,
    })
}

/// `c = a + b` `iteraciones` times on the GPU: c, and the times; `control` is checked between
/// pieces.
fn sumar(
    a: &[f32],
    b: &[f32],
    iteraciones: u32,
    control: &Control,
) -> Result<(Vec<f32>, Tiempos), ErrorKernel> {
    let llamada = Llamada::new()?;
    let funcion = llamada.funcion_calculo("vector_add")?;
    let (a_gpu, b_gpu) = (subir(a)?, subir(b)?);
    let c_gpu = reservar(a.len())?;
    let n = a.len() as u64;
    let grid = llamada.motor.bloques(n.div_ceil(4));
    let por_pieza = (BYTES_POR_PIEZA / (12.0 * n as f64)) as u64;
    let flujo = &llamada.flujo;
    let piezas = trozos(u64::from(iteraciones), por_pieza);
    let kernel = llamada.en_piezas(control, piezas, "running vector_add", |(_, veces)| {
        for _ in 0..veces {
            // SAFETY: vector_add(const float*, const float*, float*, u64) in calculo.cu; it
            // touches indices below n of the three n-element buffers (float4 accesses are
            // 16-byte aligned: cuMemAlloc aligns to 256).
            unsafe {
                launch!(funcion<<<grid, HILOS, 0, flujo>>>(
                    a_gpu.as_device_ptr(),
                    b_gpu.as_device_ptr(),
                    c_gpu.as_device_ptr(),
                    n
                ))
            }
            .map_err(fallo("launching vector_add"))?;
        }
        Ok(())
    })?;
    let c = bajar(&c_gpu, "copying c back")?;
    Ok((c, llamada.tiempos(kernel)))
}
