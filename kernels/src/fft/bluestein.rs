//! Bluestein's algorithm (1970) for a length `L` with a large prime factor: the DFT as a
//! convolution, `X_k = w_k · Σ_j (x_j·w_j)·conj(w_(k−j))` with the chirp `w_t = e^{−πi·t²/L}`
//! (from `jk = (j² + k² − (k−j)²)/2`), computed with FFTs of a smooth length `M ≥ 2L − 1`
//! (a four-step, in its own order both ways, so no transpose and no second buffer).

use rayon::prelude::*;
use rustfft::FftPlanner;

use super::Complejo;
use super::plan::{CuatroPasos, divisor_equilibrado};
use super::raices::Raices;
use crate::ErrorKernel;
use crate::control::Control;

/// Points multiplied between two checks of the control.
const TROZO: usize = 1 << 16;

/// Bluestein's algorithm for one length.
pub(super) struct Bluestein {
    /// `L`.
    largo: usize,
    /// The convolution's FFT, of `M` points, and its inverse.
    interna: CuatroPasos,
    /// `ω_2L`: the chirp is `w_t = ω_2L^(t² mod 2L)`.
    raices: Raices,
    /// The transform of `conj(w_t)` for `t` in `(−L, L)` (wrapped around `M`), in the
    /// four-step's order, divided by `M`.
    filtro: Vec<Complejo>,
}

impl Bluestein {
    /// The plan for `largo` points; its filter is one FFT of `M` points, under `control`.
    pub(super) fn new(
        largo: usize,
        planner: &mut FftPlanner<f64>,
        control: &Control,
    ) -> Result<Self, ErrorKernel> {
        let m = largo_suave(2 * largo - 1);
        let n1 = divisor_equilibrado(m);
        let interna = CuatroPasos::new(n1, m / n1, planner, true);
        let mut b = Self {
            largo,
            interna,
            raices: Raices::new(2 * largo as u64),
            filtro: Vec::new(),
        };
        let mut filtro = vec![Complejo::new(1.0, 0.0); largo];
        b.chirp(&mut filtro, true, control)?;
        filtro.resize(m, Complejo::default());
        for t in 1..largo {
            filtro[m - t] = filtro[t];
        }
        b.interna.adelante_sin_trasponer(&mut filtro, control)?;
        let escala = 1.0 / m as f64;
        filtro.par_iter_mut().for_each(|x| *x *= escala);
        b.filtro = filtro;
        Ok(b)
    }

    /// The transform of `datos` (`L` points), in the same buffer.
    pub(super) fn aplicar(
        &self,
        mut datos: Vec<Complejo>,
        control: &Control,
    ) -> Result<Vec<Complejo>, ErrorKernel> {
        self.chirp(&mut datos, false, control)?;
        datos.resize(self.filtro.len(), Complejo::default());
        self.interna.adelante_sin_trasponer(&mut datos, control)?;
        datos
            .par_chunks_mut(TROZO)
            .zip(self.filtro.par_chunks(TROZO))
            .try_for_each(|(a, b)| {
                control.comprobar()?;
                a.iter_mut().zip(b).for_each(|(a, b)| *a *= b);
                Ok::<_, ErrorKernel>(())
            })?;
        self.interna.atras_sin_trasponer(&mut datos, control)?;
        datos.truncate(self.largo);
        datos.shrink_to_fit();
        self.chirp(&mut datos, false, control)?;
        Ok(datos)
    }

    /// `datos[t] *= w_t` (or `conj(w_t)`), for `t < datos.len() ≤ L`.
    fn chirp(
        &self,
        datos: &mut [Complejo],
        conjugar: bool,
        control: &Control,
    ) -> Result<(), ErrorKernel> {
        let modulo = self.raices.orden();
        datos
            .par_chunks_mut(TROZO)
            .enumerate()
            .try_for_each(|(i, trozo)| {
                control.comprobar()?;
                let t0 = (i * TROZO) as u64;
                let mut e = (u128::from(t0) * u128::from(t0) % u128::from(modulo)) as u64;
                for (t, x) in (t0..).zip(trozo) {
                    let w = self.raices.raiz(e);
                    *x *= if conjugar { w.conj() } else { w };
                    // (t + 1)² = t² + 2t + 1, and 2t + 1 < 2L: one subtraction reduces it.
                    e += 2 * t + 1;
                    if e >= modulo {
                        e -= modulo;
                    }
                }
                Ok(())
            })
    }
}

/// The smallest `2^a·3^b·5^c` not below `n`: a length rustfft transforms with its fastest
/// butterflies and the four-step splits evenly, within a few per cent of `n` for the lengths
/// Bluestein gets here (beyond 2¹⁷), so its two buffers take about `4L` points.
pub(super) fn largo_suave(n: usize) -> usize {
    let mut mejor = n.next_power_of_two();
    let mut p5 = 1;
    while p5 < mejor {
        let mut p35 = p5;
        while p35 < mejor {
            // The smallest power of two that takes 3^b·5^c to n or beyond.
            mejor = mejor.min(p35 * n.div_ceil(p35).next_power_of_two());
            p35 *= 3;
        }
        p5 *= 5;
    }
    mejor
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smooth_lengths_are_the_next_5_smooth_number() {
        let suave = |mut m: usize| {
            for f in [2, 3, 5] {
                while m.is_multiple_of(f) {
                    m /= f;
                }
            }
            m == 1
        };
        for n in 1..3000 {
            let m = largo_suave(n);
            assert!(m >= n && suave(m), "n = {n}: {m}");
            assert!(
                (n..m).all(|k| !suave(k)),
                "n = {n}: {m} is not the next one"
            );
        }
        for n in [(1 << 17) + 1, 2_000_005, (1 << 27) - 9] {
            let m = largo_suave(n);
            assert!(
                suave(m) && m >= n && m as f64 <= 1.05 * n as f64,
                "n = {n}: {m}"
            );
        }
    }
}
