//! `kernels::matmul::gemm_f32`, the product red_neuronal, kmeans and matmul share: every
//! combination of transposed operands, β = 0, 1 and 2, one thread or all, odd and degenerate
//! shapes, against an `f64` reference.

use kernels::azar;
use kernels::matmul::{OpcionesGemm, gemm_f32};

/// `op(A)·op(B) + β·C` in `f64`, entry by entry.
fn referencia(
    (m, n, k): (usize, usize, usize),
    a: &[f32],
    b: &[f32],
    c: &[f32],
    o: OpcionesGemm,
) -> Vec<f64> {
    let ea = |i: usize, p: usize| {
        f64::from(if o.traspuesta_a {
            a[p * m + i]
        } else {
            a[i * k + p]
        })
    };
    let eb = |p: usize, j: usize| {
        f64::from(if o.traspuesta_b {
            b[j * k + p]
        } else {
            b[p * n + j]
        })
    };
    let mut r = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            let s: f64 = (0..k).map(|p| ea(i, p) * eb(p, j)).sum();
            let viejo = if o.beta == 0.0 {
                0.0
            } else {
                f64::from(o.beta) * f64::from(c[i * n + j])
            };
            r[i * n + j] = s + viejo;
        }
    }
    r
}

/// Runs one product and checks it entry by entry against [`referencia`], within
/// `1e-5 · (Σ|a·b| + |β·c|)` scaled by √k, the bound a blocked `f32` sum with FMAs keeps.
fn comprobar(m: usize, n: usize, k: usize, o: OpcionesGemm, semilla: u64) {
    let a = azar::vector(semilla, 1, m * k, -1.0, 1.0);
    let b = azar::vector(semilla, 2, k * n, -1.0, 1.0);
    let c0 = azar::vector(semilla, 3, m * n, -1.0, 1.0);
    let esperado = referencia((m, n, k), &a, &b, &c0, o);
    let mut c = c0.clone();
    gemm_f32(m, n, k, &a, &b, &mut c, o);
    let cota = 1e-6 * (k.max(1) as f64).sqrt() * (k as f64 + 2.0);
    for (i, (&x, &e)) in c.iter().zip(&esperado).enumerate() {
        assert!(
            (f64::from(x) - e).abs() <= cota,
            "{m}×{n}×{k} {o:?}: C[{i}] = {x}, expected {e}"
        );
    }
}

#[test]
fn every_transpose_and_beta_agrees_with_the_f64_reference() {
    for (m, n, k) in [
        (1, 1, 1),
        (3, 5, 7),
        (17, 9, 33),
        (64, 48, 16),
        (65, 130, 97),
    ] {
        for traspuesta_a in [false, true] {
            for traspuesta_b in [false, true] {
                for beta in [0.0, 1.0, 2.0] {
                    for paralelo in [false, true] {
                        let o = OpcionesGemm {
                            beta,
                            traspuesta_a,
                            traspuesta_b,
                            paralelo,
                        };
                        comprobar(m, n, k, o, (m * 1000 + n * 10 + k) as u64);
                    }
                }
            }
        }
    }
}

#[test]
fn large_products_on_all_cores_agree_with_one_thread() {
    // Wide (cut into column slabs), tall (row slabs), and shapes too thin to be cut.
    let formas = [
        (200, 640, 300),
        (700, 120, 90),
        (1, 700, 300),
        (700, 1, 300),
        (129, 129, 1),
    ];
    for (m, n, k) in formas {
        for (traspuesta_a, traspuesta_b) in
            [(false, false), (true, false), (false, true), (true, true)]
        {
            let a = azar::vector(7, 1, m * k, -1.0, 1.0);
            let b = azar::vector(7, 2, k * n, -1.0, 1.0);
            let c0 = azar::vector(7, 3, m * n, -1.0, 1.0);
            let o = OpcionesGemm {
                beta: 0.5,
                traspuesta_a,
                traspuesta_b,
                paralelo: false,
            };
            let (mut uno, mut todos) = (c0.clone(), c0.clone());
            gemm_f32(m, n, k, &a, &b, &mut uno, o);
            gemm_f32(
                m,
                n,
                k,
                &a,
                &b,
                &mut todos,
                OpcionesGemm {
                    paralelo: true,
                    ..o
                },
            );
            let mayor = uno.iter().fold(0.0f32, |x, y| x.max(y.abs()));
            for (x, y) in uno.iter().zip(&todos) {
                assert!(
                    (x - y).abs() <= 1e-5 * mayor,
                    "{m}×{n}×{k} {o:?}: {x} vs {y}"
                );
            }
        }
    }
    comprobar(300, 257, 513, OpcionesGemm::default(), 11);
    comprobar(
        64,
        1000,
        200,
        OpcionesGemm {
            traspuesta_b: true,
            ..OpcionesGemm::default()
        },
        12,
    );
}

#[test]
fn beta_zero_never_reads_c_and_an_empty_sum_scales_c() {
    let mut c = vec![f32::NAN; 6];
    gemm_f32(
        2,
        3,
        1,
        &[1.0, 2.0],
        &[1.0, 2.0, 3.0],
        &mut c,
        OpcionesGemm::default(),
    );
    assert_eq!(c, [1.0, 2.0, 3.0, 2.0, 4.0, 6.0]);

    let mut c = vec![1.0, -2.0, f32::NAN, 4.0];
    gemm_f32(2, 2, 0, &[], &[], &mut c, OpcionesGemm::default());
    assert_eq!(c, [0.0; 4]);
    let mut c = vec![1.0, -2.0, 3.0, 4.0];
    let doble = OpcionesGemm {
        beta: 2.0,
        ..OpcionesGemm::default()
    };
    gemm_f32(2, 2, 0, &[], &[], &mut c, doble);
    assert_eq!(c, [2.0, -4.0, 6.0, 8.0]);

    let mut vacio: Vec<f32> = vec![];
    gemm_f32(
        0,
        5,
        3,
        &[],
        &[0.0; 15],
        &mut vacio,
        OpcionesGemm::default(),
    );
}

#[test]
#[should_panic(expected = "`b` must hold k·n")]
fn a_slice_of_the_wrong_length_is_a_clear_panic() {
    let mut c = vec![0.0; 4];
    gemm_f32(
        2,
        2,
        2,
        &[0.0; 4],
        &[0.0; 3],
        &mut c,
        OpcionesGemm::default(),
    );
}
