//! `fft`: the complex FFT, `X_k = Σ_j x_j·e^{−2πi·jk/N}` (forward, unnormalised), of a seeded
//! `f64` signal of `n × m` points: 1-D of length `n` when `m = 1`, otherwise 2-D (`n` rows of
//! `m` columns, row-major; rows first, then columns). Any size: primes, 1, `1 × m`, `n × 1`.
//!
//! Signal: point `i` (row-major) is `re + i·im` with `re`, `im` from [`azar::uniforme_f64`]
//! in `[−1, 1)`, streams [`FLUJO_REAL`] and [`FLUJO_IMAGINARIO`] under the job's seed.
//!
//! - `Secuencial`: rustfft's planner, one thread: one rustfft call per sequence up to 2¹⁸
//!   points, the plain reference; longer sequences through `Paralelo`'s decomposition on its
//!   one thread (a single call could not be stopped).
//! - `Paralelo`: rustfft (run-time AVX/SSE dispatch) on every core. 2-D: batches of rows, then
//!   blocks of 16+ columns gathered per task; 1-D beyond 2¹⁴ points: the four-step
//!   (`N = n1·n2`, `n1 ≤ √N`, rows ≤ 2¹⁶; transposed in place when `n1²` divides `N`), or
//!   Bluestein over a four-step of a `2^a·3^b·5^c` length when `N` has no such split (a large
//!   prime factor). `fft/plan.rs`, `fft/pasadas.rs`, `fft/trasponer.rs`, `fft/bluestein.rs`,
//!   `fft/cpu.rs`.
//! - `Cuda`: `kernels/cuda/fft.cu`: radix-4/radix-2 Stockham passes for powers of two,
//!   Bluestein over them for any other length, tiled transposes for 2-D; host side in
//!   `fft/cuda.rs`.
//!
//! Reported ([`comun::api::Detalle::Fft`]): `parseval` = `|Σ|X|² / (N·Σ|x|²) − 1|`,
//! `checksum` = `Σ (re + im)` of the spectrum (which is `N·(re + im)` of `x₀` in exact
//! arithmetic, every other input cancelling out), `gflops` = `5·N·log₂N / kernel time`.
//!
//! Tolerance between backends: `‖X₁ − X₂‖₂ ≤ 1e-12·‖X₁‖₂` (docs/kernels.md says why), and
//! `parseval ≤ 1e-12`; `Secuencial` and `Paralelo` are equal bit for bit where they take the same
//! path (every 2-D shape whose sides are ≤ 2¹⁴, every length above 2¹⁸).
//!
//! Stopping ([`Control`]): checked before each task of a pass (≥ 2¹⁵ points: a batch of rows, a
//! block of columns, a chunk of twiddles), so twice per pass at least; `Secuencial`'s single calls
//! (≤ 2¹⁸ points) and `Cuda`'s launches (one pass each) are the longest stretches unchecked.

mod bluestein;
mod cpu;
#[cfg(feature = "cuda")]
mod cuda;
mod pasadas;
mod plan;
mod raices;
mod trasponer;

use std::time::Duration;

use comun::Algoritmo;
use comun::api::Detalle;
use comun::trabajo::ParamsFft;
use rayon::prelude::*;

use crate::salida::por_segundo;
use crate::{Control, ErrorKernel, Salida, azar};

/// Whether the kernel has a GPU version (must match `comun::Tipo::tiene_cuda`).
pub const CUDA: bool = true;

/// A complex `f64`, as rustfft takes it (`#[repr(C)]`: `re`, then `im`).
pub type Complejo = rustfft::num_complex::Complex<f64>;

/// The [`azar`] stream of the signal's real parts.
pub const FLUJO_REAL: u64 = 70;

/// The [`azar`] stream of the signal's imaginary parts.
pub const FLUJO_IMAGINARIO: u64 = 71;

/// Points generated or summed between two checks of the control.
const TROZO: usize = 1 << 18;

/// A transform and what it took.
#[derive(Debug, Clone, PartialEq)]
pub struct Espectro {
    /// Rows (or the length, when `m = 1`).
    pub n: u32,
    /// Columns.
    pub m: u32,
    /// `X`, row-major, `n·m` points.
    pub datos: Vec<Complejo>,
    /// `Σ|x|²` of the signal.
    pub energia_senal: f64,
    /// Kernel time (on the GPU: its passes alone).
    pub duracion: Duration,
    /// On the GPU: with the allocations and copies.
    pub duracion_con_copias: Option<Duration>,
}

impl Espectro {
    /// `|Σ|X|² / (N·Σ|x|²) − 1|`: Parseval's theorem, near 0 for a correct transform.
    pub fn parseval(&self) -> f64 {
        let n = self.datos.len() as f64;
        let energia = energia(&self.datos);
        if self.energia_senal == 0.0 {
            return if energia == 0.0 { 0.0 } else { f64::INFINITY };
        }
        (energia / (n * self.energia_senal) - 1.0).abs()
    }
}

/// The seeded signal of `p`, row-major.
pub fn senal(p: &ParamsFft) -> Vec<Complejo> {
    // A control nobody else holds never stops it.
    senal_con(p, &Control::ninguno()).unwrap_or_default()
}

/// [`senal`], checking `control` every [`TROZO`] points.
fn senal_con(p: &ParamsFft, control: &Control) -> Result<Vec<Complejo>, ErrorKernel> {
    let mut x = vec![Complejo::default(); p.puntos() as usize];
    x.par_chunks_mut(TROZO)
        .enumerate()
        .try_for_each(|(t, trozo)| {
            control.comprobar()?;
            for (i, z) in ((t * TROZO) as u64..).zip(trozo) {
                *z = Complejo::new(
                    azar::uniforme_f64(p.semilla, FLUJO_REAL, i, -1.0, 1.0),
                    azar::uniforme_f64(p.semilla, FLUJO_IMAGINARIO, i, -1.0, 1.0),
                );
            }
            Ok::<_, ErrorKernel>(())
        })?;
    Ok(x)
}

/// `Σ|z|²`, summed in a fixed order (chunks of [`TROZO`], then the chunks in order), so equal
/// spectra give equal sums on every backend.
pub fn energia(datos: &[Complejo]) -> f64 {
    sumar(datos, Complejo::norm_sqr)
}

/// `Σ (re + im)`, in [`energia`]'s order.
pub fn checksum(datos: &[Complejo]) -> f64 {
    sumar(datos, |z| z.re + z.im)
}

/// `Σ f(z)` in chunks of [`TROZO`] on every core, the chunks' sums added in order.
fn sumar(datos: &[Complejo], f: impl Fn(&Complejo) -> f64 + Sync) -> f64 {
    let parciales: Vec<f64> = datos
        .par_chunks(TROZO)
        .map(|trozo| trozo.iter().map(&f).sum())
        .collect();
    parciales.iter().sum()
}

/// `5·N·log₂N` floating-point operations per second of a transform of `puntos` points in `t`,
/// in GFLOP/s (the convention of FFTW's benchmarks, whatever the algorithm).
pub fn gflops(puntos: u64, t: Duration) -> f64 {
    let n = puntos as f64;
    por_segundo(5.0 * n * n.log2(), t) / 1e9
}

/// The transform of `p`'s signal on `algoritmo`, under `control`.
pub fn transformada(
    p: &ParamsFft,
    algoritmo: Algoritmo,
    control: &Control,
) -> Result<Espectro, ErrorKernel> {
    let p = p.validado()?;
    control.comprobar()?;
    if algoritmo == Algoritmo::Cuda {
        // Before the signal is generated: a missing GPU is said at once.
        gpu_disponible()?;
    }
    let x = senal_con(&p, control)?;
    let energia_senal = energia(&x);
    let (n, m) = (p.n as usize, p.m as usize);
    let (datos, duracion, duracion_con_copias) = match algoritmo {
        #[cfg(feature = "cuda")]
        Algoritmo::Cuda => {
            let (datos, t) = cuda::transformar(x, n, m, control)?;
            (datos, t.kernel, Some(t.total))
        }
        Algoritmo::Secuencial => {
            let (datos, t) = cpu::secuencial(x, n, m, control)?;
            (datos, t, None)
        }
        _ => {
            let (datos, t) = cpu::transformar(x, n, m, cpu::DIRECTA_PARALELO, control)?;
            (datos, t, None)
        }
    };
    Ok(Espectro {
        n: p.n,
        m: p.m,
        datos,
        energia_senal,
        duracion,
        duracion_con_copias,
    })
}

/// `Ok` when this build and machine have a GPU the `Cuda` backend can use; otherwise why not.
fn gpu_disponible() -> Result<(), ErrorKernel> {
    #[cfg(feature = "cuda")]
    return crate::cuda::motor().map(|_| ());
    #[cfg(not(feature = "cuda"))]
    Err(ErrorKernel::NoDisponible(crate::SIN_CUDA.into()))
}

/// Runs the job on `algoritmo`, checking `control` between chunks of work.
pub fn ejecutar(
    p: &ParamsFft,
    algoritmo: Algoritmo,
    control: &Control,
) -> Result<Salida, ErrorKernel> {
    let e = transformada(p, algoritmo, control)?;
    control.comprobar()?;
    let detalle = Detalle::Fft {
        n: e.n,
        m: e.m,
        parseval: e.parseval(),
        checksum: checksum(&e.datos),
        gflops: gflops(p.puntos(), e.duracion),
    };
    Ok(Salida {
        duracion: e.duracion,
        duracion_con_copias: e.duracion_con_copias,
        detalle,
        imagen_png: None,
    })
}
