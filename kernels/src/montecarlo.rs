//! `montecarlo`: π from points drawn uniformly in the unit square, counting those inside the
//! quarter circle.
//!
//! Sample `s` comes from Philox4x32-10 ([`philox`]) with counter `(s / 2` as two `u32` halves,
//! `0, 0)` and key `(semilla` as two `u32` halves`)`: its four outputs `r` give two samples,
//! `(r[0] >> 8, r[1] >> 8)` for even `s` and `(r[2] >> 8, r[3] >> 8)` for odd `s`. A sample's
//! coordinates are 24-bit integers `xi, yi` standing for `x = xi·2⁻²⁴, y = yi·2⁻²⁴` in `[0, 1)`;
//! it is inside when `xi² + yi² < 2⁴⁸` (that is `x² + y² < 1`), computed in `u64`, exact. Every
//! backend therefore counts the same `dentro`, whatever its threads, lanes or reduction order.
//!
//! Stopping ([`Control`]): `Secuencial` checks every 2²⁰ blocks, `Paralelo` before each task
//! of 2¹⁶ blocks, `Cuda` between launches over ranges of blocks (about 50 ms each). `Cuda`'s
//! host side is `montecarlo/cuda.rs`.

#[cfg(feature = "cuda")]
mod cuda;

use std::time::{Duration, Instant};

use comun::Algoritmo;
use comun::trabajo::ParamsMontecarlo;
use multiversion::multiversion;
use rayon::prelude::*;

use crate::ErrorKernel;
use crate::azar::philox;
use crate::control::Control;

/// Philox blocks (two samples each) computed together in `Paralelo`'s vector lanes.
const LANES: usize = 16;

/// Blocks per rayon task.
const BLOQUES_POR_TAREA: u64 = 1 << 16;

/// Blocks `Secuencial` draws between two checks of its [`Control`] (a few tens of ms).
const BLOQUES_ENTRE_COMPROBACIONES: u64 = 1 << 20;

/// What a run counted and how long the kernel took.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Conteo {
    /// Samples drawn.
    pub muestras: u64,
    /// Samples inside the quarter circle.
    pub dentro: u64,
    /// The kernel's time (on the GPU's clock for `Cuda`).
    pub duracion: Duration,
    /// The whole call's time, with the GPU's set-up and copies (equal to `duracion` on the
    /// CPU).
    pub total: Duration,
}

impl Conteo {
    /// `4 · dentro / muestras`.
    pub fn pi(&self) -> f64 {
        4.0 * self.dentro as f64 / self.muestras as f64
    }
}

/// Counts the samples of `p` inside the quarter circle on `algoritmo`.
pub fn montecarlo(p: &ParamsMontecarlo, algoritmo: Algoritmo) -> Result<Conteo, ErrorKernel> {
    montecarlo_con(p, algoritmo, &Control::ninguno())
}

/// [`montecarlo`] under `control`, checked as the module's documentation says.
pub fn montecarlo_con(
    p: &ParamsMontecarlo,
    algoritmo: Algoritmo,
    control: &Control,
) -> Result<Conteo, ErrorKernel> {
    ParamsMontecarlo::new(p.muestras, p.semilla)?;
    control.comprobar()?;
    let inicio = Instant::now();
    let dentro = match algoritmo {
        Algoritmo::Secuencial => secuencial(p.muestras, p.semilla, control)?,
        Algoritmo::Paralelo | Algoritmo::Auto => paralelo(p.muestras, p.semilla, control)?,
        #[cfg(feature = "cuda")]
        Algoritmo::Cuda => return cuda::montecarlo(p, control),
        #[cfg(not(feature = "cuda"))]
        Algoritmo::Cuda => return Err(ErrorKernel::NoDisponible(crate::SIN_CUDA.into())),
    };
    let duracion = inicio.elapsed();
    Ok(Conteo {
        muestras: p.muestras,
        dentro,
        duracion,
        total: duracion,
    })
}

/// The key of `semilla`.
#[inline(always)]
pub(crate) fn clave(semilla: u64) -> [u32; 2] {
    [semilla as u32, (semilla >> 32) as u32]
}

/// Whether the 24-bit point `(a >> 8, b >> 8)` is inside the quarter circle.
#[inline(always)]
pub(crate) fn dentro_de(a: u32, b: u32) -> bool {
    let (x, y) = (u64::from(a >> 8), u64::from(b >> 8));
    x * x + y * y < 1 << 48
}

/// Points inside among the two samples of block `b` (only the first if `solo_primera`).
#[inline(always)]
fn bloque(b: u64, k: [u32; 2], solo_primera: bool) -> u64 {
    let r = philox([b as u32, (b >> 32) as u32, 0, 0], k);
    u64::from(dentro_de(r[0], r[1])) + u64::from(!solo_primera && dentro_de(r[2], r[3]))
}

/// `Secuencial`: one block after another, checking `control` every
/// [`BLOQUES_ENTRE_COMPROBACIONES`].
fn secuencial(muestras: u64, semilla: u64, control: &Control) -> Result<u64, ErrorKernel> {
    let k = clave(semilla);
    let completos = muestras / 2;
    let mut dentro = 0;
    for desde in (0..completos).step_by(BLOQUES_ENTRE_COMPROBACIONES as usize) {
        control.comprobar()?;
        for b in desde..(desde + BLOQUES_ENTRE_COMPROBACIONES).min(completos) {
            dentro += bloque(b, k, false);
        }
    }
    if muestras % 2 == 1 {
        dentro += bloque(completos, k, true);
    }
    Ok(dentro)
}

/// `Paralelo`: tasks of [`BLOQUES_POR_TAREA`] blocks on every core, [`LANES`] blocks at a time
/// in vector lanes; each task first checks `control`.
fn paralelo(muestras: u64, semilla: u64, control: &Control) -> Result<u64, ErrorKernel> {
    let k = clave(semilla);
    let completos = muestras / 2;
    let tareas = completos.div_ceil(BLOQUES_POR_TAREA);
    let mut dentro: u64 = (0..tareas)
        .into_par_iter()
        .map(|t| {
            control.comprobar()?;
            let desde = t * BLOQUES_POR_TAREA;
            Ok::<_, ErrorKernel>(contar_bloques(
                desde,
                (desde + BLOQUES_POR_TAREA).min(completos),
                k,
            ))
        })
        .try_reduce(|| 0, |x, y| Ok(x + y))?;
    if muestras % 2 == 1 {
        dentro += bloque(completos, k, true);
    }
    Ok(dentro)
}

/// Points inside among blocks `desde .. hasta`, [`LANES`] at a time.
#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl+avx512dq",
    "x86_64+avx2+fma",
    "x86_64+sse4.1",
))]
fn contar_bloques(desde: u64, hasta: u64, k: [u32; 2]) -> u64 {
    let mut b = desde;
    let mut cuenta = [0u64; LANES];
    let mut total = 0u64;
    while b + LANES as u64 <= hasta {
        // Philox on LANES counters at once, every 32-bit word held in a u64 lane (zero
        // extended), so that each 32 × 32 → 64-bit product is one vector multiply of
        // unsigned 32-bit halves (vpmuludq) and the halves are a shift and a mask.
        const BAJO: u64 = 0xFFFF_FFFF;
        let mut c0: [u64; LANES] = std::array::from_fn(|l| (b + l as u64) & BAJO);
        let mut c1: [u64; LANES] = std::array::from_fn(|l| (b + l as u64) >> 32);
        let mut c2 = [0u64; LANES];
        let mut c3 = [0u64; LANES];
        let (mut k0, mut k1) = (u64::from(k[0]), u64::from(k[1]));
        for r in 0..10 {
            if r > 0 {
                k0 = (k0 + u64::from(crate::azar::PHILOX_W[0])) & BAJO;
                k1 = (k1 + u64::from(crate::azar::PHILOX_W[1])) & BAJO;
            }
            for l in 0..LANES {
                let p0 = u64::from(crate::azar::PHILOX_M[0]) * c0[l];
                let p1 = u64::from(crate::azar::PHILOX_M[1]) * c2[l];
                let n0 = (p1 >> 32) ^ c1[l] ^ k0;
                let n2 = (p0 >> 32) ^ c3[l] ^ k1;
                (c0[l], c1[l], c2[l], c3[l]) = (n0, p1 & BAJO, n2, p0 & BAJO);
            }
        }
        for l in 0..LANES {
            let (x0, y0, x1, y1) = (c0[l] >> 8, c1[l] >> 8, c2[l] >> 8, c3[l] >> 8);
            cuenta[l] +=
                u64::from(x0 * x0 + y0 * y0 < 1 << 48) + u64::from(x1 * x1 + y1 * y1 < 1 << 48);
        }
        b += LANES as u64;
    }
    total += cuenta.iter().sum::<u64>();
    while b < hasta {
        total += bloque(b, k, false);
        b += 1;
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_equal_the_scalar_blocks() {
        let k = clave(0x1234_5678_9abc_def0);
        for (desde, hasta) in [
            (0, 0),
            (0, 1),
            (3, 40),
            (0, 1000),
            (u64::from(u32::MAX) - 5, u64::from(u32::MAX) + 30),
        ] {
            let esperado: u64 = (desde..hasta).map(|b| bloque(b, k, false)).sum();
            assert_eq!(
                contar_bloques(desde, hasta, k),
                esperado,
                "{desde}..{hasta}"
            );
        }
    }
}
