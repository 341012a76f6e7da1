//! The one-thread reference pieces of `autovalores`: Householder tridiagonalisation of a full
//! symmetric matrix, the implicit QL iteration for a tridiagonal matrix's eigenvalues, inverse
//! iteration for one eigenvector of it, and the reflectors applied back to that vector.
//!
//! `Secuencial` runs all of them; the GPU reduction (`cuda.rs`) leaves its reflectors in the same
//! layout, so the host finishes it with the same QL and the same back-transformation.

use crate::ErrorKernel;
use crate::control::{Contador, Control};

/// Multiply-adds between two checks of the [`Control`] (about 10 ms of one core).
const FMAS_ENTRE_COMPROBACIONES: u64 = 1 << 24;

/// QL sweeps allowed for one eigenvalue before giving up (EISPACK's tql1 allows 30; a
/// symmetric tridiagonal matrix converges in 2 or 3).
const MAX_BARRIDOS: u32 = 60;

/// A symmetric tridiagonal matrix `T` with the reflectors `Q = H₀·H₁⋯H₍ₙ₋₂₎` that turned the
/// full matrix `A` into it: `A = Q·T·Qᵀ`.
#[derive(Debug, Clone, PartialEq)]
pub struct Tridiagonal {
    /// Diagonal of `T`, `n` values.
    pub d: Vec<f64>,
    /// Subdiagonal of `T`: `e[k]` couples `d[k]` and `d[k + 1]`; `n − 1` values.
    pub e: Vec<f64>,
    /// `τₖ` of `Hₖ = I − τₖ·vₖ·vₖᵀ`, `n − 1` values (0 when `Hₖ = I`).
    pub tau: Vec<f64>,
}

/// Reduces the symmetric `n × n` row-major `a` to tridiagonal form in place, one column at a
/// time (LAPACK's `dsytd2` on the full matrix). Afterwards row `k` of `a` holds `vₖ` in columns
/// `k + 1..n` (`vₖ[k + 1] = 1`); the rest of `a` is scratch.
///
/// Step `k` builds `Hₖ` from row `k` (dlarfg), then, on the trailing `m × m` block `S`:
/// `p = τ·S·v`, `w = p − (τ/2)(pᵀv)·v`, `S ← S − v·wᵀ − w·vᵀ`. About 2n³ flops (the full
/// block is updated, both triangles).
pub fn reducir(a: &mut [f64], n: usize, control: &Control) -> Result<Tridiagonal, ErrorKernel> {
    assert_eq!(a.len(), n * n);
    let mut t = Tridiagonal {
        d: vec![0.0; n],
        e: vec![0.0; n.saturating_sub(1)],
        tau: vec![0.0; n.saturating_sub(1)],
    };
    let mut contador = Contador::new(control, FMAS_ENTRE_COMPROBACIONES);
    let mut p = vec![0.0; n];
    for k in 0..n.saturating_sub(1) {
        let m = n - k - 1;
        contador.avanzar(3 * (m * m) as u64)?;
        t.d[k] = a[k * n + k];
        let (arriba, abajo) = a.split_at_mut((k + 1) * n);
        let v = &mut arriba[k * n + k + 1..(k + 1) * n];
        let (beta, tau) = reflector(v);
        t.e[k] = beta;
        t.tau[k] = tau;
        if tau == 0.0 {
            continue;
        }
        // p = τ·S·v over the rows of S (contiguous), then w = p − (τ/2)(pᵀv)·v.
        let p = &mut p[..m];
        for (i, pi) in p.iter_mut().enumerate() {
            let fila = &abajo[i * n + k + 1..(i + 1) * n];
            *pi = tau * producto(fila, v);
        }
        let k2 = 0.5 * tau * producto(p, v);
        p.iter_mut()
            .zip(v.iter())
            .for_each(|(pi, vi)| *pi -= k2 * vi);
        for i in 0..m {
            let (vi, wi) = (v[i], p[i]);
            let fila = &mut abajo[i * n + k + 1..(i + 1) * n];
            for ((s, &vj), &wj) in fila.iter_mut().zip(v.iter()).zip(p.iter()) {
                *s -= vi * wj + wi * vj;
            }
        }
    }
    if n > 0 {
        t.d[n - 1] = a[n * n - 1];
    }
    Ok(t)
}

/// Turns `x` into the Householder vector `v` (`v[0] = 1`) of `H = I − τ·v·vᵀ` with
/// `H·x = β·e₀`, and answers `(β, τ)` (LAPACK's dlarfg; `τ = 0` when `x` is already `β·e₀`).
pub fn reflector(x: &mut [f64]) -> (f64, f64) {
    let alfa = x[0];
    let cola: f64 = x[1..].iter().map(|v| v * v).sum::<f64>().sqrt();
    if cola == 0.0 {
        x[0] = 1.0;
        return (alfa, 0.0);
    }
    let beta = -alfa.signum() * alfa.hypot(cola);
    let tau = (beta - alfa) / beta;
    let escala = 1.0 / (alfa - beta);
    x[1..].iter_mut().for_each(|v| *v *= escala);
    x[0] = 1.0;
    (beta, tau)
}

/// `Σ xᵢ·yᵢ` in four independent sums (so the compiler can keep them in vector lanes).
pub fn producto(x: &[f64], y: &[f64]) -> f64 {
    let mut s = [0.0; 4];
    let (xc, xr) = x.split_at(x.len() / 4 * 4);
    let (yc, yr) = y.split_at(xc.len());
    for (a, b) in xc.chunks_exact(4).zip(yc.chunks_exact(4)) {
        for l in 0..4 {
            s[l] += a[l] * b[l];
        }
    }
    let cola: f64 = xr.iter().zip(yr).map(|(a, b)| a * b).sum();
    (s[0] + s[1]) + (s[2] + s[3]) + cola
}

/// Every eigenvalue of the tridiagonal `(d, e)`, ascending: the root-free implicit QL
/// iteration of Pal, Walker and Kahan with Wilkinson's shift (LAPACK's dsterf, its QL branch),
/// on `T/‖T‖` and the squares of its off-diagonal, so a step takes no square root. An
/// off-diagonal counts as zero when `e² ≤ ε²·|d·d'|` (dsterf's test) or `|e| ≤ ε²` (negligible
/// against `‖T‖ = 1`). `control` is checked between sweeps.
pub fn valores_propios(d: &[f64], e: &[f64], control: &Control) -> Result<Vec<f64>, ErrorKernel> {
    let n = d.len();
    let escala = d.iter().chain(e).fold(0.0f64, |m, x| m.max(x.abs()));
    if escala == 0.0 {
        return Ok(vec![0.0; n]);
    }
    let mut d: Vec<f64> = d.iter().map(|x| x / escala).collect();
    // e2[i] = (e[i]/‖T‖)² couples d[i] and d[i + 1]; a zero at the end ends every block.
    let mut e2: Vec<f64> = e.iter().map(|x| (x / escala).powi(2)).collect();
    e2.push(0.0);
    let eps2 = f64::EPSILON * f64::EPSILON;
    let mut contador = Contador::new(control, FMAS_ENTRE_COMPROBACIONES);
    let (mut l, mut barridos) = (0, 0);
    while l < n {
        let m = (l..n - 1)
            .find(|&m| e2[m] <= eps2 * (d[m] * d[m + 1]).abs() || e2[m] <= eps2 * eps2)
            .unwrap_or(n - 1);
        e2[m] = 0.0;
        if m <= l + 1 {
            if m == l + 1 {
                (d[l], d[l + 1]) = dos_por_dos(d[l], e2[l].sqrt(), d[l + 1]);
            }
            (l, barridos) = (m + 1, 0);
            continue;
        }
        barridos += 1;
        if barridos > MAX_BARRIDOS {
            return Err(ErrorKernel::NoDisponible(format!(
                "autovalores: the QL iteration did not converge for eigenvalue {l} in \
                 {MAX_BARRIDOS} sweeps"
            )));
        }
        contador.avanzar(10 * (m - l) as u64)?;
        barrido_ql(&mut d, &mut e2, l, m);
    }
    let mut valores: Vec<f64> = d.iter().map(|x| x * escala).collect();
    valores.sort_by(f64::total_cmp);
    Ok(valores)
}

/// One root-free QL sweep (dsterf's inner loop) over the unreduced block `l..=m` of `(d, e2)`.
fn barrido_ql(d: &mut [f64], e2: &mut [f64], l: usize, m: usize) {
    let rte = e2[l].sqrt();
    let mut sigma = (d[l + 1] - d[l]) / (2.0 * rte);
    sigma = d[l] - rte / (sigma + sigma.hypot(1.0).copysign(sigma));
    let (mut c, mut s) = (1.0, 0.0);
    let mut gamma = d[m] - sigma;
    let mut p = gamma * gamma;
    for i in (l..m).rev() {
        let bb = e2[i];
        let r = p + bb;
        if i + 1 != m {
            e2[i + 1] = s * r;
        }
        let c_anterior = c;
        c = p / r;
        s = bb / r;
        let gamma_anterior = gamma;
        let alfa = d[i];
        gamma = c * (alfa - sigma) - s * gamma_anterior;
        d[i + 1] = gamma_anterior + (alfa - gamma);
        p = if c != 0.0 {
            gamma * gamma / c
        } else {
            c_anterior * bb
        };
    }
    e2[l] = s * p;
    d[l] = sigma + gamma;
}

/// The eigenvalues of `[[a, b], [b, c]]` (LAPACK's dlae2): the larger in absolute value first,
/// the other from the determinant, both accurate.
fn dos_por_dos(a: f64, b: f64, c: f64) -> (f64, f64) {
    let (suma, diferencia) = (a + c, (a - c).abs());
    let (mayor, menor) = if a.abs() > c.abs() { (a, c) } else { (c, a) };
    let raiz = diferencia.hypot(2.0 * b);
    if suma == 0.0 {
        return (0.5 * raiz, -0.5 * raiz);
    }
    let uno = 0.5 * (suma + raiz.copysign(suma));
    (uno, (mayor / uno) * menor - (b / uno) * b)
}

/// A unit eigenvector of the tridiagonal `(d, e)` for its eigenvalue `lambda`, by inverse
/// iteration: three solves of `(T − λI)·x = b` (LU with partial pivoting, LAPACK's dgttrf and
/// dgttrs; a pivot below `ε` becomes `ε`), starting from `inicio`, on `T/‖T‖` so that nothing
/// overflows. For `T = 0` every vector is one: `inicio`, normalised.
pub fn vector_propio(d: &[f64], e: &[f64], lambda: f64, inicio: &[f64]) -> Vec<f64> {
    let n = d.len();
    let mut x = inicio.to_vec();
    let norma = d
        .iter()
        .chain(e.iter())
        .map(|v| v.abs())
        .fold(0.0, f64::max);
    if n > 1 && norma > 0.0 {
        let d: Vec<f64> = d.iter().map(|v| v / norma).collect();
        let e: Vec<f64> = e.iter().map(|v| v / norma).collect();
        let lu = Lu::new(&d, &e, lambda / norma, f64::EPSILON);
        for _ in 0..3 {
            normalizar(&mut x);
            lu.resolver(&mut x);
        }
    }
    normalizar(&mut x);
    x
}

/// Scales `x` to unit length (a zero vector stays zero).
pub fn normalizar(x: &mut [f64]) {
    let norma = producto(x, x).sqrt();
    if norma > 0.0 {
        x.iter_mut().for_each(|v| *v /= norma);
    }
}

/// `T − σI = P·L·U` for a tridiagonal `T` (LAPACK's dgttrf): `U` has two superdiagonals.
struct Lu {
    /// Multipliers of `L`.
    l: Vec<f64>,
    /// Diagonal of `U`.
    u0: Vec<f64>,
    /// First superdiagonal of `U`.
    u1: Vec<f64>,
    /// Second superdiagonal of `U` (fill-in from row swaps).
    u2: Vec<f64>,
    /// Whether rows `i` and `i + 1` were swapped.
    cambio: Vec<bool>,
}

impl Lu {
    /// Factors `T − σI`, replacing any zero pivot by `pivote_minimo`.
    fn new(d: &[f64], e: &[f64], sigma: f64, pivote_minimo: f64) -> Self {
        let n = d.len();
        let mut f = Lu {
            l: e.to_vec(),
            u0: d.iter().map(|v| v - sigma).collect(),
            u1: e.to_vec(),
            u2: vec![0.0; n.saturating_sub(2)],
            cambio: vec![false; n - 1],
        };
        for i in 0..n - 1 {
            if f.u0[i].abs() >= f.l[i].abs() {
                let factor = if f.u0[i] != 0.0 {
                    f.l[i] / f.u0[i]
                } else {
                    0.0
                };
                f.l[i] = factor;
                f.u0[i + 1] -= factor * f.u1[i];
            } else {
                let factor = f.u0[i] / f.l[i];
                f.u0[i] = f.l[i];
                f.l[i] = factor;
                let u1 = f.u1[i];
                f.u1[i] = f.u0[i + 1];
                f.u0[i + 1] = u1 - factor * f.u0[i + 1];
                if i + 2 < n {
                    f.u2[i] = f.u1[i + 1];
                    f.u1[i + 1] *= -factor;
                }
                f.cambio[i] = true;
            }
        }
        for u in &mut f.u0 {
            if u.abs() < pivote_minimo {
                *u = pivote_minimo.copysign(*u);
            }
        }
        f
    }

    /// Overwrites `b` with the solution of `P·L·U·x = b`.
    fn resolver(&self, b: &mut [f64]) {
        let n = b.len();
        for i in 0..n - 1 {
            if self.cambio[i] {
                b.swap(i, i + 1);
            }
            b[i + 1] -= self.l[i] * b[i];
        }
        b[n - 1] /= self.u0[n - 1];
        b[n - 2] = (b[n - 2] - self.u1[n - 2] * b[n - 1]) / self.u0[n - 2];
        for i in (0..n.saturating_sub(2)).rev() {
            b[i] = (b[i] - self.u1[i] * b[i + 1] - self.u2[i] * b[i + 2]) / self.u0[i];
        }
    }
}

/// `y ← Q·y = H₀·H₁⋯H₍ₙ₋₂₎·y`, with `vₖ` in row `k` of the reduced `a` (columns `k + 1..n`)
/// and `τₖ` in `tau`: turns an eigenvector of `T` into one of `A`.
pub fn aplicar_q(a: &[f64], n: usize, tau: &[f64], y: &mut [f64]) {
    for k in (0..n.saturating_sub(1)).rev() {
        if tau[k] == 0.0 {
            continue;
        }
        let v = &a[k * n + k + 1..(k + 1) * n];
        let cola = &mut y[k + 1..];
        let s = tau[k] * producto(v, cola);
        cola.iter_mut().zip(v).for_each(|(y, v)| *y -= s * v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reflector_maps_x_onto_the_first_axis() {
        let x0 = [3.0, 1.0, -2.0, 0.5];
        let mut v = x0;
        let (beta, tau) = reflector(&mut v);
        // H·x = x − τ·(vᵀx)·v must be β·e₀.
        let s = tau * producto(&v, &x0);
        let hx: Vec<f64> = x0.iter().zip(&v).map(|(x, v)| x - s * v).collect();
        assert!((hx[0] - beta).abs() < 1e-14);
        assert!(hx[1..].iter().all(|h| h.abs() < 1e-14), "{hx:?}");
        assert!((beta.abs() - 14.25f64.sqrt()).abs() < 1e-14);
    }

    #[test]
    fn ql_finds_the_eigenvalues_of_the_second_difference_matrix() {
        // tridiag(-1, 2, -1): λₖ = 2 − 2·cos(kπ/(n + 1)).
        for n in [1, 2, 3, 10, 101] {
            let d = vec![2.0; n];
            let e = vec![-1.0; n - 1];
            let l = valores_propios(&d, &e, &Control::ninguno()).unwrap();
            for (k, v) in l.iter().enumerate() {
                let x = (k + 1) as f64 * std::f64::consts::PI / (n + 1) as f64;
                assert!(
                    (v - (2.0 - 2.0 * x.cos())).abs() < 1e-13,
                    "n = {n}, k = {k}: {v}"
                );
            }
        }
    }

    #[test]
    fn inverse_iteration_gives_an_eigenvector_of_the_tridiagonal() {
        let n = 50;
        let d: Vec<f64> = (0..n).map(|i| (i as f64 * 0.7).sin()).collect();
        let e: Vec<f64> = (0..n - 1).map(|i| 0.3 + (i as f64).cos() * 0.1).collect();
        let l = valores_propios(&d, &e, &Control::ninguno()).unwrap();
        for &lambda in [l[0], l[n / 2], l[n - 1]].iter() {
            let x = vector_propio(&d, &e, lambda, &vec![1.0; n]);
            let mut r = 0.0f64;
            for i in 0..n {
                let mut tx = d[i] * x[i];
                if i > 0 {
                    tx += e[i - 1] * x[i - 1];
                }
                if i + 1 < n {
                    tx += e[i] * x[i + 1];
                }
                r = r.max((tx - lambda * x[i]).abs());
            }
            assert!(r < 1e-13, "λ = {lambda}: residual {r}");
        }
    }
}
