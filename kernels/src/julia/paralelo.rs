//! `Paralelo`: the Julia kernel on every core and every vector lane.
//!
//! The image is cut into blocks of [`BLOQUE`] consecutive pixels (row-major, so a block may
//! span rows), which rayon spreads over the cores; each block first checks the run's
//! [`Control`] (a block is at most 1536 × 100 000 iterations, about 50 ms on one core). Inside a block, pixels go through the
//! iteration [`GRUPO`] at a time as plain `[f64; GRUPO]` arrays that the compiler turns into
//! vector instructions: each lane keeps a "still active" flag and counts only while active, and
//! the group stops when every lane has escaped or `iteraciones` steps were made. The last group
//! of a block is padded by repeating its last pixel, whose extra counts are discarded.
//!
//! The arithmetic is [`paso`] and [`sigue_dentro`], shared with `Secuencial`, so both agree
//! bit for bit. [`multiversion`](mod@multiversion) compiles the block loop for AVX-512, AVX2
//! and SSE4.1 and picks the best one the CPU has at run time, so one binary runs on any x86-64.
//! Enabling FMA as a target feature does not let LLVM fuse `a * b + c` (Rust never contracts
//! floating point); a test compares vector and scalar orbits bit for bit to keep it so.

use comun::trabajo::ParamsJulia;
use multiversion::multiversion;
use rayon::prelude::*;

use super::{Rejilla, paso, sigue_dentro};
use crate::ErrorKernel;
use crate::control::Control;

/// Pixels iterated together: three AVX-512 vectors of `f64` (six AVX2 ones), so that
/// independent dependency chains hide the latency of the multiplies and adds. Measured at
/// 4000×4000×1000 on a 2-core AVX-512 machine: 8 → 3.9, 16 → 4.5, 24 → 5.9, 32 → 5.4 e9
/// iterations/s (wider groups wait longer for their slowest lane).
const GRUPO: usize = 24;

/// Pixels per rayon task: small enough to balance the slow (inside) and fast (escaping)
/// regions across cores, large enough that scheduling costs nothing.
const BLOQUE: usize = 64 * GRUPO;

/// Counts of every pixel of `p`, row-major, unless `control` stops the run.
pub(crate) fn paralelo(p: &ParamsJulia, control: &Control) -> Result<Vec<u32>, ErrorKernel> {
    let rejilla = Rejilla::new(p.width, p.height);
    let mut conteos = vec![0; p.pixeles() as usize];
    conteos
        .par_chunks_mut(BLOQUE)
        .enumerate()
        .try_for_each(|(b, bloque)| {
            control.comprobar()?;
            contar_bloque(&rejilla, p.width, b * BLOQUE, p.iteraciones, bloque);
            Ok::<_, ErrorKernel>(())
        })?;
    Ok(conteos)
}

/// Fills `salida` with the counts of the pixels from row-major index `primero` on.
#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl+avx512dq",
    "x86_64+avx2+fma",
    "x86_64+sse4.1",
))]
fn contar_bloque(
    rejilla: &Rejilla,
    width: u32,
    primero: usize,
    iteraciones: u32,
    salida: &mut [u32],
) {
    let width = width as usize;
    for (g, trozo) in salida.chunks_mut(GRUPO).enumerate() {
        let inicio = primero + g * GRUPO;
        let mut zr = [0.0; GRUPO];
        let mut zi = [0.0; GRUPO];
        for l in 0..GRUPO {
            let i = inicio + l.min(trozo.len() - 1);
            (zr[l], zi[l]) = rejilla.inicio((i % width) as u32, (i / width) as u32);
        }
        let conteos = contar_grupo(zr, zi, iteraciones);
        trozo.copy_from_slice(&conteos[..trozo.len()]);
    }
}

/// Counts of [`GRUPO`] points iterated in lock-step, until all escaped or `iteraciones`.
#[inline(always)]
fn contar_grupo(zr: [f64; GRUPO], zi: [f64; GRUPO], iteraciones: u32) -> [u32; GRUPO] {
    let mut grupo = Grupo::new(zr, zi);
    for _ in 0..iteraciones {
        if !grupo.avanzar() {
            break;
        }
    }
    grupo.conteos.map(|c| c as u32)
}

/// The state of [`GRUPO`] points iterated in lock-step.
struct Grupo {
    /// Real parts of the current `z`s.
    zr: [f64; GRUPO],
    /// Imaginary parts of the current `z`s.
    zi: [f64; GRUPO],
    /// Whether each point has stayed inside on every step so far.
    activo: [bool; GRUPO],
    /// Updates made while active: the counts so far (`u64` like the `f64` lanes, so that the
    /// compiler keeps one mask layout).
    conteos: [u64; GRUPO],
}

impl Grupo {
    fn new(zr: [f64; GRUPO], zi: [f64; GRUPO]) -> Self {
        Self {
            zr,
            zi,
            activo: [true; GRUPO],
            conteos: [0; GRUPO],
        }
    }

    /// One step on every lane: lanes still inside count it; all lanes update (an escaped lane's
    /// value no longer matters). Returns whether any lane is still active.
    #[inline(always)]
    fn avanzar(&mut self) -> bool {
        let mut alguno = false;
        for l in 0..GRUPO {
            let (zr, zi) = (self.zr[l], self.zi[l]);
            let (zr2, zi2) = (zr * zr, zi * zi);
            self.activo[l] &= sigue_dentro(zr2, zi2);
            self.conteos[l] += u64::from(self.activo[l]);
            alguno |= self.activo[l];
            (self.zr[l], self.zi[l]) = paso(zr, zi, zr2, zi2);
        }
        alguno
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::julia::conteo;

    /// [`Grupo::avanzar`] compiled like [`contar_bloque`], for every target the CPU has.
    #[multiversion(targets(
        "x86_64+avx512f+avx512bw+avx512vl+avx512dq",
        "x86_64+avx2+fma",
        "x86_64+sse4.1",
    ))]
    fn orbita(zr: [f64; GRUPO], zi: [f64; GRUPO], pasos: u32) -> Grupo {
        let mut grupo = Grupo::new(zr, zi);
        for _ in 0..pasos {
            grupo.avanzar();
        }
        grupo
    }

    /// Counts alone barely notice a changed last bit (an orbit's escape step rarely moves), so
    /// this compares the orbits themselves: after each of the first 100 steps of points that
    /// never escape (late steps settle on the attracting cycle, where a changed rounding can
    /// vanish), every lane's `z` must equal the scalar reference bit for bit. A fused
    /// multiply-add, or any reordering of [`paso`], fails it (in a release build, where the loop
    /// is vectorised).
    #[test]
    fn vector_orbits_equal_scalar_orbits_bit_for_bit() {
        let zr0: [f64; GRUPO] = std::array::from_fn(|l| -0.1 + 0.01 * l as f64);
        let zi0 = [0.05; GRUPO];
        let mut escalar: [(f64, f64); GRUPO] = std::array::from_fn(|l| (zr0[l], zi0[l]));
        for pasos in 1..=100 {
            let grupo = orbita(zr0, zi0, pasos);
            for (l, (zr, zi)) in escalar.iter_mut().enumerate() {
                (*zr, *zi) = paso(*zr, *zi, *zr * *zr, *zi * *zi);
                assert_eq!(
                    (grupo.zr[l].to_bits(), grupo.zi[l].to_bits()),
                    (zr.to_bits(), zi.to_bits()),
                    "lane {l} after {pasos} steps"
                );
                assert_eq!(grupo.conteos[l], u64::from(pasos), "lane {l} stays inside");
            }
        }
        for l in 0..GRUPO {
            assert_eq!(conteo(zr0[l], zi0[l], 1000), 1000, "lane {l} never escapes");
        }
    }
}
