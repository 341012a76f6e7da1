//! The three matrix products of a layer's training step, `C = op(A)·op(B)` on row-major `f32`
//! matrices: `Secuencial`'s plain loops, and `Paralelo`'s [`gemm_f32`] (matmul's GEMM: all
//! cores, run-time dispatch to the CPU's vector units).
//!
//! - [`Forma::Nn`]: `C = A·B`, the forward pass (`activations · W`);
//! - [`Forma::Tn`]: `C = Aᵀ·B`, the weights' gradient (`activationsᵀ · δ`);
//! - [`Forma::Nt`]: `C = A·Bᵀ`, the gradient sent back (`δ · Wᵀ`).
//!
//! The loops sum each entry of `C` in the order of the inner index; gemm sums in its own
//! blocked order with fused multiply-adds: the only arithmetic in which the two CPU backends
//! differ.

/// Which operands a product transposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forma {
    /// `C (m×n) = A (m×k) · B (k×n)`.
    Nn,
    /// `C (m×n) = Aᵀ · B`, `A` stored `k×m`, `B` `k×n`.
    Tn,
    /// `C (m×n) = A · Bᵀ`, `A` stored `m×k`, `B` `n×k`.
    Nt,
}

use crate::matmul::{OpcionesGemm, gemm_f32};

/// Who computes a product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Motor {
    /// The plain loops, one thread.
    Bucles,
    /// gemm on this thread only (inside a task that is already one of many).
    GemmUnHilo,
    /// gemm on every core (it stays on one for products too small to share).
    GemmTodos,
}

/// `C (m×n) = op(A)·op(B)` with inner dimension `k`, overwriting `c`.
pub fn producto(
    motor: Motor,
    forma: Forma,
    (m, n, k): (usize, usize, usize),
    a: &[f32],
    b: &[f32],
    c: &mut [f32],
) {
    assert!(a.len() >= m * k && b.len() >= k * n && c.len() >= m * n);
    match motor {
        Motor::Bucles => bucles(forma, (m, n, k), a, b, &mut c[..m * n]),
        Motor::GemmUnHilo => con_gemm(forma, (m, n, k), a, b, c, false),
        Motor::GemmTodos => con_gemm(forma, (m, n, k), a, b, c, true),
    }
}

/// The reference loops: every entry of `C` summed in the order of the inner index.
fn bucles(forma: Forma, (m, n, k): (usize, usize, usize), a: &[f32], b: &[f32], c: &mut [f32]) {
    match forma {
        Forma::Nn => {
            for (i, fila_c) in c.chunks_exact_mut(n).enumerate() {
                fila_c.fill(0.0);
                for (p, &aip) in a[i * k..(i + 1) * k].iter().enumerate() {
                    for (cij, bpj) in fila_c.iter_mut().zip(&b[p * n..(p + 1) * n]) {
                        *cij += aip * bpj;
                    }
                }
            }
        }
        Forma::Tn => {
            c.fill(0.0);
            for p in 0..k {
                let fila_b = &b[p * n..(p + 1) * n];
                for (i, &api) in a[p * m..(p + 1) * m].iter().enumerate() {
                    for (cij, bpj) in c[i * n..(i + 1) * n].iter_mut().zip(fila_b) {
                        *cij += api * bpj;
                    }
                }
            }
        }
        Forma::Nt => {
            for (i, fila_c) in c.chunks_exact_mut(n).enumerate() {
                let fila_a = &a[i * k..(i + 1) * k];
                for (j, cij) in fila_c.iter_mut().enumerate() {
                    let mut suma = 0.0f32;
                    for (x, y) in fila_a.iter().zip(&b[j * k..(j + 1) * k]) {
                        suma += x * y;
                    }
                    *cij = suma;
                }
            }
        }
    }
}

/// The product through matmul's [`gemm_f32`]: the transposes are only strides.
fn con_gemm(
    forma: Forma,
    (m, n, k): (usize, usize, usize),
    a: &[f32],
    b: &[f32],
    c: &mut [f32],
    paralelo: bool,
) {
    let opciones = OpcionesGemm {
        beta: 0.0,
        traspuesta_a: forma == Forma::Tn,
        traspuesta_b: forma == Forma::Nt,
        paralelo,
    };
    gemm_f32(m, n, k, &a[..m * k], &b[..k * n], &mut c[..m * n], opciones);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `op(A)·op(B)` in `f64`, by definition.
    fn referencia(
        forma: Forma,
        (m, n, k): (usize, usize, usize),
        a: &[f32],
        b: &[f32],
    ) -> Vec<f64> {
        let ea = |i: usize, p: usize| {
            f64::from(if forma == Forma::Tn {
                a[p * m + i]
            } else {
                a[i * k + p]
            })
        };
        let eb = |p: usize, j: usize| {
            f64::from(if forma == Forma::Nt {
                b[j * k + p]
            } else {
                b[p * n + j]
            })
        };
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|p| ea(i, p) * eb(p, j)).sum();
            }
        }
        c
    }

    #[test]
    fn every_form_on_every_motor_is_the_product() {
        for (m, n, k) in [
            (1, 1, 1),
            (3, 5, 7),
            (64, 3, 64),
            (17, 33, 2),
            (5, 4, 0),
            (70, 65, 129),
        ] {
            let a: Vec<f32> = (0..m * k)
                .map(|i| ((i * 7 % 13) as f32 - 6.0) / 4.0)
                .collect();
            let b: Vec<f32> = (0..k * n)
                .map(|i| ((i * 5 % 11) as f32 - 5.0) / 8.0)
                .collect();
            for forma in [Forma::Nn, Forma::Tn, Forma::Nt] {
                let esperado = referencia(forma, (m, n, k), &a, &b);
                for motor in [Motor::Bucles, Motor::GemmUnHilo, Motor::GemmTodos] {
                    let mut c = vec![f32::NAN; m * n];
                    producto(motor, forma, (m, n, k), &a, &b, &mut c);
                    for (x, y) in c.iter().zip(&esperado) {
                        assert!(
                            (f64::from(*x) - y).abs() <= 1e-4 * (1.0 + y.abs()),
                            "{forma:?} {motor:?} {m}x{n}x{k}: {x} vs {y}"
                        );
                    }
                }
            }
        }
    }
}
