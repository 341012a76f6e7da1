//! `red_neuronal`: the CPU backends agree (each epoch's loss within
//! `TOLERANCIA_PERDIDA` of the first epoch's, accuracies within `MARGEN_PRECISION`), the
//! default spirals are learnt, the degenerate networks and minibatches train, the result is
//! reproducible from the seed, bad parameters are refused naming the field, and a run stops on
//! its control between minibatches. With the `cuda` feature: `NoDisponible` without a GPU,
//! agreement with `Secuencial` on one.

mod emulacion;

use std::time::{Duration, Instant};

use comun::Algoritmo;
use comun::api::Detalle;
use comun::trabajo::{Conjunto, Optimizador, ParamsRedNeuronal};
use kernels::red_neuronal::{self, Entrenamiento, MARGEN_PRECISION, TOLERANCIA_PERDIDA};
use kernels::{Control, ErrorKernel};

fn entrenar(p: &ParamsRedNeuronal, algoritmo: Algoritmo) -> Entrenamiento {
    red_neuronal::entrenar(p, algoritmo, &Control::ninguno())
        .unwrap_or_else(|e| panic!("{p:?} on {algoritmo}: {e}"))
}

/// Whether two trainings of the same job agree as the module promises; why not, otherwise.
fn concuerdan(a: &Entrenamiento, b: &Entrenamiento) -> Result<(), String> {
    if a.perdida.len() != b.perdida.len() {
        return Err(format!(
            "{} epochs against {}",
            a.perdida.len(),
            b.perdida.len()
        ));
    }
    let escala = a.perdida[0];
    for (e, (x, y)) in a.perdida.iter().zip(&b.perdida).enumerate() {
        if (x - y).abs() > TOLERANCIA_PERDIDA * escala {
            return Err(format!("epoch {}: loss {x} against {y}", e + 1));
        }
    }
    for (que, x, y) in [
        (
            "training",
            a.precision_entrenamiento,
            b.precision_entrenamiento,
        ),
        ("held-out", a.precision_prueba, b.precision_prueba),
    ] {
        if (x - y).abs() > MARGEN_PRECISION {
            return Err(format!("{que} accuracy {x} against {y}"));
        }
    }
    Ok(())
}

/// The default job, and small jobs covering both sets, both optimisers, no and several hidden
/// layers, a minibatch of one sample and a whole-set minibatch.
fn trabajos() -> Vec<ParamsRedNeuronal> {
    let base = ParamsRedNeuronal {
        muestras: 1000,
        epocas: 4,
        ..Default::default()
    };
    let blobs = ParamsRedNeuronal {
        conjunto: Conjunto::Blobs,
        dimensiones: 8,
        clases: 5,
        ..base.clone()
    };
    vec![
        ParamsRedNeuronal::default(),
        base.clone(),
        ParamsRedNeuronal {
            capas: vec![32, 16, 8],
            optimizador: Optimizador::Sgd,
            tasa: 0.1,
            lote: 17,
            ..base.clone()
        },
        ParamsRedNeuronal {
            capas: vec![],
            ..blobs.clone()
        },
        ParamsRedNeuronal {
            capas: vec![100],
            lote: 1000,
            epocas: 20,
            ..blobs.clone()
        },
        ParamsRedNeuronal {
            muestras: 300,
            lote: 1,
            epocas: 2,
            capas: vec![16],
            ..blobs
        },
    ]
}

#[test]
fn paralelo_agrees_with_secuencial() {
    for p in trabajos() {
        let s = entrenar(&p, Algoritmo::Secuencial);
        let par = entrenar(&p, Algoritmo::Paralelo);
        if let Err(e) = concuerdan(&s, &par) {
            panic!("{p:?}: {e}\nSecuencial {s:?}\nParalelo {par:?}");
        }
    }
}

#[test]
fn the_default_spirals_are_learnt() {
    let p = ParamsRedNeuronal::default();
    let r = entrenar(&p, Algoritmo::Paralelo);
    assert_eq!(r.perdida.len(), 10);
    // Chance is 1/3 and the first epoch's loss about ln 3; the network must do far better.
    assert!(r.precision_prueba >= 0.9, "{r:?}");
    assert!(r.precision_entrenamiento >= 0.9, "{r:?}");
    assert!(r.perdida[9] < r.perdida[0] / 4.0, "{:?}", r.perdida);
}

#[test]
fn degenerate_networks_and_minibatches_train() {
    // Softmax regression (no hidden layer), one minibatch of the whole set, one epoch: a
    // single update, and the curve has one point.
    let p = ParamsRedNeuronal {
        capas: vec![],
        conjunto: Conjunto::Blobs,
        dimensiones: 4,
        epocas: 1,
        lote: 500,
        muestras: 500,
        ..Default::default()
    };
    for algoritmo in [Algoritmo::Secuencial, Algoritmo::Paralelo] {
        let r = entrenar(&p, algoritmo);
        assert_eq!(r.perdida.len(), 1);
        assert_eq!(r.parametros.len(), 4 * 3 + 3);
        assert_eq!(r.muestras_vistas, 400.0);
        assert!(r.perdida[0] > 0.0 && r.perdida[0].is_finite());
    }
    // Softmax regression separates blobs given a few epochs.
    let p = ParamsRedNeuronal {
        epocas: 20,
        lote: 32,
        ..p
    };
    let r = entrenar(&p, Algoritmo::Secuencial);
    assert!(r.precision_prueba > 0.8, "{r:?}");
    // The smallest set: one sample to train on, one to test.
    let p = ParamsRedNeuronal {
        muestras: 2,
        lote: 2,
        ..Default::default()
    };
    let r = entrenar(&p, Algoritmo::Paralelo);
    assert_eq!(r.muestras_vistas, 10.0);
    assert!(r.precision_entrenamiento == 1.0 || r.precision_entrenamiento == 0.0);
}

#[test]
fn the_seed_decides_everything() {
    let p = ParamsRedNeuronal {
        muestras: 600,
        epocas: 3,
        ..Default::default()
    };
    for algoritmo in [Algoritmo::Secuencial, Algoritmo::Paralelo] {
        let a = entrenar(&p, algoritmo);
        let b = entrenar(&p, algoritmo);
        assert_eq!((&a.perdida, &a.parametros), (&b.perdida, &b.parametros));
    }
    let otra = ParamsRedNeuronal {
        semilla: 2,
        ..p.clone()
    };
    assert_ne!(
        entrenar(&p, Algoritmo::Secuencial).perdida,
        entrenar(&otra, Algoritmo::Secuencial).perdida
    );
}

#[test]
fn ejecutar_reports_the_curve_the_accuracies_and_the_rates() {
    let p = ParamsRedNeuronal {
        muestras: 800,
        epocas: 3,
        ..Default::default()
    };
    let salida = red_neuronal::ejecutar(&p, Algoritmo::Paralelo, &Control::ninguno()).unwrap();
    assert_eq!(salida.duracion_con_copias, None);
    assert!(salida.imagen_png.is_none());
    let Detalle::RedNeuronal {
        perdida,
        precision_entrenamiento,
        precision_prueba,
        muestras_por_segundo,
        gflops,
    } = salida.detalle
    else {
        panic!("{:?}", salida.detalle);
    };
    assert_eq!(perdida.len(), 3);
    assert!((0.0..=1.0).contains(&precision_entrenamiento));
    assert!((0.0..=1.0).contains(&precision_prueba));
    let t = salida.duracion.as_secs_f64();
    assert!((muestras_por_segundo * t - 3.0 * 640.0).abs() < 1e-6 * muestras_por_segundo * t + 1.0);
    assert!(gflops > 0.0);
}

#[test]
fn bad_parameters_are_refused_naming_the_field() {
    let campo = |p: ParamsRedNeuronal| match red_neuronal::entrenar(
        &p,
        Algoritmo::Paralelo,
        &Control::ninguno(),
    ) {
        Err(ErrorKernel::Parametros(e)) => (e.campo, e.limite),
        otro => panic!("{p:?}: expected a parameter error, got {otro:?}"),
    };
    let base = ParamsRedNeuronal::default();
    assert_eq!(
        campo(ParamsRedNeuronal {
            epocas: 0,
            ..base.clone()
        })
        .0,
        "epocas"
    );
    assert_eq!(
        campo(ParamsRedNeuronal {
            tasa: -1.0,
            ..base.clone()
        })
        .0,
        "tasa"
    );
    assert_eq!(
        campo(ParamsRedNeuronal {
            capas: vec![8; 5],
            ..base.clone()
        })
        .0,
        "capas"
    );
    assert_eq!(
        campo(ParamsRedNeuronal {
            dimensiones: 3,
            ..base.clone()
        })
        .0,
        "dimensiones"
    );
    // A minibatch whose activations would not fit on an esclavo.
    let enorme = ParamsRedNeuronal {
        capas: vec![4096; 4],
        muestras: 1_000_000,
        lote: 1_000_000,
        ..base.clone()
    };
    // 2 + 4·4096 + 3 activations and 2·4096 gradients a sample: 2²⁸ / 24 581 samples fit.
    assert_eq!(campo(enorme), ("lote".to_owned(), Some(10_920)));
    // A learning rate that makes the loss overflow is reported as such, on both backends.
    let diverge = ParamsRedNeuronal {
        optimizador: Optimizador::Sgd,
        tasa: 10.0,
        conjunto: Conjunto::Blobs,
        muestras: 1000,
        epocas: 5,
        ..base
    };
    for algoritmo in [Algoritmo::Secuencial, Algoritmo::Paralelo] {
        match red_neuronal::entrenar(&diverge, algoritmo, &Control::ninguno()) {
            Err(ErrorKernel::Parametros(e)) => {
                assert_eq!(e.campo, "tasa");
                assert!(e.to_string().contains("diverged"), "{e}");
            }
            otro => panic!("{algoritmo}: expected the divergence refused, got {otro:?}"),
        }
    }
}

#[cfg(not(feature = "cuda"))]
#[test]
fn without_the_cuda_feature_cuda_says_why() {
    let p = ParamsRedNeuronal::default();
    match red_neuronal::entrenar(&p, Algoritmo::Cuda, &Control::ninguno()) {
        Err(ErrorKernel::NoDisponible(m)) => assert!(m.contains("cuda"), "{m}"),
        otro => panic!("{otro:?}"),
    }
}

/// The GPU, when there is one (`KERNELS_CUDA_ESPERADO=gpu` insists on it, `=stub` on its
/// absence): agreement with `Secuencial` on every job of [`trabajos`]; without one, the
/// reason.
#[cfg(feature = "cuda")]
#[test]
fn cuda_agrees_with_secuencial_or_says_why_not() {
    let esperado = std::env::var("KERNELS_CUDA_ESPERADO").ok();
    let p = ParamsRedNeuronal::default();
    if let Err(motivo) = kernels::gpu() {
        assert_ne!(esperado.as_deref(), Some("gpu"), "no GPU: {motivo}");
        match red_neuronal::entrenar(&p, Algoritmo::Cuda, &Control::ninguno()) {
            Err(ErrorKernel::NoDisponible(m)) => assert_eq!(m, motivo),
            otro => panic!("expected NoDisponible, got {otro:?}"),
        }
        return;
    }
    assert_ne!(esperado.as_deref(), Some("stub"), "found a GPU");
    for p in trabajos() {
        let s = entrenar(&p, Algoritmo::Secuencial);
        let g = entrenar(&p, Algoritmo::Cuda);
        if let Err(e) = concuerdan(&s, &g) {
            panic!("{p:?}: {e}\nSecuencial {s:?}\nCuda {g:?}");
        }
        assert!(g.con_copias.unwrap() >= g.duracion);
    }
}

/// `kernels/cuda/red_neuronal.cu` run on the CPU by `kernels/cuda/red_neuronal_anfitrion.cpp`
/// (its built-ins in plain C++, each product's blocks as OpenMP teams of 256 threads, the
/// launches queued as `red_neuronal/cuda.rs` queues them), where a C++ compiler with OpenMP is
/// installed (`$CXX`, else `c++`); otherwise it says so and passes. Its training must agree
/// with `Secuencial`'s as `Cuda` must.
#[test]
fn the_cuda_source_agrees_with_secuencial_when_emulated_on_the_cpu() {
    let banderas = ["-std=c++17", "-O2", "-fopenmp"];
    let Some(programa) = emulacion::compilar("red_neuronal_anfitrion.cpp", &banderas) else {
        return;
    };
    let pequenos = trabajos().into_iter().map(|p| ParamsRedNeuronal {
        muestras: p.muestras.min(400),
        lote: p.lote.min(320),
        epocas: p.epocas.min(3),
        ..p
    });
    for p in pequenos {
        let s = entrenar(&p, Algoritmo::Secuencial);
        let emulado = emular(&programa, &p);
        if let Err(e) = concuerdan(&s, &emulado) {
            panic!("{p:?}: {e}\nSecuencial {s:?}\nemulated {emulado:?}");
        }
    }
}

/// Trains `p` with the emulated GPU kernels of `programa`: the same data, initial weights and
/// orders as every backend (see the input format in red_neuronal_anfitrion.cpp).
fn emular(programa: &std::path::Path, p: &ParamsRedNeuronal) -> Entrenamiento {
    use std::io::Write as _;
    use std::process::{Command, Stdio};

    let arquitectura = red_neuronal::Arquitectura::new(p);
    let (entrenamiento, prueba) = red_neuronal::datos::conjuntos(p);
    let n = entrenamiento.len();
    let tallas = arquitectura.tallas();
    let mut entrada: Vec<u8> = Vec::new();
    let u32s = |v: &mut Vec<u8>, xs: &[u32]| v.extend(xs.iter().flat_map(|x| x.to_le_bytes()));
    let cabecera = [n as u32, prueba.len() as u32, tallas.len() as u32];
    u32s(&mut entrada, &cabecera);
    u32s(
        &mut entrada,
        &tallas.iter().map(|&t| t as u32).collect::<Vec<_>>(),
    );
    let adam = u32::from(p.optimizador == Optimizador::Adam);
    u32s(&mut entrada, &[p.epocas, p.lote.min(n as u32), adam]);
    entrada.extend(p.tasa.to_le_bytes());
    let f32s = |v: &mut Vec<u8>, xs: &[f32]| v.extend(xs.iter().flat_map(|x| x.to_le_bytes()));
    for conjunto in [&entrenamiento, &prueba] {
        f32s(&mut entrada, &conjunto.x);
        u32s(&mut entrada, &conjunto.y);
    }
    f32s(
        &mut entrada,
        &red_neuronal::datos::parametros_iniciales(&arquitectura, p.semilla),
    );
    for epoca in 0..p.epocas {
        u32s(
            &mut entrada,
            &red_neuronal::datos::orden(p.semilla, epoca, n),
        );
    }
    let mut hijo = Command::new(programa)
        // 256 OpenMP threads a block on a few cores: waiting threads sleep at the barriers.
        .env("OMP_WAIT_POLICY", "passive")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the emulation starts");
    hijo.stdin.take().unwrap().write_all(&entrada).unwrap();
    let salida = hijo.wait_with_output().unwrap();
    assert!(salida.status.success(), "{p:?}: the emulation failed");
    let texto = String::from_utf8(salida.stdout).unwrap();
    let valor = |clave: &str| {
        texto
            .split_whitespace()
            .find_map(|par| par.strip_prefix(clave)?.strip_prefix('='))
            .unwrap_or_else(|| panic!("no {clave} in {texto:?}"))
    };
    let numero = |clave: &str| valor(clave).parse::<f64>().unwrap();
    Entrenamiento {
        perdida: valor("perdida")
            .split(',')
            .map(|x| x.parse().unwrap())
            .collect(),
        precision_entrenamiento: numero("precision_entrenamiento"),
        precision_prueba: numero("precision_prueba"),
        parametros: Vec::new(),
        muestras_vistas: (n * p.epocas as usize) as f64,
        flops: 0.0,
        duracion: Duration::ZERO,
        con_copias: None,
    }
}

/// Stops on a flag set before the start, on a flag set mid-run and on a time limit, each
/// within half the whole job's time (grown until it takes at least 0.6 s).
#[test]
fn a_run_stops_between_minibatches() {
    for algoritmo in [Algoritmo::Secuencial, Algoritmo::Paralelo] {
        let trabajo = |epocas| ParamsRedNeuronal {
            muestras: 2000,
            epocas,
            ..Default::default()
        };
        let correr = |p: &ParamsRedNeuronal, control: &Control| {
            let inicio = Instant::now();
            (
                red_neuronal::entrenar(p, algoritmo, control),
                inicio.elapsed(),
            )
        };
        let mut epocas = 1;
        let completo = loop {
            let (r, t) = correr(&trabajo(epocas), &Control::ninguno());
            r.unwrap();
            if t >= Duration::from_millis(600) {
                break t;
            }
            epocas *= 2;
        };
        let p = trabajo(epocas * 8);
        let control = Control::ninguno();
        control.cancelar("cancelled by a user");
        let (r, t) = correr(&p, &control);
        assert!(matches!(r, Err(ErrorKernel::Cancelado { .. })), "{r:?}");
        assert!(t < completo / 2, "{algoritmo}: {t:?}");
        let control = Control::ninguno();
        let (r, t) = std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(completo / 10);
                control.cancelar("stop now");
            });
            correr(&p, &control)
        });
        assert!(
            matches!(&r, Err(ErrorKernel::Cancelado { motivo }) if motivo == "stop now"),
            "{r:?}"
        );
        assert!(
            t < completo / 2,
            "{algoritmo}: stopped after {t:?}, the job takes {completo:?}"
        );
        let (r, t) = correr(&p, &Control::con_plazo(completo / 10));
        assert!(matches!(r, Err(ErrorKernel::PlazoExcedido { .. })), "{r:?}");
        assert!(
            t < completo / 2,
            "{algoritmo}: limited, it returned after {t:?}"
        );
    }
}
