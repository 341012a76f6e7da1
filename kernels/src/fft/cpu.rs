//! The two CPU backends: `Paralelo` runs the plans on rayon's global pool, `Secuencial` the
//! same passes on a pool of one thread with a larger one-call threshold (so most lengths it
//! transforms in one rustfft call, the plain reference). A 2-D transform is its rows, then its
//! columns, each a batch of 1-D transforms.

use std::time::{Duration, Instant};

use rayon::prelude::*;
use rustfft::FftPlanner;

use super::Complejo;
use super::pasadas::{self, Giro};
use super::plan::Plan1d;
use crate::ErrorKernel;
use crate::control::Control;

/// `Secuencial` transforms lengths up to 2¹⁸ in one rustfft call (at most about 50 ms on one
/// core, a prime length included); longer ones through the same four-step or Bluestein as
/// `Paralelo`, on its one thread, so that its control is checked between passes.
pub(super) const DIRECTA_SECUENCIAL: usize = 1 << 18;

/// `Paralelo` transforms lengths up to 2¹⁴ in one call (a fraction of a millisecond, not worth
/// splitting); longer ones as a four-step or Bluestein over every core.
pub(super) const DIRECTA_PARALELO: usize = 1 << 14;

/// The 2-D transform of the `n × m` row-major `datos` (1-D when `n` or `m` is 1) on the current
/// rayon pool, one-call lengths up to `directa_maxima`: the spectrum and the time it took
/// (planning included: Bluestein's filter is an FFT of its own).
pub(super) fn transformar(
    datos: Vec<Complejo>,
    n: usize,
    m: usize,
    directa_maxima: usize,
    control: &Control,
) -> Result<(Vec<Complejo>, Duration), ErrorKernel> {
    let inicio = Instant::now();
    let mut planner = FftPlanner::new();
    let datos = if n == 1 || m == 1 {
        Plan1d::new(n * m, directa_maxima, &mut planner, control)?.aplicar(datos, control)?
    } else {
        let filas = Plan1d::new(m, directa_maxima, &mut planner, control)?;
        let columnas = Plan1d::new(n, directa_maxima, &mut planner, control)?;
        let mut datos = datos;
        transformar_eje(&mut datos, m, &filas, Eje::Filas, control)?;
        transformar_eje(&mut datos, n, &columnas, Eje::Columnas, control)?;
        datos
    };
    Ok((datos, inicio.elapsed()))
}

/// `Secuencial`: [`transformar`] on a pool of one thread, one-call lengths up to
/// [`DIRECTA_SECUENCIAL`].
pub(super) fn secuencial(
    datos: Vec<Complejo>,
    n: usize,
    m: usize,
    control: &Control,
) -> Result<(Vec<Complejo>, Duration), ErrorKernel> {
    let hilo = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .thread_name(|_| "fft-secuencial".into())
        .build()
        .map_err(|e| ErrorKernel::NoDisponible(format!("fft: cannot start its thread: {e}")))?;
    hilo.install(|| transformar(datos, n, m, DIRECTA_SECUENCIAL, control))
}

/// Which sequences of a row-major matrix a pass transforms.
#[derive(Clone, Copy)]
enum Eje {
    /// The rows (contiguous).
    Filas,
    /// The columns (one point a row).
    Columnas,
}

/// Every row or column (`largo` points each) transformed: many at once when one is a single
/// call (rows in batches, columns gathered in blocks), otherwise one after another, each
/// spread by its own plan.
fn transformar_eje(
    datos: &mut [Complejo],
    largo: usize,
    plan: &Plan1d,
    eje: Eje,
    control: &Control,
) -> Result<(), ErrorKernel> {
    if let Some(fft) = plan.directa() {
        return match eje {
            Eje::Filas => pasadas::filas(datos, fft, control),
            Eje::Columnas => pasadas::columnas(datos, fft, Giro::Ninguno, control),
        };
    }
    let cuantas = datos.len() / largo;
    // Point j of sequence k is datos[k·salto + j·paso].
    let (salto, paso) = match eje {
        Eje::Filas => (largo, 1),
        Eje::Columnas => (1, cuantas),
    };
    for k in 0..cuantas {
        let secuencia: Vec<Complejo> = (0..largo)
            .into_par_iter()
            .map(|j| datos[k * salto + j * paso])
            .collect();
        let hecha = plan.aplicar(secuencia, control)?;
        for (j, x) in hecha.into_iter().enumerate() {
            datos[k * salto + j * paso] = x;
        }
    }
    Ok(())
}
