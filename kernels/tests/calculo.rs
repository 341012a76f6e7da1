//! `matmul`, `vector_add`, `montecarlo` and `nbody` on the CPU backends: agreement between
//! `Secuencial` and `Paralelo` (exact where the modules promise it, within their tolerances
//! otherwise), sizes 1 and odd ones, and the results `ejecutar` reports.

use comun::Algoritmo;
use comun::api::Detalle;
use comun::trabajo::{Parametros, ParamsMatmul, ParamsMontecarlo, ParamsNbody, ParamsVectorAdd};
use kernels::{ErrorKernel, ejecutar, matmul, montecarlo, nbody, vector_add};

#[test]
fn matmul_paralelo_agrees_with_secuencial_within_1e_5() {
    for n in [1, 2, 3, 7, 17, 64, 100, 129, 300] {
        let p = ParamsMatmul::new(n, 1).unwrap();
        let s = matmul::matmul(&p, Algoritmo::Secuencial).unwrap();
        let par = matmul::matmul(&p, Algoritmo::Paralelo).unwrap();
        let d = matmul::diferencia_relativa(&s.c, &par.c);
        assert!(d <= 1e-5, "n = {n}: {d}");
        for c in [&s.c, &par.c] {
            let e = matmul::error_relativo(c, n);
            assert!(e <= 1e-5, "n = {n}: error_relativo {e}");
        }
    }
}

#[test]
fn matmul_of_one_is_the_product_of_two_numbers() {
    let p = ParamsMatmul::new(1, 3).unwrap();
    let (a, b) = matmul::entradas(1);
    for algoritmo in [Algoritmo::Secuencial, Algoritmo::Paralelo, Algoritmo::Auto] {
        let r = matmul::matmul(&p, algoritmo).unwrap();
        assert_eq!(r.c, vec![a[0] * b[0]]);
        assert!(matmul::error_relativo(&r.c, 1) <= f64::from(f32::EPSILON));
    }
}

#[test]
fn vector_add_is_exact_on_every_cpu_backend() {
    for n in [1, 2, 15, 16, 17, 1000, 65_537, 300_001] {
        let p = ParamsVectorAdd::new(n, 2).unwrap();
        let (a, b) = vector_add::entradas(n);
        let esperado: Vec<f32> = a.iter().zip(&b).map(|(x, y)| x + y).collect();
        for algoritmo in [Algoritmo::Secuencial, Algoritmo::Paralelo] {
            let r = vector_add::vector_add(&p, algoritmo).unwrap();
            assert!(r.c == esperado, "n = {n}, {algoritmo}");
        }
    }
}

#[test]
fn montecarlo_counts_are_equal_on_every_cpu_backend() {
    for muestras in [1, 2, 3, 31, 32, 33, 1000, 131_073, 2_000_001] {
        for semilla in [0, 1, 0xdead_beef_0123_4567] {
            let p = ParamsMontecarlo::new(muestras, semilla).unwrap();
            let s = montecarlo::montecarlo(&p, Algoritmo::Secuencial).unwrap();
            let par = montecarlo::montecarlo(&p, Algoritmo::Paralelo).unwrap();
            assert_eq!(s.dentro, par.dentro, "{muestras} samples, seed {semilla}");
            assert!(s.dentro <= muestras);
        }
    }
    let p = ParamsMontecarlo::new(4_000_000, 42).unwrap();
    let pi = montecarlo::montecarlo(&p, Algoritmo::Paralelo)
        .unwrap()
        .pi();
    assert!((pi - std::f64::consts::PI).abs() < 0.005, "{pi}");
}

#[test]
fn nbody_paralelo_equals_secuencial_bit_for_bit() {
    for particulas in [1, 2, 3, 15, 16, 17, 100] {
        let p = ParamsNbody::new(particulas, 5, 7).unwrap();
        let s = nbody::nbody(&p, Algoritmo::Secuencial).unwrap();
        let par = nbody::nbody(&p, Algoritmo::Paralelo).unwrap();
        assert!(s.cuerpos == par.cuerpos, "{particulas} bodies");
        assert_eq!(s.energia_final, par.energia_final);
    }
}

#[test]
fn nbody_conserves_energy_and_one_body_only_drifts() {
    let p = ParamsNbody::new(64, 200, 3).unwrap();
    let r = nbody::nbody(&p, Algoritmo::Paralelo).unwrap();
    let deriva = (r.energia_final - r.energia_inicial).abs() / r.energia_inicial.abs();
    assert!(deriva < 1e-3, "relative energy drift {deriva}");

    let uno = nbody::nbody(&ParamsNbody::new(1, 10, 3).unwrap(), Algoritmo::Secuencial).unwrap();
    let c = &uno.cuerpos;
    let esperado = 0.5
        * f64::from(c.m[0])
        * [c.vx[0], c.vy[0], c.vz[0]]
            .iter()
            .map(|&v| f64::from(v) * f64::from(v))
            .sum::<f64>();
    assert_eq!(
        uno.energia_inicial, esperado,
        "no potential, constant velocity"
    );
    assert_eq!(uno.energia_final, uno.energia_inicial);
}

#[test]
fn ejecutar_reports_every_kernel() {
    let casos = [
        Parametros::Matmul(ParamsMatmul::new(33, 2).unwrap()),
        Parametros::VectorAdd(ParamsVectorAdd::new(1001, 3).unwrap()),
        Parametros::Montecarlo(ParamsMontecarlo::new(10_001, 5).unwrap()),
        Parametros::Nbody(ParamsNbody::new(20, 3, 5).unwrap()),
    ];
    for p in &casos {
        let mut detalles = Vec::new();
        for algoritmo in [Algoritmo::Secuencial, Algoritmo::Paralelo] {
            let e = ejecutar(p, algoritmo).unwrap();
            assert!(!e.resultado.imagen && e.imagen_png.is_none());
            assert_eq!(e.resultado.dispositivo, kernels::dispositivo(algoritmo));
            match &e.resultado.detalle {
                Detalle::Matmul {
                    n,
                    error_relativo,
                    gflops,
                    ..
                } => {
                    assert_eq!(*n, 33);
                    assert!(*error_relativo < 1e-5 && *gflops > 0.0);
                }
                Detalle::VectorAdd { n, gbps, .. } => assert!(*n == 1001 && *gbps > 0.0),
                Detalle::Montecarlo {
                    muestras,
                    dentro,
                    pi,
                    ..
                } => {
                    assert_eq!(*pi, 4.0 * *dentro as f64 / *muestras as f64);
                }
                Detalle::Nbody {
                    particulas, pasos, ..
                } => {
                    assert_eq!((*particulas, *pasos), (20, 3));
                }
                otro => panic!("unexpected {otro:?}"),
            }
            detalles.push(e.resultado.detalle);
        }
        // Exact kernels report the same numbers on both backends.
        match (&detalles[0], &detalles[1]) {
            (Detalle::VectorAdd { checksum: a, .. }, Detalle::VectorAdd { checksum: b, .. }) => {
                assert_eq!(a, b)
            }
            (Detalle::Montecarlo { dentro: a, .. }, Detalle::Montecarlo { dentro: b, .. }) => {
                assert_eq!(a, b)
            }
            (
                Detalle::Nbody {
                    energia_final: a, ..
                },
                Detalle::Nbody {
                    energia_final: b, ..
                },
            ) => assert_eq!(a, b),
            (Detalle::Matmul { checksum: a, .. }, Detalle::Matmul { checksum: b, .. }) => {
                assert!((a - b).abs() <= 1e-3 * a.abs().max(1.0), "{a} vs {b}")
            }
            otro => panic!("{otro:?}"),
        }
    }
}

#[test]
fn parameters_out_of_limits_are_refused() {
    let malos = [
        Parametros::Matmul(ParamsMatmul {
            n: 0,
            iteraciones: 1,
        }),
        Parametros::Matmul(ParamsMatmul {
            n: 9000,
            iteraciones: 1,
        }),
        Parametros::VectorAdd(ParamsVectorAdd {
            n: 0,
            iteraciones: 1,
        }),
        Parametros::VectorAdd(ParamsVectorAdd {
            n: 10,
            iteraciones: 0,
        }),
        Parametros::Montecarlo(ParamsMontecarlo {
            muestras: 0,
            semilla: 1,
        }),
        Parametros::Nbody(ParamsNbody {
            particulas: 0,
            pasos: 1,
            semilla: 1,
        }),
        Parametros::Nbody(ParamsNbody {
            particulas: 10,
            pasos: 0,
            semilla: 1,
        }),
    ];
    for p in &malos {
        for algoritmo in [Algoritmo::Secuencial, Algoritmo::Paralelo, Algoritmo::Cuda] {
            match ejecutar(p, algoritmo) {
                Err(ErrorKernel::Parametros(e)) => assert!(!e.to_string().is_empty()),
                otro => panic!("{p:?} on {algoritmo}: {otro:?}"),
            }
        }
    }
}

#[cfg(not(feature = "cuda"))]
#[test]
fn cuda_is_not_available_without_the_feature() {
    let p = Parametros::Montecarlo(ParamsMontecarlo::new(10, 1).unwrap());
    for p in [
        p,
        Parametros::Matmul(ParamsMatmul::new(4, 1).unwrap()),
        Parametros::VectorAdd(ParamsVectorAdd::new(4, 1).unwrap()),
        Parametros::Nbody(ParamsNbody::new(4, 1, 1).unwrap()),
    ] {
        assert!(matches!(
            ejecutar(&p, Algoritmo::Cuda),
            Err(ErrorKernel::NoDisponible(m)) if m.contains("without the `cuda` feature")
        ));
    }
}
