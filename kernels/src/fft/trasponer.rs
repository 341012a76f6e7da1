//! The in-place transpose of an `n1 × n2` row-major matrix whose `n2` is a multiple `c·n1` of
//! `n1`: the last step of the four-step without a second buffer (no fresh memory for the
//! spectrum, whose page faults cost more than the transform's arithmetic on a 2-core VM).
//!
//! The matrix is `c` square blocks side by side, `[B_0 … B_(c−1)]`. Step 1 transposes each
//! block where it stands (pairs of 32 × 32 tiles swapped); then the segment of `n1` points at
//! `(r·c + i)·n1` holds row `i·n1 + r` of the transpose, and step 2 moves every segment to its
//! place, following the permutation's cycles (skipped when `c = 1`). Both steps run on the
//! current rayon pool in tasks that check the run's [`Control`].

use rayon::prelude::*;

use super::Complejo;
use super::pasadas::Compartido;
use crate::ErrorKernel;
use crate::control::Control;

/// Side of the tiles swapped in step 1: two tiles of 32 × 32 points are 32 KiB.
const TESELA: usize = 32;

/// Points of each segment one task of step 2 moves along the cycles: 1 KiB.
const FRANJA: usize = 64;

/// Transposes the `n1 × n2` row-major `datos` in place into `n2 × n1`; `n2` must be a multiple
/// of `n1`.
pub(super) fn en_sitio(
    datos: &mut [Complejo],
    n1: usize,
    n2: usize,
    control: &Control,
) -> Result<(), ErrorKernel> {
    assert!(n2.is_multiple_of(n1) && datos.len() == n1 * n2);
    bloques(datos, n1, n2, control)?;
    if n2 > n1 {
        segmentos(datos, n1, n2 / n1, control)?;
    }
    Ok(())
}

/// Step 1: every `n1 × n1` block transposed where it stands (row stride `n2`).
fn bloques(
    datos: &mut [Complejo],
    n1: usize,
    n2: usize,
    control: &Control,
) -> Result<(), ErrorKernel> {
    let lado = n1.div_ceil(TESELA);
    let m = Compartido(datos.as_mut_ptr());
    // A task: block i, tile row ta, with every tile tb ≥ ta of that row and its mirror.
    (0..(n2 / n1) * lado).into_par_iter().try_for_each(|tarea| {
        control.comprobar()?;
        let (i, ta) = (tarea / lado, tarea % lado);
        let base = i * n1;
        for tb in ta..lado {
            let filas = (ta * TESELA)..((ta + 1) * TESELA).min(n1);
            for a in filas {
                let desde = if ta == tb { a + 1 } else { tb * TESELA };
                for b in desde..((tb + 1) * TESELA).min(n1) {
                    // SAFETY: a, b < n1, so both indices are inside the block; the pair
                    // (a, b), (b, a) belongs to this task's tiles (ta, tb), (tb, ta) alone.
                    unsafe { std::ptr::swap(m.en(a * n2 + base + b), m.en(b * n2 + base + a)) };
                }
            }
        }
        Ok(())
    })
}

/// Step 2: the `c·n1` segments of `n1` points, where segment `r·c + i` goes to `i·n1 + r` (the
/// transpose of an `n1 × c` matrix of segments), moved along the permutation's cycles, each
/// task one stripe of [`FRANJA`] points of every segment.
fn segmentos(
    datos: &mut [Complejo],
    n1: usize,
    c: usize,
    control: &Control,
) -> Result<(), ErrorKernel> {
    let ciclos = ciclos(n1, c);
    let m = Compartido(datos.as_mut_ptr());
    (0..n1.div_ceil(FRANJA)).into_par_iter().try_for_each(|f| {
        control.comprobar()?;
        let franja = (f * FRANJA)..((f + 1) * FRANJA).min(n1);
        let mut guardado = [Complejo::default(); FRANJA];
        for ciclo in &ciclos {
            // The segment at ciclo[k] receives the one at ciclo[k + 1]; the first is kept
            // aside for the last.
            for (g, x) in franja.clone().zip(&mut guardado) {
                // SAFETY: every index is a segment (< c·n1) times n1 plus a point of this
                // task's stripe (< n1): inside the matrix, and touched by this task alone.
                *x = unsafe { *m.en(ciclo[0] * n1 + g) };
            }
            for par in ciclo.windows(2) {
                for g in franja.clone() {
                    // SAFETY: as above.
                    unsafe { *m.en(par[0] * n1 + g) = *m.en(par[1] * n1 + g) };
                }
            }
            let ultimo = ciclo[ciclo.len() - 1];
            for (g, x) in franja.clone().zip(&guardado) {
                // SAFETY: as above.
                unsafe { *m.en(ultimo * n1 + g) = *x };
            }
        }
        Ok(())
    })
}

/// The cycles (of length ≥ 2) of step 2's moves, each as the segments that receive in turn:
/// `ciclo[k]` receives the segment at `ciclo[k + 1]`, the last one the first.
fn ciclos(n1: usize, c: usize) -> Vec<Vec<usize>> {
    let total = n1 * c;
    // The segment whose contents segment h receives: h = i·n1 + r comes from r·c + i.
    let origen = |h: usize| (h % n1) * c + h / n1;
    let mut visto = vec![false; total];
    let mut ciclos = Vec::new();
    for inicio in 0..total {
        if visto[inicio] || origen(inicio) == inicio {
            continue;
        }
        let mut ciclo = vec![inicio];
        visto[inicio] = true;
        let mut h = origen(inicio);
        while h != inicio {
            visto[h] = true;
            ciclo.push(h);
            h = origen(h);
        }
        ciclos.push(ciclo);
    }
    ciclos
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shape_with_a_multiple_width_is_transposed() {
        for (n1, c) in [
            (1, 1),
            (1, 5),
            (2, 1),
            (3, 2),
            (31, 1),
            (33, 2),
            (40, 3),
            (64, 2),
            (65, 4),
        ] {
            let n2 = n1 * c;
            let original: Vec<Complejo> = (0..n1 * n2)
                .map(|i| Complejo::new(i as f64, -(i as f64)))
                .collect();
            let mut datos = original.clone();
            en_sitio(&mut datos, n1, n2, &Control::ninguno()).unwrap();
            for r in 0..n1 {
                for s in 0..n2 {
                    assert_eq!(
                        datos[s * n1 + r],
                        original[r * n2 + s],
                        "{n1} × {n2}: ({r}, {s})"
                    );
                }
            }
        }
    }
}
