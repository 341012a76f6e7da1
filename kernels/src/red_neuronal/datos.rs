//! The seeded inputs of a `red_neuronal` job, equal on every backend: the synthetic set (blobs
//! or spirals) and its 80/20 split, the He-initialised parameters, and each epoch's minibatch
//! order. All come from [`azar::valor`](crate::azar::valor) streams under the job's seed, so
//! `kernels/pares/red_neuronal.py` rebuilds them in numpy.

use comun::trabajo::{Conjunto, ParamsRedNeuronal};
use rayon::prelude::*;

use super::Arquitectura;
use crate::azar::valor;

/// Stream of the spirals' radius (and position along the arm).
const FLUJO_RADIO: u64 = 40;
/// Stream of the spirals' angular noise.
const FLUJO_ANGULO: u64 = 41;
/// Stream of the blobs' centres.
const FLUJO_CENTROS: u64 = 42;
/// Stream of the blobs' points around their centre.
const FLUJO_PUNTOS: u64 = 43;
/// Stream of the minibatch order.
const FLUJO_ORDEN: u64 = 44;
/// Stream of the initial weights.
const FLUJO_PESOS: u64 = 45;

/// Blob centres are uniform in `[-r, r)` in every dimension, `r = RADIO_CENTROS·√(2/d)`, so
/// that two centres are about `√(64/3) ≈ 4.6` apart on average in any dimension `d`; the
/// points around them have unit variance.
const RADIO_CENTROS: f64 = 4.0;

/// Element `i` of a stream as an `f64` uniform in `[0, 1)` (53 bits).
#[inline]
fn uniforme(semilla: u64, flujo: u64, i: u64) -> f64 {
    (valor(semilla, flujo, i) >> 11) as f64 * f64::EPSILON / 2.0
}

/// Element `i` of a stream as a standard normal: Box-Muller from elements `2i` and `2i + 1`
/// (the first mapped to `(0, 1]`, so its logarithm is finite).
#[inline]
fn normal(semilla: u64, flujo: u64, i: u64) -> f64 {
    let u1 = uniforme(semilla, flujo, 2 * i) + f64::EPSILON / 2.0;
    let u2 = uniforme(semilla, flujo, 2 * i + 1);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A labelled set: `x` row-major (`muestras × dimensiones`), `y` the classes.
#[derive(Debug, Clone, PartialEq)]
pub struct Datos {
    /// The inputs, one row per sample.
    pub x: Vec<f32>,
    /// The class of each sample, below the job's `clases`.
    pub y: Vec<u32>,
    /// Columns of `x`.
    pub dimensiones: usize,
}

impl Datos {
    /// Samples.
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// Samples `desde..` in a new set.
    fn separar(&mut self, desde: usize) -> Datos {
        Datos {
            x: self.x.split_off(desde * self.dimensiones),
            y: self.y.split_off(desde),
            dimensiones: self.dimensiones,
        }
    }
}

/// The job's set, split into training (the first [`ParamsRedNeuronal::entrenamiento`]
/// samples) and held-out (the last fifth, at least one).
/// Sample `i` has class `i mod clases`; every sample is drawn independently, so the split
/// by position is as good as a random one, and both parts hold every class equally (±1).
pub fn conjuntos(p: &ParamsRedNeuronal) -> (Datos, Datos) {
    let mut todo = generar(p);
    let prueba = todo.separar(p.entrenamiento() as usize);
    (todo, prueba)
}

/// Every sample of the job's set, filled on every core.
fn generar(p: &ParamsRedNeuronal) -> Datos {
    let (n, d, k) = (p.muestras as usize, p.dimensiones as usize, p.clases);
    let y: Vec<u32> = (0..n as u32).map(|i| i % k).collect();
    let mut x = vec![0.0f32; n * d];
    match p.conjunto {
        Conjunto::Espirales => espirales(p.semilla, k, &y, &mut x),
        Conjunto::Blobs => blobs(p.semilla, k as usize, d, &y, &mut x),
    }
    Datos {
        x,
        y,
        dimensiones: d,
    }
}

/// Spirals: arm `c` of `k` starts at angle `2πc/k` and turns once as the radius `r` grows
/// uniformly from 0 to 1; the angle has Gaussian noise of a tenth of the arms' spacing.
fn espirales(semilla: u64, k: u32, y: &[u32], x: &mut [f32]) {
    let brazo = std::f64::consts::TAU / f64::from(k);
    x.par_chunks_mut(2).enumerate().for_each(|(i, punto)| {
        let r = uniforme(semilla, FLUJO_RADIO, i as u64);
        let ruido = normal(semilla, FLUJO_ANGULO, i as u64);
        let angulo = brazo * f64::from(y[i]) + std::f64::consts::TAU * r + 0.1 * brazo * ruido;
        punto[0] = (r * angulo.sin()) as f32;
        punto[1] = (r * angulo.cos()) as f32;
    });
}

/// Blobs: class `c`'s centre uniform in `[-r, r)ᵈ` (see [`RADIO_CENTROS`]), its points the
/// centre plus a standard normal in every dimension: as hard to separate in 2 dimensions as
/// in 1024.
fn blobs(semilla: u64, k: usize, d: usize, y: &[u32], x: &mut [f32]) {
    let radio = RADIO_CENTROS * (2.0 / d as f64).sqrt();
    let centros: Vec<f64> = (0..(k * d) as u64)
        .map(|j| (2.0 * uniforme(semilla, FLUJO_CENTROS, j) - 1.0) * radio)
        .collect();
    x.par_chunks_mut(d).enumerate().for_each(|(i, punto)| {
        let centro = &centros[y[i] as usize * d..][..d];
        for (j, (xj, cj)) in punto.iter_mut().zip(centro).enumerate() {
            *xj = (cj + normal(semilla, FLUJO_PUNTOS, (i * d + j) as u64)) as f32;
        }
    });
}

/// The initial parameters, laid out as [`Arquitectura`] says: every weight of a layer with
/// `entrada` inputs is a standard normal times `√(2 / entrada)` (He et al. 2015), element `j`
/// of the whole vector from element `j` of one stream; biases are zero.
pub fn parametros_iniciales(arquitectura: &Arquitectura, semilla: u64) -> Vec<f32> {
    let mut w = vec![0.0f32; arquitectura.parametros()];
    for capa in arquitectura.capas() {
        let escala = (2.0 / capa.entrada as f64).sqrt();
        w[capa.pesos()]
            .par_iter_mut()
            .enumerate()
            .for_each(|(j, wj)| {
                let indice = (capa.desde + j) as u64;
                *wj = (normal(semilla, FLUJO_PESOS, indice) * escala) as f32;
            });
    }
    w
}

/// The order in which epoch `epoca` visits the `n` training samples: their indices sorted by
/// key, the key of index `i` element `epoca·n + i` of a stream (ties, which need two equal
/// 64-bit keys, by index).
pub fn orden(semilla: u64, epoca: u32, n: usize) -> Vec<u32> {
    let base = u64::from(epoca).wrapping_mul(n as u64);
    let mut claves: Vec<(u64, u32)> = (0..n as u32)
        .map(|i| {
            (
                valor(semilla, FLUJO_ORDEN, base.wrapping_add(u64::from(i))),
                i,
            )
        })
        .collect();
    claves.sort_unstable();
    claves.into_iter().map(|(_, i)| i).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normals_have_the_moments_of_a_standard_normal() {
        let n = 200_000;
        let z: Vec<f64> = (0..n).map(|i| normal(9, 1, i)).collect();
        let media = z.iter().sum::<f64>() / n as f64;
        let varianza = z.iter().map(|v| (v - media).powi(2)).sum::<f64>() / n as f64;
        assert!(media.abs() < 0.01, "{media}");
        assert!((varianza - 1.0).abs() < 0.01, "{varianza}");
        assert!(z.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn every_epoch_visits_every_sample_once_in_its_own_order() {
        let a = orden(3, 0, 1000);
        let b = orden(3, 1, 1000);
        assert_ne!(a, b);
        assert_eq!(a, orden(3, 0, 1000));
        for o in [a, b] {
            let mut visto = o.clone();
            visto.sort_unstable();
            assert!(visto.iter().enumerate().all(|(i, &j)| i as u32 == j));
        }
        assert_eq!(orden(3, 7, 1), [0]);
    }

    #[test]
    fn the_split_holds_a_fifth_and_every_class() {
        let p = ParamsRedNeuronal {
            muestras: 103,
            clases: 4,
            ..Default::default()
        };
        let (entrenamiento, prueba) = conjuntos(&p);
        assert_eq!((entrenamiento.len(), prueba.len()), (83, 20));
        assert_eq!(prueba.x.len(), 40);
        for c in 0..4 {
            assert!(prueba.y.contains(&c) && entrenamiento.y.contains(&c));
        }
        let dos = ParamsRedNeuronal {
            muestras: 2,
            lote: 1,
            ..Default::default()
        };
        let (entrenamiento, prueba) = conjuntos(&dos);
        assert_eq!((entrenamiento.len(), prueba.len()), (1, 1));
    }
}
