//! `matmul`: `C = A·B` in `f32`, for `n × n` row-major matrices, `iteraciones` times.
//!
//! Inputs: `A[i][k]` is element `i·n + k` of stream 1 and `B` of stream 2 of
//! [`crate::azar::vector`] under seed [`SEMILLA`], uniform in `[-1, 1)`. The result reports
//! the sum of every entry of `C` (in `f64`) and the largest error of [`MUESTRAS`] seeded
//! entries against an `f64` reference computed from the same `f32` inputs, relative to the
//! largest reference entry among them (a normwise relative error: an entry-wise one explodes
//! where an entry happens to be near zero).
//!
//! - `Secuencial`: the textbook i-k-j loop, one thread, `f32` accumulation in `k` order.
//! - `Paralelo`: [`gemm_f32`] (`matmul/producto.rs`): the `gemm` crate's micro-kernels
//!   (AVX-512 with the default `avx512` feature on a CPU that has it, AVX2 and FMA otherwise,
//!   chosen at run time), C cut into slabs of columns that rayon hands to every core; it sums in
//!   another order than `Secuencial`, with fused multiply-adds.
//! - `Cuda`: `kernels/cuda/calculo.cu`, a shared-memory tiled SGEMM (FMA allowed); its host
//!   side is `matmul/cuda.rs`.
//!
//! Timing: every page of C is touched before the clock starts (a fresh 16 MiB C costs about
//! 7 ms of page faults, 5 to 10 % of a product at n = 2048 on 2 cores).
//!
//! Stopping ([`Control`]): `Secuencial` checks between rows of `C` (at most 2²⁴ multiply-adds
//! apart); `Paralelo` before each slab of C (at most 2³⁴ multiply-adds, at least 4 slabs per
//! thread: about 0.1 to 0.2 s of one core at n = 8192, 2 × 2²⁵ multiply-adds apart at
//! n = 2048); `Cuda` between pieces of about 10¹² flops (one iteration at n = 8192). Each slab
//! packs only its own columns of `B`, so cutting C costs nothing measurable (row panels, which
//! pack all of `B` each, measured 4–25 % slower at n = 8192).
//!
//! Tolerance between backends: `max |C₁ − C₂| ≤ 1e-5 · max |C|`, entry-wise over the whole
//! matrix (the tests use it up to n = 300); each backend's `error_relativo` stays below `1e-5`
//! (measured around 1e-7 to 1e-6).

#[cfg(feature = "cuda")]
mod cuda;
mod producto;

use producto::gemm_f32_con;
pub use producto::{OpcionesGemm, gemm_f32};

use std::time::{Duration, Instant};

use comun::Algoritmo;
use comun::trabajo::ParamsMatmul;
use rayon::prelude::*;

use crate::ErrorKernel;
use crate::azar;
use crate::control::{Contador, Control};

/// The seed of the matrices (the job has none: the same size gives the same matrices).
pub const SEMILLA: u64 = 0x6D61_746D_756C;

/// Entries checked against the `f64` reference.
pub const MUESTRAS: u64 = 64;

/// The product and what it took.
#[derive(Debug, Clone, PartialEq)]
pub struct Producto {
    /// Side of the matrices.
    pub n: u32,
    /// `C`, row-major (of the last repetition).
    pub c: Vec<f32>,
    /// Kernel time of all repetitions (on the GPU's clock for `Cuda`, without copies).
    pub duracion: Duration,
    /// With the GPU's allocations and copies (equal to `duracion` on the CPU).
    pub total: Duration,
}

/// The seeded inputs `A`, `B` of size `n`.
pub fn entradas(n: u32) -> (Vec<f32>, Vec<f32>) {
    let nn = n as usize * n as usize;
    (
        azar::vector(SEMILLA, 1, nn, -1.0, 1.0),
        azar::vector(SEMILLA, 2, nn, -1.0, 1.0),
    )
}

/// [`entradas`], unless `control` stops the run while they are generated.
fn entradas_con(n: u32, control: &Control) -> Result<(Vec<f32>, Vec<f32>), ErrorKernel> {
    let nn = n as usize * n as usize;
    Ok((
        azar::vector_con(SEMILLA, 1, nn, -1.0, 1.0, control)?,
        azar::vector_con(SEMILLA, 2, nn, -1.0, 1.0, control)?,
    ))
}

/// Multiply-adds `Secuencial` computes between two checks of its [`Control`] (about 10 ms).
const FMAS_ENTRE_COMPROBACIONES: u64 = 1 << 24;

/// Multiplies the seeded matrices of `p` on `algoritmo`, `p.iteraciones` times.
pub fn matmul(p: &ParamsMatmul, algoritmo: Algoritmo) -> Result<Producto, ErrorKernel> {
    matmul_con(p, algoritmo, &Control::ninguno())
}

/// [`matmul`] under `control`, checked as the module's documentation says.
pub fn matmul_con(
    p: &ParamsMatmul,
    algoritmo: Algoritmo,
    control: &Control,
) -> Result<Producto, ErrorKernel> {
    ParamsMatmul::new(p.n, p.iteraciones)?;
    control.comprobar()?;
    if algoritmo == Algoritmo::Cuda {
        #[cfg(feature = "cuda")]
        return cuda::matmul(p, control);
        #[cfg(not(feature = "cuda"))]
        return Err(ErrorKernel::NoDisponible(crate::SIN_CUDA.into()));
    }
    let (a, b) = entradas_con(p.n, control)?;
    let n = p.n as usize;
    let mut c = vec![0.0f32; n * n];
    // Touch every page of `c` before timing: first-touch faults are not the kernel's work.
    c.par_chunks_mut(1 << 16).for_each(|t| t.fill(1.0));
    let inicio = Instant::now();
    for _ in 0..p.iteraciones {
        match algoritmo {
            Algoritmo::Secuencial => secuencial_con(&a, &b, &mut c, n, control)?,
            _ => {
                gemm_f32_con(n, n, n, &a, &b, &mut c, OpcionesGemm::default(), control)?;
            }
        }
    }
    let duracion = inicio.elapsed();
    Ok(Producto {
        n: p.n,
        c,
        duracion,
        total: duracion,
    })
}

/// `C = A·B`, i-k-j order, checking `control` between rows.
fn secuencial_con(
    a: &[f32],
    b: &[f32],
    c: &mut [f32],
    n: usize,
    control: &Control,
) -> Result<(), ErrorKernel> {
    let mut contador = Contador::new(control, FMAS_ENTRE_COMPROBACIONES);
    for (i, fila_c) in c.chunks_exact_mut(n).enumerate() {
        contador.avanzar((n * n) as u64)?;
        fila_c.fill(0.0);
        for k in 0..n {
            let aik = a[i * n + k];
            let fila_b = &b[k * n..(k + 1) * n];
            for (cij, bkj) in fila_c.iter_mut().zip(fila_b) {
                *cij += aik * bkj;
            }
        }
    }
    Ok(())
}

/// The sum of every entry, in `f64`, in a fixed order (rows in parallel, then in order).
pub fn checksum(c: &[f32], n: u32) -> f64 {
    let n = n as usize;
    let filas: Vec<f64> = c
        .par_chunks(n.max(1))
        .map(|fila| fila.iter().map(|&x| f64::from(x)).sum())
        .collect();
    filas.iter().sum()
}

/// Largest `|C − ref|` over [`MUESTRAS`] seeded entries divided by the largest `|ref|` there,
/// `ref` computed in `f64` from the `f32` inputs.
pub fn error_relativo(c: &[f32], n: u32) -> f64 {
    let nn = u64::from(n) * u64::from(n);
    let nu = n as usize;
    let (mut peor, mut mayor) = (0.0f64, 0.0f64);
    for s in 0..MUESTRAS.min(nn) {
        let idx = if nn <= MUESTRAS {
            s
        } else {
            azar::valor(SEMILLA, 3, s) % nn
        } as usize;
        let (i, j) = (idx / nu, idx % nu);
        let referencia: f64 = (0..nu)
            .map(|k| {
                let a = f64::from(azar::uniforme(SEMILLA, 1, (i * nu + k) as u64, -1.0, 1.0));
                let b = f64::from(azar::uniforme(SEMILLA, 2, (k * nu + j) as u64, -1.0, 1.0));
                a * b
            })
            .sum();
        peor = peor.max((f64::from(c[idx]) - referencia).abs());
        mayor = mayor.max(referencia.abs());
    }
    if mayor > 0.0 { peor / mayor } else { peor }
}

/// `max |x − y| / max |x|` over two matrices (0 for two zero matrices).
pub fn diferencia_relativa(x: &[f32], y: &[f32]) -> f64 {
    let mut peor = 0.0f64;
    let mut mayor = 0.0f64;
    for (&a, &b) in x.iter().zip(y) {
        peor = peor.max((f64::from(a) - f64::from(b)).abs());
        mayor = mayor.max(f64::from(a).abs());
    }
    if mayor > 0.0 { peor / mayor } else { peor }
}
