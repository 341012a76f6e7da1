//! The two seeded generators every backend shares.
//!
//! - [`valor`]: the inputs of `matmul`, `vector_add` and `nbody`. Element `i` of stream
//!   `flujo` under seed `semilla` is the SplitMix64 finaliser (Steele, Lea and Flood 2014) of
//!   `semilla + flujo·K + i·φ` (φ = 0x9E3779B97F4A7C15, K = 0xD1B54A32D192ED03), a counter-based
//!   construction: any element can be computed alone, so buffers are filled in parallel and
//!   equal on every backend. [`uniforme`] maps its top 24 bits to an `f32` in `[lo, hi)`
//!   exactly (a 24-bit integer times 2⁻²⁴ is exact in `f32`); [`uniforme_f64`] its top 53 bits
//!   to an `f64` (the `fft` signal). The CPU fills the host buffers;
//!   `Cuda` receives them by copy, so every backend starts from the same bits.
//! - [`philox`]: Philox4x32-10 (Salmon, Moraes, Dror and Shaw, SC 2011), as in Random123, for
//!   `montecarlo`: counter = sample block, key = seed. Checked against Random123's known-answer
//!   vectors in the tests.

use rayon::prelude::*;

use crate::ErrorKernel;
use crate::control::Control;

/// SplitMix64's golden-ratio increment.
const PHI: u64 = 0x9E37_79B9_7F4A_7C15;

/// Stream separation constant.
const FLUJO: u64 = 0xD1B5_4A32_D192_ED03;

/// Element `i` of stream `flujo` under `semilla`: 64 well-mixed bits.
#[inline]
pub fn valor(semilla: u64, flujo: u64, i: u64) -> u64 {
    let mut z = semilla
        .wrapping_add(flujo.wrapping_mul(FLUJO))
        .wrapping_add(i.wrapping_mul(PHI));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Element `i` as an `f32` in `[lo, hi)`: `lo + (hi - lo) · (top 24 bits) · 2⁻²⁴`.
#[inline]
pub fn uniforme(semilla: u64, flujo: u64, i: u64, lo: f32, hi: f32) -> f32 {
    let u = (valor(semilla, flujo, i) >> 40) as f32 * (1.0 / 16_777_216.0);
    lo + (hi - lo) * u
}

/// Element `i` as an `f64` in `[lo, hi)`: `lo + (hi - lo) · (top 53 bits) · 2⁻⁵³` (exact for
/// `[-1, 1)`: every value is a multiple of 2⁻⁵²). The `fft` signal.
#[inline]
pub fn uniforme_f64(semilla: u64, flujo: u64, i: u64, lo: f64, hi: f64) -> f64 {
    let u = (valor(semilla, flujo, i) >> 11) as f64 * (1.0 / 9_007_199_254_740_992.0);
    lo + (hi - lo) * u
}

/// `n` elements of a stream as `f32` in `[lo, hi)`, filled on every core.
pub fn vector(semilla: u64, flujo: u64, n: usize, lo: f32, hi: f32) -> Vec<f32> {
    let mut v = Vec::with_capacity(n);
    (0..n)
        .into_par_iter()
        .map(|i| uniforme(semilla, flujo, i as u64, lo, hi))
        .collect_into_vec(&mut v);
    v
}

/// Elements [`vector_con`] fills between two checks of its [`Control`] (a few ms).
const TROZO: usize = 1 << 20;

/// [`vector`], unless `control` stops the run: it is checked before each [`TROZO`] elements.
pub(crate) fn vector_con(
    semilla: u64,
    flujo: u64,
    n: usize,
    lo: f32,
    hi: f32,
    control: &Control,
) -> Result<Vec<f32>, ErrorKernel> {
    let mut v = vec![0.0f32; n];
    v.par_chunks_mut(TROZO)
        .enumerate()
        .try_for_each(|(t, trozo)| {
            control.comprobar()?;
            let primero = (t * TROZO) as u64;
            for (i, x) in (primero..).zip(trozo.iter_mut()) {
                *x = uniforme(semilla, flujo, i, lo, hi);
            }
            Ok::<_, ErrorKernel>(())
        })?;
    Ok(v)
}

/// Philox4x32's multipliers (Random123's `PHILOX_M4x32_0`, `_1`).
pub const PHILOX_M: [u32; 2] = [0xD251_1F53, 0xCD9E_8D57];

/// Philox4x32's key increments, the Weyl sequence (`PHILOX_W32_0`, `_1`).
pub const PHILOX_W: [u32; 2] = [0x9E37_79B9, 0xBB67_AE85];

/// One Philox4x32 round.
#[inline(always)]
fn ronda(c: [u32; 4], k: [u32; 2]) -> [u32; 4] {
    let p0 = u64::from(PHILOX_M[0]) * u64::from(c[0]);
    let p1 = u64::from(PHILOX_M[1]) * u64::from(c[2]);
    [
        (p1 >> 32) as u32 ^ c[1] ^ k[0],
        p1 as u32,
        (p0 >> 32) as u32 ^ c[3] ^ k[1],
        p0 as u32,
    ]
}

/// Philox4x32-10: four 32-bit outputs of counter `c` under key `k`.
#[inline(always)]
pub fn philox(mut c: [u32; 4], mut k: [u32; 2]) -> [u32; 4] {
    for r in 0..10 {
        if r > 0 {
            k[0] = k[0].wrapping_add(PHILOX_W[0]);
            k[1] = k[1].wrapping_add(PHILOX_W[1]);
        }
        c = ronda(c, k);
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random123's kat_vectors for philox4x32_10.
    #[test]
    fn the_checked_vector_equals_the_plain_one() {
        for n in [0, 1, 1000, TROZO + 7] {
            let v = vector_con(3, 4, n, -1.0, 1.0, &Control::ninguno()).unwrap();
            assert_eq!(v, vector(3, 4, n, -1.0, 1.0), "n = {n}");
        }
        let parado = Control::ninguno();
        parado.cancelar("stop");
        assert!(vector_con(3, 4, 10, -1.0, 1.0, &parado).is_err());
    }

    #[test]
    fn philox_matches_random123_known_answers() {
        assert_eq!(
            philox([0; 4], [0; 2]),
            [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8]
        );
        assert_eq!(
            philox([u32::MAX; 4], [u32::MAX; 2]),
            [0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd]
        );
        assert_eq!(
            philox(
                [0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344],
                [0xa409_3822, 0x299f_31d0]
            ),
            [0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1]
        );
    }

    #[test]
    fn uniform_values_stay_in_range_and_differ_by_stream() {
        for i in 0..10_000 {
            let x = uniforme(7, 1, i, -1.0, 1.0);
            assert!((-1.0..1.0).contains(&x));
        }
        assert_ne!(valor(7, 1, 0), valor(7, 2, 0));
        assert_eq!(vector(7, 1, 5, 0.0, 1.0)[3], uniforme(7, 1, 3, 0.0, 1.0));
    }
}
