//! How the CPU transforms one sequence of any length: in one rustfft call when it is short, as a
//! four-step (`N = n1·n2`: FFTs of the columns, twiddles, FFTs of the rows, a transpose) when it
//! factors into two moderate lengths, and by Bluestein's algorithm over a four-step of a smooth
//! length otherwise (a large prime factor). The steps run on the current rayon pool.

use std::sync::Arc;

use rustfft::{Fft, FftPlanner};

use super::Complejo;
use super::bluestein::Bluestein;
use super::pasadas::{self, Giro};
use super::raices::Raices;
use super::trasponer;
use crate::ErrorKernel;
use crate::control::Control;

/// The longest row a four-step transforms in one rustfft call: 2¹⁶ points (1 MiB), about
/// 2 ms on one core. A length whose best split has longer rows goes through Bluestein.
pub(super) const FILA_MAXIMA: usize = 1 << 16;

/// One rustfft transform of a fixed length and direction.
pub(super) type Rustfft = Arc<dyn Fft<f64>>;

/// The transform of one length, forward (`X_k = Σ_j x_j·e^{−2πi·jk/N}`, unnormalised).
pub(super) enum Plan1d {
    /// One rustfft call.
    Directa(Rustfft),
    /// The four-step over `n1 × n2`.
    CuatroPasos(CuatroPasos),
    /// Bluestein's algorithm (boxed: it holds its filter).
    Bluestein(Box<Bluestein>),
}

impl Plan1d {
    /// The plan for `largo` points: one call up to `directa_maxima` points, a four-step or
    /// Bluestein beyond. Bluestein's filter is computed here, under `control`.
    pub(super) fn new(
        largo: usize,
        directa_maxima: usize,
        planner: &mut FftPlanner<f64>,
        control: &Control,
    ) -> Result<Self, ErrorKernel> {
        if largo <= directa_maxima {
            return Ok(Plan1d::Directa(planner.plan_fft_forward(largo)));
        }
        let n1 = division(largo);
        if n1 == 1 && largo <= FILA_MAXIMA {
            return Ok(Plan1d::Directa(planner.plan_fft_forward(largo)));
        }
        if largo / n1 <= FILA_MAXIMA {
            return Ok(Plan1d::CuatroPasos(CuatroPasos::new(
                n1,
                largo / n1,
                planner,
                false,
            )));
        }
        Ok(Plan1d::Bluestein(Box::new(Bluestein::new(
            largo, planner, control,
        )?)))
    }

    /// The transform of `datos` (of the plan's length); the spectrum may come back in another
    /// buffer (the four-step writes its transpose into a new one).
    pub(super) fn aplicar(
        &self,
        mut datos: Vec<Complejo>,
        control: &Control,
    ) -> Result<Vec<Complejo>, ErrorKernel> {
        match self {
            Plan1d::Directa(fft) => {
                control.comprobar()?;
                let mut auxiliar = vec![Complejo::default(); fft.get_inplace_scratch_len()];
                fft.process_with_scratch(&mut datos, &mut auxiliar);
                Ok(datos)
            }
            Plan1d::CuatroPasos(c) => c.adelante(datos, control),
            Plan1d::Bluestein(b) => b.aplicar(datos, control),
        }
    }

    /// Whether [`Plan1d::aplicar`] is a single rustfft call (which a caller may then spread
    /// over many sequences at once).
    pub(super) fn directa(&self) -> Option<&Rustfft> {
        match self {
            Plan1d::Directa(fft) => Some(fft),
            _ => None,
        }
    }
}

/// A four-step's `n1` for `n` points: the largest `n1 ≤ √n` whose square divides `n` (then
/// `n2 = n / n1` is a multiple of `n1` and the transpose is done in place), when its rows
/// `n2` are at most [`FILA_MAXIMA`]; otherwise [`divisor_equilibrado`].
pub(super) fn division(n: usize) -> usize {
    let raiz = raiz_entera(n);
    (2..=raiz)
        .rev()
        .find(|&k| n.is_multiple_of(k * k))
        .filter(|&k| n / k <= FILA_MAXIMA)
        .unwrap_or_else(|| divisor_equilibrado(n))
}

/// `⌊√n⌋`.
fn raiz_entera(n: usize) -> usize {
    let mut d = (n as f64).sqrt() as usize;
    while d * d > n {
        d -= 1;
    }
    while (d + 1) * (d + 1) <= n {
        d += 1;
    }
    d
}

/// The largest divisor of `n` not above `√n` (1 for a prime).
pub(super) fn divisor_equilibrado(n: usize) -> usize {
    (1..=raiz_entera(n).max(1))
        .rev()
        .find(|&d| n.is_multiple_of(d))
        .unwrap_or(1)
}

/// The four-step FFT of `N = n1·n2` points (Bailey, 1990), the sequence seen as an `n1 × n2`
/// row-major matrix (`x[j1·n2 + j2]`): FFTs of length `n1` down its columns, each element
/// `(k1, j2)` times `ω_N^(j2·k1)`, FFTs of length `n2` along its rows; then
/// `X[k1 + n1·k2]` is element `(k1, k2)`, and the transpose puts it in order.
pub(super) struct CuatroPasos {
    /// Forward FFT of a column (`n1` points).
    columna: Rustfft,
    /// Forward FFT of a row (`n2` points).
    fila: Rustfft,
    /// Inverse FFTs of a column and a row, for [`CuatroPasos::atras_sin_trasponer`].
    inversas: Option<(Rustfft, Rustfft)>,
    /// `ω_N`.
    raices: Raices,
}

impl CuatroPasos {
    /// The four-step over `n1 × n2`, with its inverse when `con_inversa`.
    pub(super) fn new(
        n1: usize,
        n2: usize,
        planner: &mut FftPlanner<f64>,
        con_inversa: bool,
    ) -> Self {
        let inversas =
            con_inversa.then(|| (planner.plan_fft_inverse(n1), planner.plan_fft_inverse(n2)));
        Self {
            columna: planner.plan_fft_forward(n1),
            fila: planner.plan_fft_forward(n2),
            inversas,
            raices: Raices::new((n1 * n2) as u64),
        }
    }

    /// The transform of `datos`, in natural order: in the same buffer when `n2` is a multiple
    /// of `n1` (the transpose in place), otherwise written transposed into a new one.
    pub(super) fn adelante(
        &self,
        mut datos: Vec<Complejo>,
        control: &Control,
    ) -> Result<Vec<Complejo>, ErrorKernel> {
        let (n1, n2) = (self.columna.len(), self.fila.len());
        let giro = Giro::Despues(&self.raices);
        pasadas::columnas(&mut datos, &self.columna, giro, control)?;
        if n2.is_multiple_of(n1) {
            pasadas::filas(&mut datos, &self.fila, control)?;
            trasponer::en_sitio(&mut datos, n1, n2, control)?;
            return Ok(datos);
        }
        let mut salida = vec![Complejo::default(); datos.len()];
        pasadas::filas_trasponiendo(&mut datos, &mut salida, &self.fila, control)?;
        Ok(salida)
    }

    /// The transform of `datos` in place, in the four-step's own order: `datos[k1·n2 + k2]`
    /// holds `X[k1 + n1·k2]`. What a convolution needs: no transpose.
    pub(super) fn adelante_sin_trasponer(
        &self,
        datos: &mut [Complejo],
        control: &Control,
    ) -> Result<(), ErrorKernel> {
        pasadas::columnas(datos, &self.columna, Giro::Despues(&self.raices), control)?;
        pasadas::filas(datos, &self.fila, control)
    }

    /// The inverse of [`CuatroPasos::adelante_sin_trasponer`] times `N` (unnormalised): from
    /// the four-step's order back to natural order, in place.
    pub(super) fn atras_sin_trasponer(
        &self,
        datos: &mut [Complejo],
        control: &Control,
    ) -> Result<(), ErrorKernel> {
        let (columna, fila) = self
            .inversas
            .as_ref()
            .expect("a four-step planned without its inverse");
        pasadas::filas(datos, fila, control)?;
        pasadas::columnas(datos, columna, Giro::AntesConjugado(&self.raices), control)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_balanced_divisor_is_the_largest_below_the_root() {
        for (n, d) in [
            (1, 1),
            (2, 1),
            (4, 2),
            (12, 3),
            (97, 1),
            (1 << 22, 2048),
            (1 << 21, 1024),
        ] {
            assert_eq!(divisor_equilibrado(n), d, "n = {n}");
        }
        assert_eq!(divisor_equilibrado(2 * 1_000_003), 2);
        // Squares of the split dividing the length: the transpose in place.
        for (n, d) in [
            (1 << 22, 2048),
            (1 << 21, 1024),
            (3 << 14, 128),
            (5usize.pow(7), 125),
        ] {
            assert_eq!(division(n), d, "n = {n}");
        }
        assert_eq!(
            division(2 * 3 * 5 * 7 * 11 * 13),
            divisor_equilibrado(30_030)
        );
    }
}
