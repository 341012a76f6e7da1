//! The inputs of a `kmeans` job, equal on every backend and every machine: the points
//! (Gaussian blobs on a fixed-point lattice), the k-means++ initial centroids, and the exact
//! squared distance that defines which centroid is nearest.
//!
//! The lattice: every coordinate of a point or a centroid is an integer multiple of
//! 2⁻¹⁹ ([`ESCALA`]) of magnitude below 32 ([`LIMITE`]), that is an integer `X` with
//! `|X| < 2²⁴` standing for `x = X·2⁻¹⁹`, exactly an `f32` (the blobs stay within ±16).
//! Squared distances in lattice units (`Σ (X − C)²`, each term below 2⁵⁰, at most 1024 terms)
//! are exact in `u64`, so "the nearest centroid" has one answer whatever the hardware; sums of
//! up to 10⁷ coordinates are integers below 2⁴⁸, exact in `f64` in any order.
//!
//! The blobs, from [`azar::valor`] streams under the job's seed, in integer arithmetic only
//! (no `ln` or `cos` whose last bit could differ between C libraries):
//! - `k` centres, coordinate `l` of centre `b` uniform on the lattice in `[-10, 10)`
//!   (stream [`FLUJO_CENTROS`], element `b·d + l`), as scikit-learn's `make_blobs`;
//! - point `i` belongs to blob `⌊valor(FLUJO_GRUPO, i)·k / 2⁶⁴⌋`;
//! - its coordinate `l` is the centre's plus `z`, an Irwin–Hall normal: the sum of twelve
//!   uniform 16-bit integers (the four 16-bit quarters of elements `3m`, `3m + 1`, `3m + 2` of
//!   stream [`FLUJO_RUIDO`], `m = i·d + l`) minus 6·2¹⁶, times 2⁻¹⁶: mean 0, variance 1 (to
//!   2⁻³²), within ±6.
//!
//! The initialisation is k-means++ (Arthur and Vassilvitskii, 2007) with exact distances: the
//! first centroid is point `⌊valor(FLUJO_INICIO, 0)·n / 2⁶⁴⌋`; centroid `t` is the first point
//! whose running sum of `D²` (squared distance to the nearest chosen centroid, exact `u64`,
//! summed in `u128`) exceeds `⌊total · u⌋`, `u` the top 53 bits of `valor(FLUJO_INICIO, t)`
//! as a fraction; when every point already coincides with a chosen centroid (`total = 0`), it
//! is point `⌊valor(FLUJO_INICIO, t)·n / 2⁶⁴⌋`. It runs on the host on every core for every
//! backend, in the same integers, so every backend starts from the same centroids.

use comun::ErrorCampo;
use comun::trabajo::ParamsKmeans;
use multiversion::multiversion;
use rayon::prelude::*;

use crate::ErrorKernel;
use crate::azar::valor;
use crate::control::Control;

/// One lattice unit is `1 / ESCALA`: 2⁻¹⁹.
pub const ESCALA: f32 = 524_288.0;

/// Every coordinate's magnitude is below this (2²⁴ lattice units).
pub const LIMITE: f32 = 32.0;

/// Stream of the blob centres.
const FLUJO_CENTROS: u64 = 50;
/// Stream of each point's blob.
const FLUJO_GRUPO: u64 = 51;
/// Stream of the points' offsets from their centre.
const FLUJO_RUIDO: u64 = 52;
/// Stream of the k-means++ choices.
const FLUJO_INICIO: u64 = 53;

/// Half the side of the box of blob centres, in lattice units (10).
const RADIO_CENTROS: i64 = 10 << 19;

/// Points generated, or distances updated, between two checks of the [`Control`].
const FILAS_POR_TROZO: usize = 1 << 12;

/// The points of a job, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Datos {
    /// `muestras × dimensiones` coordinates, each on the lattice.
    pub x: Vec<f32>,
    /// Points.
    pub muestras: usize,
    /// Coordinates of a point.
    pub dimensiones: usize,
}

impl Datos {
    /// The blobs of `p` (its `k` is also the number of blobs).
    pub fn new(p: &ParamsKmeans) -> Self {
        // A control that nobody else holds never stops the generation.
        Self::con(p, &Control::ninguno()).expect("an unshared control never stops")
    }

    /// [`Datos::new`], checking `control` between chunks of points.
    pub(super) fn con(p: &ParamsKmeans, control: &Control) -> Result<Self, ErrorKernel> {
        let (n, d, k) = (p.muestras as usize, p.dimensiones as usize, p.k as usize);
        let centros: Vec<i64> = (0..k * d)
            .map(|m| {
                uniforme(
                    valor(p.semilla, FLUJO_CENTROS, m as u64),
                    2 * RADIO_CENTROS as u64,
                )
            })
            .map(|u| u as i64 - RADIO_CENTROS)
            .collect();
        let mut x = vec![0.0f32; n * d];
        x.par_chunks_mut(FILAS_POR_TROZO * d)
            .enumerate()
            .try_for_each(|(t, trozo)| {
                control.comprobar()?;
                for (f, fila) in trozo.chunks_exact_mut(d).enumerate() {
                    let i = (t * FILAS_POR_TROZO + f) as u64;
                    let b = uniforme(valor(p.semilla, FLUJO_GRUPO, i), k as u64) as usize;
                    for (l, v) in fila.iter_mut().enumerate() {
                        let z = ruido(p.semilla, i * d as u64 + l as u64);
                        *v = real(centros[b * d + l] + z);
                    }
                }
                Ok::<_, ErrorKernel>(())
            })?;
        Ok(Datos {
            x,
            muestras: n,
            dimensiones: d,
        })
    }

    /// Point `i`.
    pub fn fila(&self, i: usize) -> &[f32] {
        &self.x[i * self.dimensiones..(i + 1) * self.dimensiones]
    }
}

/// `⌊v · m / 2⁶⁴⌋`: a 64-bit draw as an integer uniform in `[0, m)`.
fn uniforme(v: u64, m: u64) -> u64 {
    ((u128::from(v) * u128::from(m)) >> 64) as u64
}

/// Coordinate `m`'s offset from its centre in lattice units: an Irwin–Hall normal (twelve
/// 16-bit uniforms) scaled from 2⁻¹⁶ to the lattice's 2⁻¹⁹.
fn ruido(semilla: u64, m: u64) -> i64 {
    let suma: u64 = (0..3)
        .map(|q| valor(semilla, FLUJO_RUIDO, 3 * m + q))
        .map(|v| (v & 0xFFFF) + (v >> 16 & 0xFFFF) + (v >> 32 & 0xFFFF) + (v >> 48))
        .sum();
    (suma as i64 - 6 * 65_536) * 8
}

/// The `f32` of lattice integer `x` (exact: `|x| < 2²⁴`).
fn real(x: i64) -> f32 {
    x as f32 / ESCALA
}

/// The lattice integer of coordinate `v` (exact for lattice values).
#[inline(always)]
pub fn entero(v: f32) -> i32 {
    (v * ESCALA) as i32
}

/// `Σ (X − C)²` over the coordinates, in lattice units (2⁻³⁸): the exact squared distance
/// between two lattice points.
#[inline(always)]
pub fn distancia_exacta(x: &[f32], c: &[f32]) -> u64 {
    x.iter()
        .zip(c)
        .map(|(&a, &b)| {
            let t = i64::from(entero(a) - entero(b));
            (t * t) as u64
        })
        .sum()
}

/// The nearest of the centroids `c` (row-major, `x.len()` coordinates each) to `x` by
/// [`distancia_exacta`], the first on ties: the assignment every backend must compute.
pub fn mas_cercano(x: &[f32], c: &[f32]) -> usize {
    let mut mejor = (u64::MAX, 0);
    for (j, cj) in c.chunks_exact(x.len()).enumerate() {
        let d2 = distancia_exacta(x, cj);
        if d2 < mejor.0 {
            mejor = (d2, j);
        }
    }
    mejor.1
}

/// `Ok` when every one of `valores` is a lattice point below [`LIMITE`] in magnitude (what the
/// exact arithmetic needs); otherwise the first that is not, named after `campo`.
pub fn en_la_red(valores: &[f32], campo: &str) -> Result<(), ErrorCampo> {
    let fuera = |v: f32| !(v.abs() < LIMITE && (v * ESCALA).fract() == 0.0);
    match valores.iter().position(|&v| fuera(v)) {
        None => Ok(()),
        Some(i) => Err(ErrorCampo::new(
            campo,
            format!(
                "value {} at position {i} is not a multiple of 2⁻¹⁹ below {LIMITE} in magnitude",
                valores[i]
            ),
        )),
    }
}

/// `Σᵢ ‖Xᵢ‖²` in lattice units, exact: the constant term of the inertia.
pub(super) fn suma_de_normas(datos: &Datos) -> i128 {
    let d = datos.dimensiones;
    datos
        .x
        .par_chunks(FILAS_POR_TROZO * d)
        .map(|trozo| {
            trozo
                .iter()
                .map(|&v| i128::from(i64::from(entero(v)).pow(2)))
                .sum::<i128>()
        })
        .sum()
}

/// `‖xᵢ‖` of every point, for the error bounds of the `f32` distances.
pub(super) fn normas(datos: &Datos) -> Vec<f32> {
    datos
        .x
        .par_chunks(datos.dimensiones)
        .map(|fila| {
            let s: f64 = fila.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
            s.sqrt() as f32
        })
        .collect()
}

/// The k-means++ initial centroids of `datos` (row-major, `k × dimensiones`) under `semilla`,
/// as the module's documentation says; `control` is checked before each choice and between
/// chunks of points.
pub fn iniciales(
    datos: &Datos,
    k: usize,
    semilla: u64,
    control: &Control,
) -> Result<Vec<f32>, ErrorKernel> {
    let (n, d) = (datos.muestras, datos.dimensiones);
    let al_azar = |t: usize| uniforme(valor(semilla, FLUJO_INICIO, t as u64), n as u64) as usize;
    let mut c = Vec::with_capacity(k * d);
    c.extend_from_slice(datos.fila(al_azar(0)));
    let mut d2 = vec![u64::MAX; n];
    for t in 1..k {
        control.comprobar()?;
        let ultimo = &c[(t - 1) * d..t * d];
        let sumas: Vec<u128> = d2
            .par_chunks_mut(FILAS_POR_TROZO)
            .zip(datos.x.par_chunks(FILAS_POR_TROZO * d))
            .map(|(minimos, filas)| {
                control.comprobar()?;
                acercar(minimos, filas, ultimo);
                Ok(minimos.iter().map(|&m| u128::from(m)).sum())
            })
            .collect::<Result<_, ErrorKernel>>()?;
        let total: u128 = sumas.iter().sum();
        let elegido = if total == 0 {
            al_azar(t)
        } else {
            let u = (valor(semilla, FLUJO_INICIO, t as u64) >> 11) as f64 / (1u64 << 53) as f64;
            let r = ((total as f64 * u) as u128).min(total - 1);
            primero_por_encima(&d2, &sumas, r)
        };
        c.extend_from_slice(datos.fila(elegido));
    }
    Ok(c)
}

/// `minimos[i] = min(minimos[i], distancia_exacta(fila i, c))` over a chunk of points.
#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl+avx512dq",
    "x86_64+avx2+fma",
    "x86_64+sse4.1",
))]
fn acercar(minimos: &mut [u64], filas: &[f32], c: &[f32]) {
    for (m, fila) in minimos.iter_mut().zip(filas.chunks_exact(c.len())) {
        *m = (*m).min(distancia_exacta(fila, c));
    }
}

/// The first `i` with `Σ_{j ≤ i} d2[j] > r`, given the sums of `d2`'s chunks of
/// [`FILAS_POR_TROZO`] (`r` is below their total).
fn primero_por_encima(d2: &[u64], sumas: &[u128], r: u128) -> usize {
    let mut antes = 0u128;
    for (t, &s) in sumas.iter().enumerate() {
        if antes + s > r {
            let mut acumulado = antes;
            let desde = t * FILAS_POR_TROZO;
            for (i, &m) in d2[desde..].iter().enumerate() {
                acumulado += u128::from(m);
                if acumulado > r {
                    return desde + i;
                }
            }
        }
        antes += s;
    }
    unreachable!("r = {r} is below the total {antes}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn datos(n: u32, d: u32, k: u32, semilla: u64) -> Datos {
        Datos::new(&ParamsKmeans::new(n, d, k, 1, semilla).unwrap())
    }

    #[test]
    fn points_lie_on_the_lattice_within_the_box() {
        let a = datos(2000, 3, 4, 7);
        for &v in &a.x {
            assert!(v.abs() <= 16.0, "{v}");
            assert_eq!(entero(v) as f32 / ESCALA, v, "{v} is not on the lattice");
        }
        assert_eq!(a, datos(2000, 3, 4, 7));
        assert_ne!(a, datos(2000, 3, 4, 8));
    }

    #[test]
    fn the_noise_has_unit_variance() {
        let n = 200_000u64;
        let z: Vec<f64> = (0..n)
            .map(|m| ruido(3, m) as f64 / f64::from(ESCALA))
            .collect();
        let media = z.iter().sum::<f64>() / n as f64;
        let varianza = z.iter().map(|v| (v - media).powi(2)).sum::<f64>() / n as f64;
        assert!(media.abs() < 0.01, "{media}");
        assert!((varianza - 1.0).abs() < 0.02, "{varianza}");
        assert!(z.iter().all(|v| v.abs() <= 6.0));
    }

    #[test]
    fn only_lattice_points_within_the_limit_pass() {
        assert!(en_la_red(&[0.0, -31.5, 1.0 / ESCALA, 16.0], "x").is_ok());
        for malo in [
            32.0,
            -40.0,
            0.1,
            1.0 / ESCALA / 2.0,
            f32::NAN,
            f32::INFINITY,
        ] {
            let e = en_la_red(&[1.0, malo], "iniciales").unwrap_err();
            assert_eq!(e.campo, "iniciales");
            assert!(e.mensaje.contains("position 1"), "{}", e.mensaje);
        }
    }

    #[test]
    fn exact_distances_are_exact() {
        let x = [1.5f32, -2.0, 0.25];
        let c = [0.5f32, 1.0, 0.25];
        // (1² + 3²) in units of 2⁻³⁸.
        assert_eq!(distancia_exacta(&x, &c), 10u64 << 38);
        let lejos = [LIMITE - 1.0 / ESCALA; 1024];
        let cerca = [-lejos[0]; 1024];
        let lado = (1u64 << 25) - 2;
        assert_eq!(distancia_exacta(&lejos, &cerca), 1024 * lado * lado);
        assert_eq!(
            mas_cercano(&[0.0], &[1.0, -1.0, 1.0]),
            0,
            "ties go to the first"
        );
        assert_eq!(mas_cercano(&[0.0], &[1.0, -0.5, 0.5]), 1);
    }

    #[test]
    fn kmeans_plus_plus_picks_distinct_points_while_it_can() {
        let a = datos(500, 2, 50, 1);
        let c = iniciales(&a, 50, 1, &Control::ninguno()).unwrap();
        let filas: Vec<&[f32]> = c.chunks_exact(2).collect();
        for (t, f) in filas.iter().enumerate() {
            assert!(
                (0..a.muestras).any(|i| a.fila(i) == *f),
                "centroid {t} is a point"
            );
            assert!(!filas[..t].contains(f), "centroid {t} repeats");
        }
        assert_eq!(c, iniciales(&a, 50, 1, &Control::ninguno()).unwrap());
        let mut todos: Vec<Vec<f32>> = iniciales(&a, 500, 1, &Control::ninguno())
            .unwrap()
            .chunks_exact(2)
            .map(<[f32]>::to_vec)
            .collect();
        let mut puntos: Vec<Vec<f32>> = a.x.chunks_exact(2).map(<[f32]>::to_vec).collect();
        todos.sort_by(|p, q| p.partial_cmp(q).unwrap());
        puntos.sort_by(|p, q| p.partial_cmp(q).unwrap());
        assert_eq!(todos, puntos, "k = muestras takes every point once");
    }

    #[test]
    fn when_every_point_is_taken_the_choice_is_uniform() {
        let iguales = Datos {
            x: vec![1.0; 10],
            muestras: 10,
            dimensiones: 1,
        };
        let c = iniciales(&iguales, 3, 5, &Control::ninguno()).unwrap();
        assert_eq!(c, vec![1.0; 3]);
    }

    #[test]
    fn the_running_sum_search_finds_the_first_point_past_r() {
        let d2 = vec![0u64, 3, 0, 2, 5];
        let sumas = [10u128];
        assert_eq!(primero_por_encima(&d2, &sumas, 0), 1);
        assert_eq!(primero_por_encima(&d2, &sumas, 2), 1);
        assert_eq!(primero_por_encima(&d2, &sumas, 3), 3);
        assert_eq!(primero_por_encima(&d2, &sumas, 9), 4);
    }
}
