//! Roots of unity `ω_K^e = e^{−2πi·e/K}` for any exponent, to within a few ulps, from two
//! tables of about `√K` entries: the four-step's twiddles and Bluestein's chirp need `K` up to
//! 2²⁹ of them, too many to evaluate with `sin_cos` one by one or to store.

use super::Complejo;

/// `ω_K^e` for `e` in `[0, K)`: `alto[e >> bits] · bajo[e & (2^bits − 1)]`, one complex
/// product of two correctly computed roots (error a few times `f64::EPSILON`).
#[derive(Debug, Clone)]
pub(super) struct Raices {
    /// The modulus `K`.
    k: u64,
    /// `log2` of the low table's length.
    bits: u32,
    /// `ω_K^(h·2^bits)`.
    alto: Vec<Complejo>,
    /// `ω_K^l`, `l < 2^bits`.
    bajo: Vec<Complejo>,
}

impl Raices {
    /// The roots of order `k` (at least 1).
    pub(super) fn new(k: u64) -> Self {
        let k = k.max(1);
        let bits = (64 - (k - 1).leading_zeros()).div_ceil(2);
        let paso = 1u64 << bits;
        let alto = (0..k.div_ceil(paso)).map(|h| exacta(h * paso, k)).collect();
        let bajo = (0..paso.min(k)).map(|l| exacta(l, k)).collect();
        Self {
            k,
            bits,
            alto,
            bajo,
        }
    }

    /// The order `K`.
    pub(super) fn orden(&self) -> u64 {
        self.k
    }

    /// `ω_K^e`, `e < K`.
    #[inline(always)]
    pub(super) fn raiz(&self, e: u64) -> Complejo {
        debug_assert!(e < self.k);
        let bajo = self.bajo[(e & ((1 << self.bits) - 1)) as usize];
        self.alto[(e >> self.bits) as usize] * bajo
    }
}

/// `e^{−2πi·e/k}` from `sin_cos`, with the angle reduced to `[−π, π]` first so that its
/// rounding error stays below `π·ε`.
fn exacta(e: u64, k: u64) -> Complejo {
    // e/k in (−1/2, 1/2]: the angle's relative error is that of one division and one product.
    let e = e % k;
    let fraccion = if 2 * e > k {
        -((k - e) as f64) / k as f64
    } else {
        e as f64 / k as f64
    };
    let (s, c) = (-2.0 * std::f64::consts::PI * fraccion).sin_cos();
    Complejo::new(c, s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_root_is_within_a_few_ulps_of_sin_cos() {
        for k in [1u64, 2, 3, 7, 64, 1000, 65_537, 1 << 22, (1 << 29) - 3] {
            let r = Raices::new(k);
            let paso = (k / 997).max(1);
            for e in (0..k).step_by(paso as usize).chain([k - 1]) {
                let z = r.raiz(e);
                let w = exacta(e, k);
                assert!(
                    (z - w).norm() < 8.0 * f64::EPSILON,
                    "k = {k}, e = {e}: {z} vs {w}"
                );
            }
        }
    }

    #[test]
    fn quarter_turns_are_exact_where_sin_cos_is() {
        let r = Raices::new(8);
        assert_eq!(r.raiz(0), Complejo::new(1.0, 0.0));
        assert!((r.raiz(2) - Complejo::new(0.0, -1.0)).norm() < 1e-16);
        assert!((r.raiz(4) - Complejo::new(-1.0, 0.0)).norm() < 1e-15);
    }
}
