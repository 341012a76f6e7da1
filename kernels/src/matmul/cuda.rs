//! `Cuda` for matmul: the host side of the tiled SGEMM of `kernels/cuda/calculo.cu`.
//!
//! Stopping: a piece is as many iterations as make about [`FLOPS_POR_PIEZA`] (at least one),
//! and the run's [`Control`] is checked before each.

use comun::trabajo::ParamsMatmul;
use cust::launch;

use super::{Producto, entradas_con};
use crate::ErrorKernel;
use crate::control::Control;
use crate::cuda::{Llamada, Tiempos, bajar, fallo, reservar, subir, trozos};

/// matmul floating-point operations in one piece: about 50 ms of the tiled SGEMM on an H100
/// (one iteration at n = 8192).
const FLOPS_POR_PIEZA: f64 = 1e12;

/// The seeded matrices of `p` multiplied on the GPU, `p.iteraciones` times; without a GPU,
/// [`ErrorKernel::NoDisponible`] before the inputs are made.
pub(super) fn matmul(p: &ParamsMatmul, control: &Control) -> Result<Producto, ErrorKernel> {
    crate::cuda::motor()?;
    let (a, b) = entradas_con(p.n, control)?;
    let (c, t) = producto(&a, &b, p.n, p.iteraciones, control)?;
    Ok(Producto {
        n: p.n,
        c,
        duracion: t.kernel,
        total: t.total,
    })
}

/// `C = A·B` (n × n) `iteraciones` times on the GPU: C, and the times; `control` is checked
/// between pieces.
fn producto(
    a: &[f32],
    b: &[f32],
    n: u32,
    iteraciones: u32,
    control: &Control,
) -> Result<(Vec<f32>, Tiempos), ErrorKernel> {
    let llamada = Llamada::new()?;
    let funcion = llamada.funcion_calculo("matmul")?;
    let (a_gpu, b_gpu) = (subir(a)?, subir(b)?);
    let c_gpu = reservar(a.len())?;
    let rejilla = (n.div_ceil(128), n.div_ceil(128));
    let por_pieza = (FLOPS_POR_PIEZA / (2.0 * f64::from(n).powi(3))) as u64;
    let flujo = &llamada.flujo;
    let piezas = trozos(u64::from(iteraciones), por_pieza);
    let kernel = llamada.en_piezas(control, piezas, "running matmul", |(_, veces)| {
        for _ in 0..veces {
            // SAFETY: matmul(const float*, const float*, float*, int) in calculo.cu, 256
            // threads a block; every access is inside the three n × n buffers, which outlive
            // the stream's work.
            unsafe {
                launch!(funcion<<<rejilla, 256, 0, flujo>>>(
                    a_gpu.as_device_ptr(),
                    b_gpu.as_device_ptr(),
                    c_gpu.as_device_ptr(),
                    n as i32
                ))
            }
            .map_err(fallo("launching matmul"))?;
        }
        Ok(())
    })?;
    let c = bajar(&c_gpu, "copying C back")?;
    Ok((c, llamada.tiempos(kernel)))
}
