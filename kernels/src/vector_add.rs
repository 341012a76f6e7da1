//! `vector_add`: `c = a + b` in `f32` over `n` elements, `iteraciones` times.
//!
//! Inputs: `a` is stream 4 and `b` stream 5 of [`crate::azar::vector`] under seed
//! [`SEMILLA`], uniform in `[-1, 1)`. An `f32` addition is correctly rounded on every backend,
//! so `c` is equal bit for bit everywhere, and so is the checksum ([`checksum`] sums it in a
//! fixed order). Throughput counts the bytes read and written: `12 · n · iteraciones`.
//!
//! - `Secuencial`: one loop on one thread.
//! - `Paralelo`: rayon over chunks of [`TROZO`] elements; on a CPU with AVX (checked at run
//!   time) each chunk is added 8 lanes at a time and written with non-temporal stores (no
//!   read-for-ownership of `c`), otherwise by a loop compiled for AVX-512, AVX2 and SSE4.1.
//! - `Cuda`: a grid-stride kernel with `float4` loads and stores (`kernels/cuda/calculo.cu`;
//!   host side in `vector_add/cuda.rs`).
//!
//! Stopping ([`Control`]): `Secuencial` checks every 2²² elements, `Paralelo` before each chunk
//! of 2¹⁶ (so within an iteration, whatever `n`), `Cuda` between pieces of about 8 GiB of
//! traffic (several iterations when `n` is small).

#[cfg(feature = "cuda")]
mod cuda;

use std::time::{Duration, Instant};

use comun::Algoritmo;
use comun::trabajo::ParamsVectorAdd;
use multiversion::multiversion;
use rayon::prelude::*;

use crate::ErrorKernel;
use crate::azar;
use crate::control::Control;

/// The seed of the vectors.
pub const SEMILLA: u64 = 0x7665_6361_6464;

/// Elements per rayon task (256 KiB of each vector).
const TROZO: usize = 1 << 16;

/// Elements `Secuencial` adds between two checks of its [`Control`] (16 MiB of each vector,
/// a few ms).
const TROZO_SECUENCIAL: usize = 1 << 22;

/// The sum and what it took.
#[derive(Debug, Clone, PartialEq)]
pub struct Suma {
    /// `c` (of the last repetition).
    pub c: Vec<f32>,
    /// Kernel time of all repetitions (GPU clock for `Cuda`, without copies).
    pub duracion: Duration,
    /// With the GPU's allocations and copies (equal to `duracion` on the CPU).
    pub total: Duration,
}

/// The seeded inputs `a`, `b` of length `n`.
pub fn entradas(n: u64) -> (Vec<f32>, Vec<f32>) {
    (
        azar::vector(SEMILLA, 4, n as usize, -1.0, 1.0),
        azar::vector(SEMILLA, 5, n as usize, -1.0, 1.0),
    )
}

/// Adds the seeded vectors of `p` on `algoritmo`, `p.iteraciones` times.
pub fn vector_add(p: &ParamsVectorAdd, algoritmo: Algoritmo) -> Result<Suma, ErrorKernel> {
    vector_add_con(p, algoritmo, &Control::ninguno())
}

/// [`vector_add`] under `control`, checked as the module's documentation says.
pub fn vector_add_con(
    p: &ParamsVectorAdd,
    algoritmo: Algoritmo,
    control: &Control,
) -> Result<Suma, ErrorKernel> {
    ParamsVectorAdd::new(p.n, p.iteraciones)?;
    control.comprobar()?;
    if algoritmo == Algoritmo::Cuda {
        #[cfg(feature = "cuda")]
        return cuda::vector_add(p, control);
        #[cfg(not(feature = "cuda"))]
        return Err(ErrorKernel::NoDisponible(crate::SIN_CUDA.into()));
    }
    let (a, b) = entradas_con(p.n, control)?;
    let mut c = vec![0.0f32; a.len()];
    // Touch every page of `c` before timing: first-touch faults are not the kernel's work.
    c.par_chunks_mut(TROZO).for_each(|t| t.fill(1.0));
    let inicio = Instant::now();
    for _ in 0..p.iteraciones {
        match algoritmo {
            Algoritmo::Secuencial => {
                for ((c, a), b) in c
                    .chunks_mut(TROZO_SECUENCIAL)
                    .zip(a.chunks(TROZO_SECUENCIAL))
                    .zip(b.chunks(TROZO_SECUENCIAL))
                {
                    control.comprobar()?;
                    sumar(a, b, c);
                }
            }
            _ => paralelo_con(&a, &b, &mut c, control)?,
        }
    }
    let duracion = inicio.elapsed();
    Ok(Suma {
        c,
        duracion,
        total: duracion,
    })
}

/// [`entradas`], unless `control` stops the run while they are generated.
fn entradas_con(n: u64, control: &Control) -> Result<(Vec<f32>, Vec<f32>), ErrorKernel> {
    Ok((
        azar::vector_con(SEMILLA, 4, n as usize, -1.0, 1.0, control)?,
        azar::vector_con(SEMILLA, 5, n as usize, -1.0, 1.0, control)?,
    ))
}

/// `c = a + b` on every core.
pub fn paralelo(a: &[f32], b: &[f32], c: &mut [f32]) {
    // A control that nobody else holds never stops the sum.
    let _ = paralelo_con(a, b, c, &Control::ninguno());
}

/// `c = a + b` on every core, checking `control` before each chunk of [`TROZO`] elements.
fn paralelo_con(a: &[f32], b: &[f32], c: &mut [f32], control: &Control) -> Result<(), ErrorKernel> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") {
        return c
            .par_chunks_mut(TROZO)
            .zip(a.par_chunks(TROZO))
            .zip(b.par_chunks(TROZO))
            .try_for_each(|((c, a), b)| {
                control.comprobar()?;
                // SAFETY: the CPU has AVX (checked above).
                unsafe { sumar_avx_nt(a, b, c) };
                Ok(())
            });
    }
    c.par_chunks_mut(TROZO)
        .zip(a.par_chunks(TROZO))
        .zip(b.par_chunks(TROZO))
        .try_for_each(|((c, a), b)| {
            control.comprobar()?;
            sumar_simd(a, b, c);
            Ok(())
        })
}

/// `c = a + b` with AVX, writing `c` with non-temporal (streaming) stores: a vector too large
/// for the caches is then written without first being read into them (no read-for-ownership),
/// which cuts the memory traffic from 16 to 12 bytes per element. Elements before the first
/// 32-byte-aligned one of `c`, and the last few, are added one by one; the result is the same
/// correctly rounded sum either way.
///
/// # Safety
/// The CPU must support AVX.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
unsafe fn sumar_avx_nt(a: &[f32], b: &[f32], c: &mut [f32]) {
    use std::arch::x86_64::{_mm_sfence, _mm256_add_ps, _mm256_loadu_ps, _mm256_stream_ps};
    let n = c.len().min(a.len()).min(b.len());
    let cabeza = c.as_ptr().align_offset(32).min(n);
    for i in 0..cabeza {
        c[i] = a[i] + b[i];
    }
    let mut i = cabeza;
    while i + 8 <= n {
        // SAFETY: i + 8 <= n, the length of all three slices; c + i is 32-byte aligned (the
        // head above reached alignment and i advances by 8 floats); AVX is enabled.
        unsafe {
            let x = _mm256_loadu_ps(a.as_ptr().add(i));
            let y = _mm256_loadu_ps(b.as_ptr().add(i));
            _mm256_stream_ps(c.as_mut_ptr().add(i), _mm256_add_ps(x, y));
        }
        i += 8;
    }
    for j in i..n {
        c[j] = a[j] + b[j];
    }
    // Streaming stores are weakly ordered: fence them before another thread reads `c`.
    _mm_sfence();
}

/// `c = a + b`, one thread, as the compiler's baseline target makes it.
pub(crate) fn sumar(a: &[f32], b: &[f32], c: &mut [f32]) {
    for ((c, a), b) in c.iter_mut().zip(a).zip(b) {
        *c = a + b;
    }
}

/// `c = a + b` compiled for the best vector unit the CPU has.
#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl+avx512dq",
    "x86_64+avx2+fma",
    "x86_64+sse4.1",
))]
fn sumar_simd(a: &[f32], b: &[f32], c: &mut [f32]) {
    for ((c, a), b) in c.iter_mut().zip(a).zip(b) {
        *c = a + b;
    }
}

/// The sum of every element in `f64`, in a fixed order (chunks in parallel, then in order).
pub fn checksum(c: &[f32]) -> f64 {
    let trozos: Vec<f64> = c
        .par_chunks(TROZO)
        .map(|t| t.iter().map(|&x| f64::from(x)).sum())
        .collect();
    trozos.iter().sum()
}
