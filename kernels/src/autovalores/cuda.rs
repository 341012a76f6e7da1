//! `Cuda` for autovalores: the host side of `kernels/cuda/autovalores.cu`. The matrix goes to
//! the GPU once; each column's four kernels reduce it (Householder, as `Secuencial` does); the
//! reduced matrix and the tridiagonal come back, and the host finishes with the CPU's code: the
//! QL iteration for the eigenvalues, inverse iteration and the reflectors for the sampled
//! eigenvector (`tridiagonal.rs`).
//!
//! Times: the kernels on the GPU's clock plus the host's QL (`duracion`); with the copies, the
//! whole GPU call plus the QL (`duracion_con_copias`). Stopping: the [`Control`] is checked
//! before each piece of [`COLUMNAS_POR_PIEZA`] columns (at most two queued ahead of the GPU)
//! and between QL sweeps.
//!
//! The PTX is embedded here and loaded once per GPU (`Motor::modulo`).

use std::time::{Duration, Instant};

use cust::launch;
use cust::memory::DeviceBuffer;

use super::tridiagonal::{self, aplicar_q, normalizar, valores_propios, vector_propio};
use super::{Solucion, muestra_inicial};
use crate::ErrorKernel;
use crate::control::Control;
use crate::cuda::{Llamada, bajar, fallo, subir, trozos};

/// The kernels as PTX (ISA 7.8, `compute_70`, FMA allowed), generated from `autovalores.cu`.
const PTX: &str = include_str!("../../cuda/autovalores.ptx");

/// Columns reduced between two checks of the control: at n = 8192 about 64 × 1.6 GB of
/// memory traffic, some 40 ms on an H100; far less for smaller matrices.
const COLUMNAS_POR_PIEZA: u64 = 64;

/// Threads of the one-block kernels (`HILOS_BLOQUE` in autovalores.cu).
const HILOS_BLOQUE: u32 = 1024;

/// Eigenvalues of the symmetric `n × n` `a` and the eigenvector of the `indice`-th smallest,
/// the reduction on the GPU (`a` itself is left as it was).
pub(super) fn resolver(
    a: &[f64],
    n: usize,
    indice: usize,
    control: &Control,
) -> Result<Solucion, ErrorKernel> {
    let llamada = Llamada::new()?;
    let (reducida, t, kernel) = reducir(&llamada, a, n, control)?;
    let tiempos = llamada.tiempos(kernel);
    let inicio = Instant::now();
    let valores = valores_propios(&t.d, &t.e, control)?;
    let ql = inicio.elapsed();
    let mut vector = vector_propio(&t.d, &t.e, valores[indice], &muestra_inicial(n));
    aplicar_q(&reducida, n, &t.tau, &mut vector);
    normalizar(&mut vector);
    Ok(Solucion {
        valores,
        vector,
        duracion: tiempos.kernel + ql,
        duracion_con_copias: Some(tiempos.total + ql),
    })
}

/// The GPU's reduction of `a`: the reduced matrix (the reflectors in its rows), the tridiagonal
/// and the kernel time.
fn reducir(
    llamada: &Llamada,
    a: &[f64],
    n: usize,
    control: &Control,
) -> Result<(Vec<f64>, tridiagonal::Tridiagonal, Duration), ErrorKernel> {
    let modulo = llamada.motor.modulo(PTX, "autovalores.ptx")?;
    let funcion = |nombre: &str| {
        modulo
            .get_function(nombre)
            .map_err(fallo(&format!("finding the {nombre} kernel")))
    };
    let (reflector, symv, w, rango2) = (
        funcion("autovalores_reflector")?,
        funcion("autovalores_symv")?,
        funcion("autovalores_w")?,
        funcion("autovalores_rango2")?,
    );
    let a_gpu = subir(a)?;
    let nulos = |cuantos: usize, que: &str| {
        DeviceBuffer::<f64>::zeroed(cuantos.max(1)).map_err(fallo(&format!("allocating {que}")))
    };
    let (d_gpu, e_gpu, tau_gpu, p_gpu) = (
        nulos(n, "d")?,
        nulos(n, "e")?,
        nulos(n, "tau")?,
        nulos(n, "p")?,
    );
    let motor = llamada.motor;
    let flujo = &llamada.flujo;
    let ni = n as i32;
    let piezas = trozos(n.saturating_sub(1) as u64, COLUMNAS_POR_PIEZA);
    let kernel = llamada.en_piezas(
        control,
        piezas,
        "reducing on the GPU",
        |(desde, cuantas)| {
            for k in desde..desde + cuantas {
                let m = n - k as usize - 1;
                let (k, filas) = (k as i32, m as u64);
                let bloques = motor.bloques(32 * filas);
                let rejilla = (
                    (m as u32).div_ceil(32).min(16),
                    (m as u32).div_ceil(8).min(256),
                );
                // SAFETY: the four kernels of autovalores.cu with the signatures below, launched
                // with the block shapes they expect (HILOS_BLOQUE threads for the one-block ones,
                // 256 threads or 32 × 8 for the others); every index they touch lies in the n × n
                // matrix or the n-long vectors, which outlive the stream's work.
                unsafe {
                    launch!(reflector<<<1, HILOS_BLOQUE, 0, flujo>>>(
                        a_gpu.as_device_ptr(), ni, k,
                        d_gpu.as_device_ptr(), e_gpu.as_device_ptr(), tau_gpu.as_device_ptr()
                    ))
                    .map_err(fallo("launching autovalores_reflector"))?;
                    launch!(symv<<<bloques, 256, 0, flujo>>>(
                        a_gpu.as_device_ptr(), ni, k, tau_gpu.as_device_ptr(), p_gpu.as_device_ptr()
                    ))
                    .map_err(fallo("launching autovalores_symv"))?;
                    launch!(w<<<1, HILOS_BLOQUE, 0, flujo>>>(
                        a_gpu.as_device_ptr(), ni, k, tau_gpu.as_device_ptr(), p_gpu.as_device_ptr()
                    ))
                    .map_err(fallo("launching autovalores_w"))?;
                    launch!(rango2<<<rejilla, (32, 8), 0, flujo>>>(
                        a_gpu.as_device_ptr(), ni, k, tau_gpu.as_device_ptr(), p_gpu.as_device_ptr()
                    ))
                    .map_err(fallo("launching autovalores_rango2"))?;
                }
            }
            Ok(())
        },
    )?;
    let reducida = bajar(&a_gpu, "copying the reduced matrix back")?;
    let mut t = tridiagonal::Tridiagonal {
        d: bajar(&d_gpu, "copying d back")?,
        e: bajar(&e_gpu, "copying e back")?,
        tau: bajar(&tau_gpu, "copying tau back")?,
    };
    t.d.truncate(n);
    t.e.truncate(n.saturating_sub(1));
    t.tau.truncate(n.saturating_sub(1));
    if n > 0 {
        t.d[n - 1] = reducida[n * n - 1];
    }
    Ok((reducida, t, kernel))
}
