//! `autovalores` on the CPU backends: known spectra (diagonal, a reflected diagonal, the second
//! difference matrix, rank one, zero), sizes 1 and 2 in closed form, agreement of `Secuencial`
//! and `Paralelo` within `TOLERANCIA · n · ‖A‖₂`, the sampled eigenpair's residual, the `Detalle`
//! `ejecutar` reports, and stopping.

use std::time::{Duration, Instant};

use comun::Algoritmo;
use comun::api::Detalle;
use comun::trabajo::{Parametros, ParamsAutovalores};
use kernels::autovalores::{self, TOLERANCIA, diferencia_relativa, resolver};
use kernels::{Control, ErrorKernel, ejecutar, ejecutar_con};

const CPU: [Algoritmo; 2] = [Algoritmo::Secuencial, Algoritmo::Paralelo];

/// Solves a copy of `a` on `algoritmo` and checks the sampled eigenpair's residual against `a`.
fn espectro(a: &[f64], n: usize, indice: usize, algoritmo: Algoritmo) -> Vec<f64> {
    let mut copia = a.to_vec();
    let s = resolver(&mut copia, n, indice, algoritmo, &Control::ninguno()).unwrap();
    assert_eq!(s.valores.len(), n);
    assert!(s.valores.is_sorted(), "{algoritmo}: not ascending");
    let norma = s.valores.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let fila = |i: usize, f: &mut [f64]| f.copy_from_slice(&a[i * n..(i + 1) * n]);
    let lambda = s.valores[indice];
    let r = autovalores::residuo(fila, lambda, &s.vector, norma, &Control::ninguno()).unwrap();
    assert!(
        r <= 1e-13,
        "{algoritmo}, n = {n}, λ[{indice}] = {lambda}: residual {r}"
    );
    let largo: f64 = s.vector.iter().map(|x| x * x).sum();
    assert!((largo - 1.0).abs() < 1e-12, "{algoritmo}: |v|² = {largo}");
    s.valores
}

/// `max |λ − esperado| ≤ TOLERANCIA · n · max |esperado|` (absolute when all are zero).
fn igual(valores: &[f64], esperado: &[f64], contexto: &str) {
    let n = esperado.len();
    let d = diferencia_relativa(esperado, valores);
    assert!(
        d <= TOLERANCIA * n as f64,
        "{contexto}: {d:e}\n{valores:?}\n{esperado:?}"
    );
}

/// `H·diag(d)·H` with `H = I − 2uuᵀ/uᵀu` for a seeded `u`: a full matrix with spectrum `d`.
fn reflejada(d: &[f64]) -> Vec<f64> {
    let n = d.len();
    let u: Vec<f64> = (0..n).map(|i| ((i * 37 % 11) as f64) - 4.5).collect();
    let uu: f64 = u.iter().map(|x| x * x).sum();
    let h = |i: usize, j: usize| f64::from(u8::from(i == j)) - 2.0 * u[i] * u[j] / uu;
    let mut a = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            a[i * n + j] = (0..n).map(|k| h(i, k) * d[k] * h(k, j)).sum();
        }
    }
    a
}

#[test]
fn a_diagonal_matrix_has_its_diagonal_as_spectrum() {
    for n in [1, 2, 5, 40] {
        let d: Vec<f64> = (0..n).map(|i| ((i * 7919) % 23) as f64 - 11.0).collect();
        let mut a = vec![0.0; n * n];
        (0..n).for_each(|i| a[i * n + i] = d[i]);
        let mut esperado = d.clone();
        esperado.sort_by(f64::total_cmp);
        for algoritmo in CPU {
            igual(
                &espectro(&a, n, n / 2, algoritmo),
                &esperado,
                &format!("{algoritmo} n = {n}"),
            );
        }
    }
}

#[test]
fn a_reflected_diagonal_keeps_its_spectrum_clusters_and_signs_included() {
    let d: Vec<f64> = vec![
        -3.0,
        -3.0,
        -1e-3,
        0.0,
        0.5,
        2.0,
        2.0 + 1e-9,
        7.5,
        7.5,
        100.0,
    ];
    let a = reflejada(&d);
    for algoritmo in CPU {
        for indice in [0, 3, 7, 9] {
            igual(
                &espectro(&a, d.len(), indice, algoritmo),
                &d,
                &format!("{algoritmo}"),
            );
        }
    }
}

#[test]
fn the_second_difference_matrix_has_its_cosine_spectrum() {
    for n in [3, 17, 100, 257] {
        let mut a = vec![0.0; n * n];
        for i in 0..n {
            a[i * n + i] = 2.0;
            if i + 1 < n {
                a[i * n + i + 1] = -1.0;
                a[(i + 1) * n + i] = -1.0;
            }
        }
        let esperado: Vec<f64> = (1..=n)
            .map(|k| 2.0 - 2.0 * (k as f64 * std::f64::consts::PI / (n + 1) as f64).cos())
            .collect();
        for algoritmo in CPU {
            igual(
                &espectro(&a, n, n - 1, algoritmo),
                &esperado,
                &format!("{algoritmo} n = {n}"),
            );
        }
    }
}

#[test]
fn rank_one_and_zero_matrices() {
    let n = 33;
    let a = vec![0.25; n * n];
    let mut esperado = vec![0.0; n];
    esperado[n - 1] = 0.25 * n as f64;
    for algoritmo in CPU {
        igual(
            &espectro(&a, n, n - 1, algoritmo),
            &esperado,
            &format!("{algoritmo}"),
        );
        let ceros = espectro(&vec![0.0; n * n], n, 0, algoritmo);
        assert!(ceros.iter().all(|&v| v == 0.0), "{algoritmo}: {ceros:?}");
    }
}

#[test]
fn sizes_one_and_two_in_closed_form() {
    for algoritmo in CPU {
        assert_eq!(espectro(&[-2.5], 1, 0, algoritmo), vec![-2.5]);
        for (x, y, z) in [
            (1.0, 2.0, 3.0),
            (0.0, 0.0, 0.0),
            (5.0, 0.0, -5.0),
            (1.0, 1e-9, 1.0),
        ] {
            let (m, r) = ((x + z) / 2.0, f64::hypot((x - z) / 2.0, y));
            let v = espectro(&[x, y, y, z], 2, 1, algoritmo);
            igual(
                &v,
                &[m - r, m + r],
                &format!("{algoritmo} [[{x}, {y}], [{y}, {z}]]"),
            );
        }
    }
}

#[test]
fn secuencial_and_paralelo_agree_on_the_seeded_matrices() {
    for (n, semilla) in [
        (1, 1),
        (2, 5),
        (3, 2),
        (7, 3),
        (16, 4),
        (64, 1),
        (129, 9),
        (300, 7),
    ] {
        let a = autovalores::matriz(n, semilla, &Control::ninguno()).unwrap();
        let s = espectro(&a, n, n / 3, Algoritmo::Secuencial);
        let p = espectro(&a, n, n / 3, Algoritmo::Paralelo);
        igual(&p, &s, &format!("n = {n}, seed {semilla}"));
    }
}

#[test]
fn ejecutar_reports_the_spectrum_checks() {
    let p = ParamsAutovalores::new(200, 3).unwrap();
    let mut vistos = vec![];
    for algoritmo in CPU {
        let r = ejecutar(&Parametros::Autovalores(p), algoritmo)
            .unwrap()
            .resultado;
        let Detalle::Autovalores {
            n,
            mayor,
            menor,
            suma,
            traza,
            residuo,
            gflops,
        } = r.detalle
        else {
            panic!("{:?}", r.detalle)
        };
        assert_eq!(n, 200);
        // A Wigner matrix with entries in [-1, 1): its spectrum fills about ±2√(n/3) ≈ ±16.
        assert!(
            menor < -10.0 && menor > -20.0 && mayor > 10.0 && mayor < 20.0,
            "{menor} {mayor}"
        );
        assert!(
            (suma - traza).abs() <= 1e-12 * 200.0 * mayor,
            "{suma} vs {traza}"
        );
        assert!(residuo > 0.0 && residuo <= 1e-13, "{residuo}");
        assert!(gflops > 0.0 && r.duracion_s > 0.0 && r.duracion_con_copias_s.is_none());
        vistos.push((mayor, menor));
    }
    let ((m1, n1), (m2, n2)) = (vistos[0], vistos[1]);
    assert!(
        (m1 - m2).abs() <= TOLERANCIA * 200.0 * m1 && (n1 - n2).abs() <= TOLERANCIA * 200.0 * m1
    );
}

#[test]
fn the_matrix_is_symmetric_seeded_and_in_range() {
    let a = autovalores::matriz(50, 8, &Control::ninguno()).unwrap();
    let b = autovalores::matriz(50, 9, &Control::ninguno()).unwrap();
    for i in 0..50 {
        for j in 0..50 {
            assert_eq!(a[i * 50 + j], a[j * 50 + i]);
            assert_eq!(a[i * 50 + j], autovalores::entrada(8, i, j));
            assert!((-1.0..1.0).contains(&a[i * 50 + j]));
        }
    }
    assert_ne!(a, b);
}

#[test]
fn bad_parameters_and_missing_cuda_are_refused() {
    let p = ParamsAutovalores { n: 0, semilla: 1 };
    for algoritmo in CPU {
        let e = ejecutar(&Parametros::Autovalores(p), algoritmo).unwrap_err();
        assert!(
            matches!(e, ErrorKernel::Parametros(ref c) if c.campo == "n"),
            "{e}"
        );
    }
    #[cfg(not(feature = "cuda"))]
    {
        let p = ParamsAutovalores::new(8, 1).unwrap();
        let e = ejecutar(&Parametros::Autovalores(p), Algoritmo::Cuda).unwrap_err();
        assert!(matches!(e, ErrorKernel::NoDisponible(_)), "{e}");
    }
}

#[test]
fn both_cpu_backends_stop_on_a_flag_and_on_a_time_limit() {
    // Sizes each backend needs a second or more for (Paralelo: about 0.5 s at n = 2048 on 2 cores).
    for (algoritmo, n) in [(Algoritmo::Secuencial, 1500), (Algoritmo::Paralelo, 3000)] {
        let p = Parametros::Autovalores(ParamsAutovalores::new(n, 1).unwrap());
        let control = Control::ninguno();
        control.cancelar("cancelled by a test");
        let e = ejecutar_con(&p, algoritmo, &control).unwrap_err();
        assert!(
            matches!(e, ErrorKernel::Cancelado { .. }),
            "{algoritmo}: {e}"
        );

        // A 50 ms limit must end the run within a fraction of its whole time.
        let inicio = Instant::now();
        let control = Control::con_plazo(Duration::from_millis(50));
        let e = ejecutar_con(&p, algoritmo, &control).unwrap_err();
        assert!(
            matches!(e, ErrorKernel::PlazoExcedido { .. }),
            "{algoritmo}: {e}"
        );
        let tardo = inicio.elapsed();
        assert!(tardo < Duration::from_millis(500), "{algoritmo}: {tardo:?}");
    }
}

/// `Cuda` (feature `cuda`): with a GPU, the same spectrum as `Paralelo` within the tolerance and
/// a small residual; without one, `NoDisponible` with the reason, before any work
/// (`KERNELS_CUDA_ESPERADO=stub` or `=gpu` insists on one case, as in tests/cuda.rs).
#[cfg(feature = "cuda")]
#[test]
fn cuda_agrees_with_paralelo_or_says_why_not() {
    let esperado = std::env::var("KERNELS_CUDA_ESPERADO").ok();
    for (n, semilla) in [(1, 1), (2, 2), (65, 3), (300, 4), (1100, 5)] {
        let a = autovalores::matriz(n, semilla, &Control::ninguno()).unwrap();
        let mut copia = a.clone();
        match resolver(&mut copia, n, n / 2, Algoritmo::Cuda, &Control::ninguno()) {
            Err(ErrorKernel::NoDisponible(motivo)) => {
                assert_ne!(esperado.as_deref(), Some("gpu"), "no GPU: {motivo}");
                assert!(!motivo.is_empty());
                let p = Parametros::Autovalores(ParamsAutovalores::new(8192, 1).unwrap());
                let e = ejecutar(&p, Algoritmo::Cuda).unwrap_err();
                assert!(matches!(e, ErrorKernel::NoDisponible(_)), "{e}");
                return;
            }
            Err(e) => panic!("n = {n}: {e}"),
            Ok(s) => {
                assert_ne!(esperado.as_deref(), Some("stub"), "a GPU answered");
                assert!(s.duracion_con_copias.is_some_and(|t| t >= s.duracion));
                let p = espectro(&a, n, n / 2, Algoritmo::Paralelo);
                igual(&s.valores, &p, &format!("Cuda n = {n}"));
                let norma = s.valores[0].abs().max(s.valores[n - 1].abs());
                let fila = |i: usize, f: &mut [f64]| f.copy_from_slice(&a[i * n..(i + 1) * n]);
                let lambda = s.valores[n / 2];
                let r = autovalores::residuo(fila, lambda, &s.vector, norma, &Control::ninguno());
                let r = r.unwrap();
                assert!(r <= 1e-13, "Cuda n = {n}: residual {r}");
            }
        }
    }
}
