//! `Paralelo`'s Householder tridiagonalisation in panels (LAPACK's `dsytrd` and `dlatrd` for
//! the lower triangle): [`PANEL`] columns at a time, each column's reflector from the trailing
//! matrix as it stood before the panel (a symmetric matrix-vector product over its lower
//! triangle, on every core, corrected by the panel's earlier vectors), then the whole trailing
//! matrix updated once per panel by a rank-2·[`PANEL`] product of faer's (`A −= V·Wᵀ + W·Vᵀ`,
//! lower triangle only). Half the flops thus run in matrix products; the other half read the
//! trailing matrix once per column, where faer's unpanelled reduction reads and writes it.
//!
//! The matrix is symmetric, so its row-major storage is also its column-major one: below,
//! column `j` is contiguous, and its part below the diagonal ends up holding the reflector
//! `vⱼ` (`vⱼ[j + 1] = 1`), the layout `tridiagonal::aplicar_q` reads.

use faer::linalg::matmul::triangular::{self, BlockStructure};
use faer::{Accum, MatMut, MatRef, Par};

use super::simetrica::Equipo;
use super::tridiagonal::{Tridiagonal, producto, reflector};
use crate::ErrorKernel;
use crate::control::Control;

/// Columns reduced between two updates of the trailing matrix (LAPACK's default for dsytrd).
const PANEL: usize = 32;

/// Reduces the symmetric `n × n` `a` to tridiagonal form in place; `control` is checked before
/// each column. Each panel's symmetric products are split over a team of every rayon thread
/// (`simetrica.rs`), made for that panel and dismissed before the trailing update, whose
/// matrix product (faer's) wants the same threads.
pub(super) fn reducir(
    a: &mut [f64],
    n: usize,
    control: &Control,
) -> Result<Tridiagonal, ErrorKernel> {
    let mut t = Tridiagonal {
        d: vec![0.0; n],
        e: vec![0.0; n.saturating_sub(1)],
        tau: vec![0.0; n.saturating_sub(1)],
    };
    let mut k0 = 0;
    while k0 + 1 < n {
        let b = PANEL.min(n - 1 - k0);
        let mut panel = Panel::new(n, k0, b);
        Equipo::con(n - k0, |equipo| panel.reducir(a, &mut t, control, equipo))?;
        panel.actualizar(a);
        k0 += b;
    }
    if n > 0 {
        t.d[n - 1] = a[n * n - 1];
    }
    Ok(t)
}

/// The vectors `V` (reflectors) and `W` of one panel, rows `k0..n`, column-major.
struct Panel {
    n: usize,
    k0: usize,
    /// Columns.
    b: usize,
    v: Vec<f64>,
    w: Vec<f64>,
}

impl Panel {
    fn new(n: usize, k0: usize, b: usize) -> Self {
        let filas = n - k0;
        Panel {
            n,
            k0,
            b,
            v: vec![0.0; filas * b],
            w: vec![0.0; filas * b],
        }
    }

    /// Rows `desde..n` of column `c` of `V`.
    fn v(&self, c: usize, desde: usize) -> &[f64] {
        let filas = self.n - self.k0;
        &self.v[c * filas + desde - self.k0..(c + 1) * filas]
    }

    /// Rows `desde..n` of column `c` of `W`.
    fn w(&self, c: usize, desde: usize) -> &[f64] {
        let filas = self.n - self.k0;
        &self.w[c * filas + desde - self.k0..(c + 1) * filas]
    }

    /// The panel's columns, one after another (dlatrd): each brought up to date with the
    /// panel's earlier vectors, its reflector made, and its `w` computed.
    fn reducir(
        &mut self,
        a: &mut [f64],
        t: &mut Tridiagonal,
        control: &Control,
        equipo: &Equipo,
    ) -> Result<(), ErrorKernel> {
        let n = self.n;
        for i in 0..self.b {
            control.comprobar()?;
            let j = self.k0 + i;
            let columna = &mut a[j * n + j..(j + 1) * n];
            for c in 0..i {
                let (vj, wj) = (self.v(c, j)[0], self.w(c, j)[0]);
                let (vc, wc) = (self.v(c, j), self.w(c, j));
                for ((x, vr), wr) in columna.iter_mut().zip(vc).zip(wc) {
                    *x -= vr * wj + wr * vj;
                }
            }
            t.d[j] = columna[0];
            let (beta, tau) = reflector(&mut columna[1..]);
            t.e[j] = beta;
            t.tau[j] = tau;
            if tau == 0.0 {
                continue;
            }
            let v = columna[1..].to_vec();
            let w = self.w_de(a, i, &v, tau, equipo);
            let filas = n - self.k0;
            self.v[i * filas + j + 1 - self.k0..(i + 1) * filas].copy_from_slice(&v);
            self.w[i * filas + j + 1 - self.k0..(i + 1) * filas].copy_from_slice(&w);
        }
        Ok(())
    }

    /// `w` of the panel's column `i` (global `j = k0 + i`) with reflector `v` and factor `tau`:
    /// `y = τ·(S·v − V·(Wᵀv) − W·(Vᵀv))` on the trailing `S` as it stood before the panel,
    /// then `w = y − (τ/2)(yᵀv)·v`.
    fn w_de(&self, a: &[f64], i: usize, v: &[f64], tau: f64, equipo: &Equipo) -> Vec<f64> {
        let desde = self.k0 + i + 1;
        let mut y = equipo.producto(a, self.n, desde, v);
        for c in 0..i {
            let (vc, wc) = (self.v(c, desde), self.w(c, desde));
            let (t1, t2) = (producto(wc, v), producto(vc, v));
            for ((y, vr), wr) in y.iter_mut().zip(vc).zip(wc) {
                *y -= vr * t1 + wr * t2;
            }
        }
        y.iter_mut().for_each(|y| *y *= tau);
        let alfa = -0.5 * tau * producto(&y, v);
        y.iter_mut().zip(v).for_each(|(y, v)| *y += alfa * v);
        y
    }

    /// The trailing matrix after the panel, lower triangle: `A −= V·Wᵀ + W·Vᵀ`, one rank-2b
    /// product of faer's on every core (`[V W]·[W V]ᵀ`).
    fn actualizar(&self, a: &mut [f64]) {
        let (n, b) = (self.n, self.b);
        let k1 = self.k0 + b;
        if k1 >= n {
            return;
        }
        let m = n - k1;
        let mut izquierda = Vec::with_capacity(m * 2 * b);
        let mut derecha = Vec::with_capacity(m * 2 * b);
        for c in 0..b {
            izquierda.extend_from_slice(self.v(c, k1));
            derecha.extend_from_slice(self.w(c, k1));
        }
        for c in 0..b {
            izquierda.extend_from_slice(self.w(c, k1));
            derecha.extend_from_slice(self.v(c, k1));
        }
        let destino =
            MatMut::from_column_major_slice_with_stride_mut(&mut a[k1 * n + k1..], m, m, n);
        triangular::matmul(
            destino,
            BlockStructure::TriangularLower,
            Accum::Add,
            MatRef::from_column_major_slice(&izquierda, m, 2 * b),
            BlockStructure::Rectangular,
            MatRef::from_column_major_slice(&derecha, m, 2 * b).transpose(),
            BlockStructure::Rectangular,
            -1.0,
            Par::rayon(0),
        );
    }
}
