//! Lloyd's iteration, one driver for every backend: each step asks the backend's [`Paso`] to
//! assign every point to its nearest centroid and sum the points of each cluster, then updates
//! the centroids and computes the inertia here, in exact integer arithmetic, so that equal
//! assignments give equal centroids and inertias bit for bit.
//!
//! - Update: a cluster's new centroid is the mean of its points rounded to the lattice
//!   (`round_ties_even(ΣX / count)` per coordinate, `ΣX` exact); an empty cluster keeps its
//!   old centroid.
//! - Inertia of a step: `Σᵢ ‖xᵢ − c_{a(i)}‖²` for that step's assignment `a` and the centroids it
//!   was made with (before the update), computed as `Σᵢ ‖Xᵢ‖² − 2 Σⱼ Cⱼ·Sⱼ + Σⱼ nⱼ ‖Cⱼ‖²` in
//!   `i128` lattice units from the cluster sums `Sⱼ` and counts `nⱼ`: exact, and `O(k·d)`.
//! - Stop: after `iteraciones` steps, or after the first step (from the second on) in which no
//!   point changed cluster (its update would change nothing).

use crate::ErrorKernel;
use crate::control::Control;

use super::datos::{ESCALA, entero};

/// What a backend's assignment step hands back: per-cluster sums and counts, and how many
/// points changed cluster.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Suma {
    /// `k × d`: the sum of each cluster's points, in `f64` (exact: lattice integers below
    /// 2⁴⁸ times 2⁻¹⁹).
    pub sumas: Vec<f64>,
    /// Points in each cluster.
    pub cuentas: Vec<u64>,
    /// Points whose cluster differs from the previous step's (all of them in the first).
    pub cambios: u64,
    /// Points whose nearest centroid was too close to call in `f32` and was settled with
    /// exact distances (0 for `Secuencial`, which uses exact distances throughout).
    pub recomprobadas: u64,
}

impl Suma {
    /// Nothing summed yet, for `k` clusters of `d` coordinates.
    pub fn new(k: usize, d: usize) -> Self {
        Suma {
            sumas: vec![0.0; k * d],
            cuentas: vec![0; k],
            cambios: 0,
            recomprobadas: 0,
        }
    }

    /// Adds point `x` to cluster `j`.
    #[inline(always)]
    pub fn sumar(&mut self, j: usize, x: &[f32]) {
        let d = x.len();
        for (s, &v) in self.sumas[j * d..(j + 1) * d].iter_mut().zip(x) {
            *s += f64::from(v);
        }
        self.cuentas[j] += 1;
    }

    /// Adds everything `otra` counted.
    pub fn juntar(&mut self, otra: &Suma) {
        for (s, o) in self.sumas.iter_mut().zip(&otra.sumas) {
            *s += o;
        }
        for (c, o) in self.cuentas.iter_mut().zip(&otra.cuentas) {
            *c += o;
        }
        self.cambios += otra.cambios;
        self.recomprobadas += otra.recomprobadas;
    }
}

/// One backend's assignment step.
pub(super) trait Paso {
    /// Assigns every point to its nearest centroid of `centroides` (row-major `k × d`): the
    /// first of those at the least exact distance (`datos::mas_cercano`); remembers the
    /// assignment for the next step and for [`Paso::etiquetas`].
    fn asignar(&mut self, centroides: &[f32], control: &Control) -> Result<Suma, ErrorKernel>;

    /// The cluster of each point in the last step.
    fn etiquetas(&mut self) -> Result<Vec<u32>, ErrorKernel>;
}

/// What the iterations did.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Recorrido {
    /// The centroids after the last step's update.
    pub centroides: Vec<f32>,
    /// The inertia of each step run.
    pub inercia: Vec<f64>,
    /// Steps run.
    pub iteraciones: u32,
    /// Points settled with exact distances, over every step.
    pub recomprobadas: u64,
}

/// Up to `iteraciones` steps of Lloyd from `centroides` (`k × d`), `normas` being
/// `Σᵢ ‖Xᵢ‖²`; `control` is checked before each step (and by the backend within it).
pub(super) fn lloyd(
    paso: &mut impl Paso,
    mut centroides: Vec<f32>,
    d: usize,
    normas: i128,
    iteraciones: u32,
    control: &Control,
) -> Result<Recorrido, ErrorKernel> {
    let mut inercia = Vec::new();
    let mut recomprobadas = 0;
    for t in 1..=iteraciones {
        control.comprobar()?;
        let suma = paso.asignar(&centroides, control)?;
        inercia.push(inercia_exacta(&centroides, &suma, d, normas));
        recomprobadas += suma.recomprobadas;
        if t > 1 && suma.cambios == 0 {
            break;
        }
        actualizar(&mut centroides, &suma, d);
    }
    Ok(Recorrido {
        centroides,
        iteraciones: inercia.len() as u32,
        inercia,
        recomprobadas,
    })
}

/// Each non-empty cluster's centroid becomes its mean rounded to the lattice; an empty one
/// keeps its centroid.
pub(super) fn actualizar(centroides: &mut [f32], suma: &Suma, d: usize) {
    for ((c, s), &n) in centroides
        .chunks_exact_mut(d)
        .zip(suma.sumas.chunks_exact(d))
        .zip(&suma.cuentas)
    {
        if n == 0 {
            continue;
        }
        for (cl, &sl) in c.iter_mut().zip(s) {
            // sl · 2¹⁹ is the exact lattice sum; the quotient is correctly rounded, then
            // rounded to the nearest lattice point.
            let media = (sl * f64::from(ESCALA) / n as f64).round_ties_even();
            *cl = (media / f64::from(ESCALA)) as f32;
        }
    }
}

/// `Σᵢ ‖xᵢ − c_{a(i)}‖²` of the step that produced `suma` with `centroides`, exact (see the
/// module's documentation), rounded once to `f64`.
pub(super) fn inercia_exacta(centroides: &[f32], suma: &Suma, d: usize, normas: i128) -> f64 {
    let mut total = normas;
    for ((c, s), &n) in centroides
        .chunks_exact(d)
        .zip(suma.sumas.chunks_exact(d))
        .zip(&suma.cuentas)
    {
        for (&cl, &sl) in c.iter().zip(s) {
            let cl = i128::from(entero(cl));
            let sl = (sl * f64::from(ESCALA)) as i128;
            total += cl * (i128::from(n) * cl - 2 * sl);
        }
    }
    total as f64 / (f64::from(ESCALA) * f64::from(ESCALA))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kmeans::datos::distancia_exacta;

    #[test]
    fn the_inertia_formula_equals_the_sum_of_distances() {
        let x = [0.5f32, 1.0, -3.25, 2.0, 7.0, 7.5, 6.0, -1.0];
        let c = [0.0f32, 1.5, 6.5, 6.5];
        let etiquetas = [0usize, 0, 1, 1];
        let mut suma = Suma::new(2, 2);
        let mut directa = 0u64;
        for (i, &j) in etiquetas.iter().enumerate() {
            suma.sumar(j, &x[2 * i..2 * i + 2]);
            directa += distancia_exacta(&x[2 * i..2 * i + 2], &c[2 * j..2 * j + 2]);
        }
        let normas: i128 = x
            .iter()
            .map(|&v| i128::from(i64::from(entero(v)).pow(2)))
            .sum();
        let esperada = directa as f64 / (f64::from(ESCALA) * f64::from(ESCALA));
        assert_eq!(inercia_exacta(&c, &suma, 2, normas), esperada);
    }

    #[test]
    fn means_round_to_the_lattice_and_empty_clusters_stay() {
        let mut c = [9.0f32, 9.0, 4.0, 4.0];
        let mut suma = Suma::new(2, 2);
        suma.sumar(0, &[1.0, 2.0]);
        suma.sumar(0, &[2.0, 2.0]);
        suma.sumar(0, &[2.0, 2.0 + 1.0 / ESCALA]);
        actualizar(&mut c, &suma, 2);
        // 5/3 rounds to the nearest lattice point; (6 + 2⁻¹⁹)/3 = 2 + 2⁻¹⁹/3 rounds to 2.
        let cinco_tercios = (5.0 * f64::from(ESCALA) / 3.0).round() / f64::from(ESCALA);
        assert_eq!(c, [cinco_tercios as f32, 2.0, 4.0, 4.0]);
    }
}
