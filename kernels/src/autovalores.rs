//! `autovalores`: every eigenvalue of a seeded random symmetric `n × n` `f64` matrix, with the
//! checks a person can read: largest and smallest, their sum against the trace, and the
//! residual of one sampled eigenpair.
//!
//! Input: `A[i][j] = A[j][i]` for `i ≥ j` is element `i(i+1)/2 + j` of stream [`FLUJO`] of
//! [`crate::azar::valor`] under the job's seed, its top 53 bits as an `f64` in `[-1, 1)` (a
//! Wigner matrix: its spectrum fills about `±2√(n/3)`).
//!
//! - `Secuencial`: one thread, [`tridiagonal::reducir`] (Householder, one column at a time) then
//!   the root-free implicit QL iteration ([`tridiagonal::valores_propios`], LAPACK's dsterf).
//! - `Paralelo`: the Householder tridiagonalisation in panels on every core (`bloques.rs`:
//!   LAPACK's blocked dsytrd, the rank-2k updates faer's matrix products, the symmetric
//!   matrix-vector products split over rayon), then the same QL (O(n²), one thread).
//! - `Cuda`: the Householder reduction on the GPU, one column at a time
//!   (`kernels/cuda/autovalores.cu`, host side `autovalores/cuda.rs`), then the same QL on the
//!   host.
//!
//! The sampled eigenpair: the eigenvalue at [`indice_muestra`] (seeded), its eigenvector by
//! inverse iteration on the tridiagonal and the backend's reflectors, and
//! `residuo = ‖A·v − λ·v‖₂ / (‖A‖₂·‖v‖₂)` with `‖A‖₂ = max |λ|` and `A·v` computed from the
//! generator's entries (not from the reduced matrix). Neither is part of the kernel time.
//!
//! Kernel time: the reduction and the tridiagonal eigenvalues (on the GPU: the reduction's
//! kernels, plus the host's QL; with the copies in `duracion_con_copias`). GFLOP/s count
//! `(4/3)·n³`, the reduction's flops in LAPACK's count.
//!
//! Tolerance between backends ([`TOLERANCIA`]): sorted eigenvalues agree within
//! `4·n·ε·‖A‖₂`. Each backend is backward stable (the computed spectrum is the exact one of
//! `A + E` with `‖E‖₂` a modest multiple of `n·ε·‖A‖₂`), and by Weyl's inequality each eigenvalue
//! moves by at most `‖E‖₂`; measured differences are far below (docs/kernels.md).
//!
//! Stopping ([`Control`]): while the matrix is generated (every row block), `Secuencial` every
//! 2²⁴ multiply-adds of the reduction (within a column for large n) and between QL sweeps;
//! `Paralelo` before each column of the reduction (a panel's update, at most 2·32·n² flops, in
//! between) and between QL sweeps; `Cuda` before each piece of 64 columns and between QL
//! sweeps.

mod bloques;
#[cfg(feature = "cuda")]
mod cuda;
mod simetrica;
pub mod tridiagonal;

use std::time::Duration;

use comun::Algoritmo;
use comun::api::Detalle;
use comun::trabajo::ParamsAutovalores;
use rayon::prelude::*;

use crate::azar::valor;
use crate::control::Control;
use crate::salida::por_segundo;
use crate::{ErrorKernel, Salida};

/// Whether the kernel has a GPU version (must match `comun::Tipo::tiene_cuda`).
pub const CUDA: bool = true;

/// Stream of the matrix entries.
pub const FLUJO: u64 = 60;

/// Stream of the sampled eigenpair: its index, and the start of the inverse iteration.
pub const FLUJO_MUESTRA: u64 = 61;

/// Backends agree when their sorted eigenvalues differ by at most `TOLERANCIA · n · ‖A‖₂`
/// (4 ε per unit of size; see the module's documentation).
pub const TOLERANCIA: f64 = 4.0 * f64::EPSILON;

/// The eigenvalues of one matrix and the sampled eigenvector.
#[derive(Debug, Clone, PartialEq)]
pub struct Solucion {
    /// Every eigenvalue, ascending.
    pub valores: Vec<f64>,
    /// A unit eigenvector for the eigenvalue asked for.
    pub vector: Vec<f64>,
    /// Kernel time (reduction and tridiagonal eigenvalues).
    pub duracion: Duration,
    /// On the GPU, the kernel time plus the host↔device copies; `None` on the CPU.
    pub duracion_con_copias: Option<Duration>,
}

/// Entry `(i, j)` of the seeded matrix of `semilla` (symmetric in `i`, `j`).
#[inline]
pub fn entrada(semilla: u64, i: usize, j: usize) -> f64 {
    let (i, j) = (i.max(j) as u64, i.min(j) as u64);
    let bits = valor(semilla, FLUJO, i * (i + 1) / 2 + j) >> 11;
    bits as f64 * (2.0 / 9_007_199_254_740_992.0) - 1.0
}

/// The seeded `n × n` matrix, row-major, filled on every core; `control` is checked between
/// blocks of rows.
pub fn matriz(n: usize, semilla: u64, control: &Control) -> Result<Vec<f64>, ErrorKernel> {
    let mut a = vec![0.0; n * n];
    let filas_por_bloque = (1 << 20) / n.max(1) + 1;
    a.par_chunks_mut((filas_por_bloque * n).max(1))
        .enumerate()
        .try_for_each(|(b, bloque)| {
            control.comprobar()?;
            for (r, fila) in bloque.chunks_exact_mut(n).enumerate() {
                let i = b * filas_por_bloque + r;
                fila.iter_mut()
                    .enumerate()
                    .for_each(|(j, x)| *x = entrada(semilla, i, j));
            }
            Ok::<(), ErrorKernel>(())
        })?;
    Ok(a)
}

/// Index (among the ascending eigenvalues) of the sampled eigenpair of a job.
pub fn indice_muestra(p: &ParamsAutovalores) -> usize {
    (valor(p.semilla, FLUJO_MUESTRA, 0) % u64::from(p.n.max(1))) as usize
}

/// The start vector of inverse iteration: seeded, never orthogonal to an eigenvector in
/// practice.
fn muestra_inicial(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| (valor(0, FLUJO_MUESTRA, i as u64 + 1) >> 11) as f64 / 9e15 - 0.5)
        .collect()
}

/// Eigenvalues of the symmetric `n × n` row-major `a` (overwritten) on `algoritmo`, and a
/// unit eigenvector of the `indice`-th smallest.
pub fn resolver(
    a: &mut [f64],
    n: usize,
    indice: usize,
    algoritmo: Algoritmo,
    control: &Control,
) -> Result<Solucion, ErrorKernel> {
    assert_eq!(
        a.len(),
        n * n,
        "autovalores::resolver: `a` must hold n·n values"
    );
    assert!(
        indice < n,
        "autovalores::resolver: index {indice} of {n} eigenvalues"
    );
    control.comprobar()?;
    match algoritmo {
        Algoritmo::Cuda => {
            #[cfg(feature = "cuda")]
            return cuda::resolver(a, n, indice, control);
            #[cfg(not(feature = "cuda"))]
            return Err(ErrorKernel::NoDisponible(crate::SIN_CUDA.into()));
        }
        _ if n == 1 => Ok(Solucion {
            valores: vec![a[0]],
            vector: vec![1.0],
            duracion: Duration::ZERO,
            duracion_con_copias: None,
        }),
        Algoritmo::Secuencial => en_cpu(a, n, indice, control, tridiagonal::reducir),
        _ => en_cpu(a, n, indice, control, bloques::reducir),
    }
}

/// The CPU backends: `reducir` (one column at a time for `Secuencial`, in panels on every core
/// for `Paralelo`), the QL iteration, then the sampled vector.
fn en_cpu(
    a: &mut [f64],
    n: usize,
    indice: usize,
    control: &Control,
    reducir: fn(&mut [f64], usize, &Control) -> Result<tridiagonal::Tridiagonal, ErrorKernel>,
) -> Result<Solucion, ErrorKernel> {
    let inicio = std::time::Instant::now();
    let t = reducir(a, n, control)?;
    let valores = tridiagonal::valores_propios(&t.d, &t.e, control)?;
    let duracion = inicio.elapsed();
    let mut vector = tridiagonal::vector_propio(&t.d, &t.e, valores[indice], &muestra_inicial(n));
    tridiagonal::aplicar_q(a, n, &t.tau, &mut vector);
    tridiagonal::normalizar(&mut vector);
    Ok(Solucion {
        valores,
        vector,
        duracion,
        duracion_con_copias: None,
    })
}

/// Runs the job on `algoritmo`, checking `control` between chunks of work.
pub fn ejecutar(
    p: &ParamsAutovalores,
    algoritmo: Algoritmo,
    control: &Control,
) -> Result<Salida, ErrorKernel> {
    let p = p.validado()?;
    disponible(algoritmo)?;
    let n = p.n as usize;
    let indice = indice_muestra(&p);
    let mut a = matriz(n, p.semilla, control)?;
    let s = resolver(&mut a, n, indice, algoritmo, control)?;
    drop(a);
    let (menor, mayor) = (s.valores[0], s.valores[n - 1]);
    let norma = menor.abs().max(mayor.abs());
    let residuo = residuo(
        |i, fila| {
            fila.iter_mut()
                .enumerate()
                .for_each(|(j, x)| *x = entrada(p.semilla, i, j))
        },
        s.valores[indice],
        &s.vector,
        norma,
        control,
    )?;
    let detalle = Detalle::Autovalores {
        n: p.n,
        mayor,
        menor,
        suma: s.valores.iter().sum(),
        traza: (0..n).map(|i| entrada(p.semilla, i, i)).sum(),
        residuo,
        gflops: por_segundo(4.0 / 3.0 * (n as f64).powi(3), s.duracion) / 1e9,
    };
    Ok(Salida {
        duracion_con_copias: s.duracion_con_copias,
        ..Salida::cpu(s.duracion, detalle)
    })
}

/// Whether `algoritmo` can run here, asked before the matrix is built (`Cuda` without a GPU
/// answers at once).
fn disponible(algoritmo: Algoritmo) -> Result<(), ErrorKernel> {
    if algoritmo != Algoritmo::Cuda {
        return Ok(());
    }
    #[cfg(feature = "cuda")]
    return crate::cuda::motor().map(|_| ());
    #[cfg(not(feature = "cuda"))]
    Err(ErrorKernel::NoDisponible(crate::SIN_CUDA.into()))
}

/// `‖A·v − λ·v‖₂ / (‖A‖₂·‖v‖₂)`, with row `i` of `A` written by `fila(i, buffer)`, rows on
/// every core (`control` checked between blocks of them); 0 for a zero `v`, the unscaled
/// residual for a zero `A`.
pub fn residuo(
    fila: impl Fn(usize, &mut [f64]) + Sync,
    lambda: f64,
    v: &[f64],
    norma: f64,
    control: &Control,
) -> Result<f64, ErrorKernel> {
    let n = v.len();
    let bloque = (1 << 20) / n.max(1) + 1;
    let cuadrados: Vec<f64> = (0..n.div_ceil(bloque))
        .into_par_iter()
        .map(|b| {
            control.comprobar()?;
            let mut buffer = vec![0.0; n];
            let filas = b * bloque..((b + 1) * bloque).min(n);
            Ok(filas
                .map(|i| {
                    fila(i, &mut buffer);
                    let r = tridiagonal::producto(&buffer, v) - lambda * v[i];
                    r * r
                })
                .sum())
        })
        .collect::<Result<_, ErrorKernel>>()?;
    let r = cuadrados.iter().sum::<f64>().sqrt();
    let nv = tridiagonal::producto(v, v).sqrt();
    Ok(match (nv > 0.0, norma > 0.0) {
        (false, _) => 0.0,
        (true, true) => r / (norma * nv),
        (true, false) => r / nv,
    })
}

/// `max |xᵢ − yᵢ| / max |xᵢ|` of two ascending spectra (0 for two zero spectra): compared with
/// `TOLERANCIA · n` in the agreement tests.
pub fn diferencia_relativa(x: &[f64], y: &[f64]) -> f64 {
    let peor = x
        .iter()
        .zip(y)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    let norma = x.iter().map(|a| a.abs()).fold(0.0, f64::max);
    if norma > 0.0 { peor / norma } else { peor }
}
