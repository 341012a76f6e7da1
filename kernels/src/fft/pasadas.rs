//! The passes every CPU transform is made of, each spread over the current rayon pool in
//! tasks of a fixed size (so the result does not depend on the number of threads) and each
//! task checking the run's [`Control`] before it starts: FFTs of the rows of a row-major
//! matrix (in place, or written transposed into another buffer), and FFTs of its columns
//! (gathered a block at a time into a task's own buffer), with the four-step's twiddles.

use rayon::prelude::*;

use super::Complejo;
use super::plan::Rustfft;
use super::raices::Raices;
use crate::ErrorKernel;
use crate::control::Control;

/// Points a task transforms, at least: about a millisecond of work, so that a task pays for
/// its scheduling and its check of the control.
const PUNTOS_POR_TAREA: usize = 1 << 15;

/// Columns gathered together: 16 complex values are 256 contiguous bytes of each row.
const COLUMNAS_POR_BLOQUE: usize = 16;

/// The twiddles a column pass applies, for the four-step: element `(k1, c)` (row, column) of
/// an `n1 × n2` matrix times `ω_N^(c·k1)`, `N = n1·n2`.
#[derive(Clone, Copy)]
pub(super) enum Giro<'a> {
    /// None (the columns of a 2-D transform).
    Ninguno,
    /// After the column FFTs (the forward four-step).
    Despues(&'a Raices),
    /// Conjugated, before the inverse column FFTs (the inverse four-step).
    AntesConjugado(&'a Raices),
}

/// A pointer to a buffer whose tasks touch disjoint elements (here and in `trasponer.rs`).
#[derive(Clone, Copy)]
pub(super) struct Compartido(pub(super) *mut Complejo);

// SAFETY: the passes hand each task a disjoint set of elements (its own columns, its own rows'
// transposed places, its own tiles or stripe); no element is read or written by two tasks.
unsafe impl Send for Compartido {}
// SAFETY: as above.
unsafe impl Sync for Compartido {}

impl Compartido {
    /// Element `i`.
    ///
    /// # Safety
    /// `i` is inside the buffer, and no other task touches element `i`.
    pub(super) unsafe fn en(&self, i: usize) -> *mut Complejo {
        // SAFETY: as the caller promises.
        unsafe { self.0.add(i) }
    }
}

/// FFTs of every row of `datos` (rows of `fft.len()` points), in place.
pub(super) fn filas(
    datos: &mut [Complejo],
    fft: &Rustfft,
    control: &Control,
) -> Result<(), ErrorKernel> {
    let largo = fft.len();
    let por_tarea = largo * PUNTOS_POR_TAREA.div_ceil(largo);
    datos.par_chunks_mut(por_tarea).try_for_each_init(
        || vec![Complejo::default(); fft.get_inplace_scratch_len()],
        |auxiliar, trozo| {
            control.comprobar()?;
            fft.process_with_scratch(trozo, auxiliar);
            Ok(())
        },
    )
}

/// FFTs of every row of the `n1 × n2` matrix `datos` (which they leave as garbage), written
/// transposed: `salida[k2·n1 + k1]` = element `k2` of row `k1`'s transform.
pub(super) fn filas_trasponiendo(
    datos: &mut [Complejo],
    salida: &mut [Complejo],
    fft: &Rustfft,
    control: &Control,
) -> Result<(), ErrorKernel> {
    let n2 = fft.len();
    let n1 = datos.len() / n2;
    assert_eq!(salida.len(), datos.len());
    let filas_por_tarea = PUNTOS_POR_TAREA.div_ceil(n2).max(COLUMNAS_POR_BLOQUE);
    let destino = Compartido(salida.as_mut_ptr());
    datos
        .par_chunks_mut(filas_por_tarea * n2)
        .enumerate()
        .try_for_each_init(
            || {
                let auxiliar = fft.get_outofplace_scratch_len();
                (
                    vec![Complejo::default(); filas_por_tarea * n2],
                    vec![Complejo::default(); auxiliar],
                )
            },
            |(hecho, auxiliar), (t, trozo)| {
                control.comprobar()?;
                let hecho = &mut hecho[..trozo.len()];
                fft.process_outofplace_with_scratch(trozo, hecho, auxiliar);
                let primera = t * filas_por_tarea;
                let cuantas = trozo.len() / n2;
                for k2 in 0..n2 {
                    for f in 0..cuantas {
                        // SAFETY: salida holds n1·n2 points; k2 < n2 and primera + f < n1, and
                        // this task alone writes the rows primera .. primera + cuantas.
                        unsafe {
                            *destino.en(k2 * n1 + primera + f) = hecho[f * n2 + k2];
                        }
                    }
                }
                Ok(())
            },
        )
}

/// FFTs of every column of the row-major matrix `datos` (columns of `fft.len()` points, so
/// `datos.len() / fft.len()` columns), in place, with `giro`'s twiddles.
pub(super) fn columnas(
    datos: &mut [Complejo],
    fft: &Rustfft,
    giro: Giro<'_>,
    control: &Control,
) -> Result<(), ErrorKernel> {
    let n1 = fft.len();
    let n2 = datos.len() / n1;
    let por_bloque = COLUMNAS_POR_BLOQUE
        .max(PUNTOS_POR_TAREA.div_ceil(n1))
        .min(n2);
    let bloques = n2.div_ceil(por_bloque);
    let origen = Compartido(datos.as_mut_ptr());
    (0..bloques).into_par_iter().try_for_each_init(
        || {
            let auxiliar = fft.get_inplace_scratch_len();
            (
                vec![Complejo::default(); por_bloque * n1],
                vec![Complejo::default(); auxiliar],
            )
        },
        |(columna, auxiliar), b| {
            control.comprobar()?;
            let c0 = b * por_bloque;
            let ancho = por_bloque.min(n2 - c0);
            let columna = &mut columna[..ancho * n1];
            // SAFETY (both loops): datos holds n1·n2 points, every index is j·n2 + c0 + c with
            // j < n1 and c < ancho ≤ n2 − c0, and only this task touches columns c0 .. c0 + ancho.
            for j in 0..n1 {
                for c in 0..ancho {
                    columna[c * n1 + j] = unsafe { *origen.en(j * n2 + c0 + c) };
                }
            }
            girar(columna, n1, c0, giro, true);
            fft.process_with_scratch(columna, auxiliar);
            girar(columna, n1, c0, giro, false);
            for j in 0..n1 {
                for c in 0..ancho {
                    unsafe { *origen.en(j * n2 + c0 + c) = columna[c * n1 + j] };
                }
            }
            Ok(())
        },
    )
}

/// Applies `giro` to gathered columns `c0 ..` (each `n1` points, contiguous) when its moment
/// (`antes`: before the FFTs) has come.
fn girar(columnas: &mut [Complejo], n1: usize, c0: usize, giro: Giro<'_>, antes: bool) {
    let (raices, conjugar) = match (giro, antes) {
        (Giro::Despues(r), false) => (r, false),
        (Giro::AntesConjugado(r), true) => (r, true),
        _ => return,
    };
    let orden = raices.orden();
    for (c, columna) in columnas.chunks_exact_mut(n1).enumerate() {
        let paso = (c0 + c) as u64;
        let mut e = 0u64;
        for x in columna {
            let w = raices.raiz(e);
            *x *= if conjugar { w.conj() } else { w };
            e += paso;
            if e >= orden {
                e -= orden;
            }
        }
    }
}
