//! The elementwise work of a training step on the CPU, the same arithmetic for `Secuencial`
//! and `Paralelo`: bias and ReLU, softmax with its cross-entropy and gradient, the ReLU mask of
//! the gradient sent back, the biases' gradient, and the SGD or Adam update.
//!
//! Every function computes each element with the same operations in the same order whether it
//! runs on one core or many, and in scalar or vector registers (Rust never fuses a multiply-add;
//! `sqrt` and `/` are correctly rounded), so these steps are equal bit for bit on both CPU
//! backends. With `paralelo`, large arrays are cut into chunks of rows spread over the cores;
//! the loops are compiled for AVX-512, AVX2 and SSE4.1 and the CPU's best is picked at run
//! time (`multiversion`).

use multiversion::multiversion;
use rayon::prelude::*;

/// Elements below which work stays on one core: a rayon task costs a few microseconds.
const EN_PARALELO_DESDE: usize = 1 << 15;

/// Calls `f` on chunks of whole rows of `datos` (rows of `ancho`), with the chunks' first
/// row: on every core when `paralelo` and the array is large, else on this thread at once.
fn por_filas(
    datos: &mut [f32],
    ancho: usize,
    paralelo: bool,
    f: impl Fn(usize, &mut [f32]) + Sync + Send,
) {
    if !paralelo || datos.len() < 2 * EN_PARALELO_DESDE || ancho == 0 {
        return f(0, datos);
    }
    let filas = (EN_PARALELO_DESDE / ancho).max(1);
    datos
        .par_chunks_mut(filas * ancho)
        .enumerate()
        .for_each(|(t, trozo)| f(t * filas, trozo));
}

/// `z += b` on every row, then `max(z, 0)` when `relu`.
pub fn sesgo_relu(z: &mut [f32], b: &[f32], relu: bool, paralelo: bool) {
    por_filas(z, b.len(), paralelo, |_, trozo| {
        sesgo_relu_filas(trozo, b, relu)
    });
}

#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl+avx512dq",
    "x86_64+avx2+fma",
    "x86_64+sse4.1",
))]
fn sesgo_relu_filas(z: &mut [f32], b: &[f32], relu: bool) {
    for fila in z.chunks_exact_mut(b.len()) {
        for (x, bj) in fila.iter_mut().zip(b) {
            let v = *x + bj;
            *x = if relu { v.max(0.0) } else { v };
        }
    }
}

/// The gradient through a ReLU: `δ = 0` where the layer's output `a` is not positive.
pub fn mascara_relu(delta: &mut [f32], a: &[f32], ancho: usize, paralelo: bool) {
    por_filas(delta, ancho, paralelo, |fila, trozo| {
        mascara_filas(trozo, &a[fila * ancho..][..trozo.len()]);
    });
}

#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl+avx512dq",
    "x86_64+avx2+fma",
    "x86_64+sse4.1",
))]
fn mascara_filas(delta: &mut [f32], a: &[f32]) {
    for (d, x) in delta.iter_mut().zip(a) {
        if *x <= 0.0 {
            *d = 0.0;
        }
    }
}

/// The biases' gradient: the sum of `delta`'s rows (of `salida.len()` columns), row after row.
#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl+avx512dq",
    "x86_64+avx2+fma",
    "x86_64+sse4.1",
))]
pub fn sumar_columnas(delta: &[f32], salida: &mut [f32]) {
    salida.fill(0.0);
    for fila in delta.chunks_exact(salida.len()) {
        for (s, d) in salida.iter_mut().zip(fila) {
            *s += d;
        }
    }
}

/// Softmax cross-entropy of each row of `logits` (rows of `clases`) against its class `y`:
/// the loss of each row into `perdidas`, and the gradient `(softmax − onehot) · escala` into
/// `delta` (`escala` = 1 / rows of the minibatch).
///
/// Per row, in order: `m = max z`, `e = exp(z − m)`, `s = Σ e` (left to right),
/// `loss = ln s − (z_y − m)`, `δ = (e / s − [j = y]) · escala`.
pub fn softmax_entropia(
    logits: &[f32],
    y: &[u32],
    escala: f32,
    delta: &mut [f32],
    perdidas: &mut [f32],
    paralelo: bool,
) {
    let clases = logits.len() / y.len().max(1);
    if paralelo && logits.len() >= 2 * EN_PARALELO_DESDE {
        logits
            .par_chunks_exact(clases)
            .zip(delta.par_chunks_exact_mut(clases))
            .zip(y.par_iter().zip(perdidas.par_iter_mut()))
            .with_min_len((EN_PARALELO_DESDE / clases).max(1))
            .for_each(|((z, d), (&c, perdida))| {
                *perdida = softmax_fila(z, c as usize, escala, d);
            });
        return;
    }
    let filas = logits
        .chunks_exact(clases)
        .zip(delta.chunks_exact_mut(clases));
    for ((z, d), (&c, perdida)) in filas.zip(y.iter().zip(perdidas.iter_mut())) {
        *perdida = softmax_fila(z, c as usize, escala, d);
    }
}

/// One row of [`softmax_entropia`]: its loss.
fn softmax_fila(z: &[f32], y: usize, escala: f32, delta: &mut [f32]) -> f32 {
    let m = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut s = 0.0f32;
    for (d, x) in delta.iter_mut().zip(z) {
        *d = (x - m).exp();
        s += *d;
    }
    for d in delta.iter_mut() {
        *d /= s;
    }
    delta[y] -= 1.0;
    for d in delta.iter_mut() {
        *d *= escala;
    }
    s.ln() - (z[y] - m)
}

/// Adam's first-moment decay β₁.
pub const BETA1: f32 = 0.9;
/// Adam's second-moment decay β₂.
pub const BETA2: f32 = 0.999;
/// Adam's ε, added to `√v̂`.
pub const EPSILON: f32 = 1e-8;

/// Adam's bias corrections after `paso` updates (the first is 1): `1 − β₁ᵗ` and `1 − β₂ᵗ`,
/// computed in `f64` from the decimal β's and rounded to `f32`, on the host for every
/// backend.
pub fn correcciones(paso: u32) -> (f32, f32) {
    let t = paso as i32;
    (
        (1.0 - 0.9f64.powi(t)) as f32,
        (1.0 - 0.999f64.powi(t)) as f32,
    )
}

/// How the weights move: the optimiser, its learning rate and (Adam) its moments.
#[derive(Debug, Clone)]
pub struct Optimizacion {
    /// Learning rate.
    tasa: f32,
    /// Adam's first and second moments, one per parameter; `None` for SGD.
    momentos: Option<(Vec<f32>, Vec<f32>)>,
    /// Updates made so far.
    paso: u32,
}

impl Optimizacion {
    /// SGD, or Adam with zero moments for `parametros` parameters.
    pub fn new(adam: bool, tasa: f32, parametros: usize) -> Self {
        let momentos = adam.then(|| (vec![0.0; parametros], vec![0.0; parametros]));
        Self {
            tasa,
            momentos,
            paso: 0,
        }
    }

    /// One update of `w` by the gradient `g`. SGD: `w −= tasa·g`. Adam: `m = β₁m + (1−β₁)g`,
    /// `v = β₂v + (1−β₂)g·g`, `w −= tasa · (m / c₁) / (√(v / c₂) + ε)` with the
    /// [`correcciones`] `c₁`, `c₂`.
    pub fn actualizar(&mut self, w: &mut [f32], g: &[f32], paralelo: bool) {
        self.paso += 1;
        let tasa = self.tasa;
        let Some((m, v)) = &mut self.momentos else {
            return por_filas(w, 1, paralelo, |i, trozo| {
                sgd(trozo, &g[i..][..trozo.len()], tasa)
            });
        };
        let (c1, c2) = correcciones(self.paso);
        if !paralelo || w.len() < 2 * EN_PARALELO_DESDE {
            return adam(w, g, m, v, [tasa, c1, c2]);
        }
        w.par_chunks_mut(EN_PARALELO_DESDE)
            .zip(g.par_chunks(EN_PARALELO_DESDE))
            .zip(m.par_chunks_mut(EN_PARALELO_DESDE))
            .zip(v.par_chunks_mut(EN_PARALELO_DESDE))
            .for_each(|(((w, g), m), v)| adam(w, g, m, v, [tasa, c1, c2]));
    }
}

#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl+avx512dq",
    "x86_64+avx2+fma",
    "x86_64+sse4.1",
))]
fn sgd(w: &mut [f32], g: &[f32], tasa: f32) {
    for (wi, gi) in w.iter_mut().zip(g) {
        *wi -= tasa * gi;
    }
}

#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl+avx512dq",
    "x86_64+avx2+fma",
    "x86_64+sse4.1",
))]
fn adam(w: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], [tasa, c1, c2]: [f32; 3]) {
    for (((wi, &gi), mi), vi) in w.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
        *mi = BETA1 * *mi + (1.0 - BETA1) * gi;
        *vi = BETA2 * *vi + (1.0 - BETA2) * gi * gi;
        *wi -= tasa * (*mi / c1) / ((*vi / c2).sqrt() + EPSILON);
    }
}

/// Rows of `logits` (rows of `clases`) whose largest entry (the first, on a tie) is at their
/// class `y`.
pub fn aciertos(logits: &[f32], y: &[u32]) -> u64 {
    let clases = logits.len() / y.len().max(1);
    logits
        .chunks_exact(clases)
        .zip(y)
        .filter(|(z, c)| {
            let mejor = z
                .iter()
                .enumerate()
                .fold(0, |mejor, (j, x)| if *x > z[mejor] { j } else { mejor });
            mejor == **c as usize
        })
        .count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_softmax_gradient_sums_to_zero_and_the_loss_is_the_log_loss() {
        let z = [1.0f32, 2.0, 3.0, 1.0, 1.0, 1.0];
        let (mut delta, mut perdidas) = ([0.0f32; 6], [0.0f32; 2]);
        softmax_entropia(&z, &[2, 0], 0.5, &mut delta, &mut perdidas, false);
        let p2 = 3f64.exp() / (1f64.exp() + 2f64.exp() + 3f64.exp());
        assert!((f64::from(perdidas[0]) + p2.ln()).abs() < 1e-6);
        assert!((f64::from(perdidas[1]) - 3f64.ln()).abs() < 1e-6);
        for fila in delta.chunks(3) {
            assert!(fila.iter().sum::<f32>().abs() < 1e-6);
        }
        assert!((f64::from(delta[2]) - 0.5 * (p2 - 1.0)).abs() < 1e-6);
    }

    #[test]
    fn parallel_chunks_compute_what_one_thread_does() {
        let n = 5 * EN_PARALELO_DESDE + 3;
        let g: Vec<f32> = (0..n).map(|i| ((i % 17) as f32 - 8.0) * 1e-3).collect();
        let mut estados =
            [true, false].map(|_| (vec![0.5f32; n], Optimizacion::new(true, 0.01, n)));
        for (paralelo, (w, o)) in [true, false].into_iter().zip(estados.iter_mut()) {
            for _ in 0..3 {
                o.actualizar(w, &g, paralelo);
            }
        }
        assert!(estados[0].0 == estados[1].0);
        let b: Vec<f32> = (0..7).map(|j| j as f32 - 3.0).collect();
        let mut z1: Vec<f32> = (0..7 * 20_000).map(|i| (i % 5) as f32 - 2.5).collect();
        let mut z2 = z1.clone();
        sesgo_relu(&mut z1, &b, true, true);
        sesgo_relu(&mut z2, &b, true, false);
        assert!(z1 == z2 && z1.iter().all(|&x| x >= 0.0));
    }

    #[test]
    fn the_first_largest_logit_is_the_prediction() {
        assert_eq!(aciertos(&[1.0, 3.0, 3.0, 0.0, -1.0, -2.0], &[1, 0]), 2);
        assert_eq!(aciertos(&[1.0, 3.0, 3.0, 0.0, -1.0, -2.0], &[2, 1]), 0);
    }
}
