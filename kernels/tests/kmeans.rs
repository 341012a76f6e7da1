//! `kmeans`: every backend converges to the same assignment, centroids and inertia, bit for
//! bit (docs/kernels.md, "kmeans"); known answers on data separable by hand; the degenerate
//! sizes (k = 1, k = muestras, one dimension, empty clusters, exact ties); the results
//! `ejecutar` reports.

use comun::Algoritmo;
use comun::api::Detalle;
use comun::trabajo::{Parametros, ParamsKmeans};
use kernels::kmeans::{self, Agrupamiento, Datos, datos};
use kernels::{Control, ErrorKernel, ejecutar};

/// The backends this build can run here: the CPU's, and the GPU when there is one.
fn backends() -> Vec<Algoritmo> {
    let mut b = vec![Algoritmo::Secuencial, Algoritmo::Paralelo];
    if kernels::gpu().is_ok() {
        b.push(Algoritmo::Cuda);
    }
    b
}

/// Runs `datos` from `iniciales` on every backend and checks that they all agree with
/// `Secuencial` bit for bit; `Secuencial`'s run, and how many points `Paralelo` settled with
/// exact distances.
fn iguales_con(
    que: &str,
    datos: &Datos,
    iniciales: &[f32],
    iteraciones: u32,
) -> (Agrupamiento, u64) {
    let correr = |algoritmo| {
        kmeans::agrupar(
            datos,
            iniciales.to_vec(),
            iteraciones,
            algoritmo,
            &Control::ninguno(),
        )
        .unwrap_or_else(|e| panic!("{que} on {algoritmo}: {e}"))
    };
    let referencia = correr(Algoritmo::Secuencial);
    let mut recomprobadas = 0;
    for algoritmo in backends().into_iter().skip(1) {
        let otro = correr(algoritmo);
        if algoritmo == Algoritmo::Paralelo {
            recomprobadas = otro.recomprobadas;
        }
        if let Some(i) = (0..datos.muestras).find(|&i| otro.etiquetas[i] != referencia.etiquetas[i])
        {
            panic!(
                "{que}: {algoritmo} puts point {i} in cluster {}, Secuencial in {}",
                otro.etiquetas[i], referencia.etiquetas[i]
            );
        }
        assert_eq!(
            otro.iteraciones, referencia.iteraciones,
            "{que} on {algoritmo}"
        );
        assert_eq!(otro.inercia, referencia.inercia, "{que} on {algoritmo}");
        assert!(
            otro.centroides == referencia.centroides,
            "{que} on {algoritmo}: the centroids differ"
        );
    }
    (referencia, recomprobadas)
}

/// [`iguales_con`]'s `Secuencial` run.
fn iguales(que: &str, datos: &Datos, iniciales: &[f32], iteraciones: u32) -> Agrupamiento {
    iguales_con(que, datos, iniciales, iteraciones).0
}

/// The job's own blobs and k-means++ start.
fn entradas(n: u32, d: u32, k: u32, semilla: u64) -> (Datos, Vec<f32>) {
    let p = ParamsKmeans::new(n, d, k, 1, semilla).unwrap();
    let datos = Datos::new(&p);
    let iniciales = datos::iniciales(&datos, k as usize, semilla, &Control::ninguno()).unwrap();
    (datos, iniciales)
}

#[test]
fn every_backend_converges_to_the_same_assignment() {
    let casos = [
        (1, 1, 1, 5),
        (2, 1, 2, 5),
        (7, 3, 7, 5),
        (100, 1, 5, 50),
        (1000, 2, 4, 50),
        (3000, 16, 8, 30),
        (2000, 17, 13, 30),
        (1500, 64, 40, 20),
        (600, 3, 300, 10),
        (300, 1024, 3, 10),
        (5000, 5, 9, 100),
        // Many clusters on a line or a plane: close calls (and exact ties) are common.
        (20_000, 1, 50, 30),
        (3000, 2, 100, 30),
        // Several groups of centroids in `Paralelo`.
        (1000, 256, 300, 3),
    ];
    for (n, d, k, iteraciones) in casos {
        let mut recomprobadas = 0;
        for semilla in [1, 0xfeed_f00d] {
            let (datos, iniciales) = entradas(n, d, k, semilla);
            let que = format!("{n} × {d}, k = {k}, seed {semilla}");
            let (r, exactas) = iguales_con(&que, &datos, &iniciales, iteraciones);
            assert_eq!(r.inercia.len(), r.iteraciones as usize, "{que}");
            assert!(r.iteraciones >= 1 && r.iteraciones <= iteraciones, "{que}");
            recomprobadas += exactas;
        }
        eprintln!("{n} × {d}, k = {k}: {recomprobadas} points settled exactly by Paralelo");
        if k >= 50 && (d <= 2 || d >= 256) {
            assert!(
                recomprobadas > 0,
                "{n} × {d}, k = {k}: the close calls were not exercised"
            );
        }
    }
}

/// Each point's cluster is a nearest centroid by plain `f64` distances too (an oracle
/// independent of the lattice arithmetic), up to rounding.
#[test]
fn the_assignment_is_the_nearest_centroid_in_f64() {
    let (datos, iniciales) = entradas(4000, 6, 10, 3);
    let r = iguales("4000 × 6", &datos, &iniciales, 1);
    let d2 = |x: &[f32], c: &[f32]| -> f64 {
        x.iter()
            .zip(c)
            .map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2))
            .sum()
    };
    for i in 0..datos.muestras {
        let x = datos.fila(i);
        let propio = d2(x, &iniciales[r.etiquetas[i] as usize * 6..][..6]);
        let mejor = iniciales
            .chunks_exact(6)
            .map(|c| d2(x, c))
            .fold(f64::INFINITY, f64::min);
        assert!(
            propio <= mejor * (1.0 + 1e-12),
            "point {i}: {propio} > {mejor}"
        );
    }
}

/// Two groups on a line, far apart: known labels, centroids and inertias.
#[test]
fn separable_data_has_the_known_answer() {
    let datos = Datos {
        x: vec![0.0, 0.25, 0.5, 10.0, 10.5, 11.0],
        muestras: 6,
        dimensiones: 1,
    };
    let r = iguales("two groups", &datos, &[0.0, 11.0], 10);
    assert_eq!(r.etiquetas, [0, 0, 0, 1, 1, 1]);
    assert_eq!(r.centroides, [0.25, 10.5]);
    // Step 1 from (0, 11): 0.0625 + 0.25 + 1 + 0.25 = 1.5625; step 2 at the means:
    // 2 · 0.0625 + 2 · 0.25 = 0.625.
    assert_eq!(r.inercia, [1.5625, 0.625]);
    assert_eq!(
        r.iteraciones, 2,
        "the second step changes nothing and stops"
    );
}

#[test]
fn one_cluster_is_the_mean_rounded_to_the_lattice() {
    let (datos, iniciales) = entradas(999, 3, 1, 4);
    let r = iguales("k = 1", &datos, &iniciales, 10);
    assert!(r.etiquetas.iter().all(|&j| j == 0));
    assert_eq!(r.iteraciones, 2);
    for l in 0..3 {
        let media: f64 = (0..999).map(|i| f64::from(datos.fila(i)[l])).sum::<f64>() / 999.0;
        assert!((f64::from(r.centroides[l]) - media).abs() <= 2f64.powi(-20) * 1.0001);
    }
    assert!(r.inercia[1] <= r.inercia[0]);
}

#[test]
fn as_many_clusters_as_points_leaves_no_inertia() {
    let (datos, iniciales) = entradas(50, 2, 50, 9);
    let r = iguales("k = muestras", &datos, &iniciales, 5);
    assert_eq!(r.inercia, [0.0, 0.0]);
    let mut etiquetas = r.etiquetas.clone();
    etiquetas.sort_unstable();
    assert_eq!(etiquetas, (0..50).collect::<Vec<u32>>());
}

/// A centroid that no point is nearest keeps its place; equal distances go to the first
/// centroid on every backend.
#[test]
fn empty_clusters_keep_their_centroid_and_ties_go_to_the_first() {
    let datos = Datos {
        x: vec![-1.0, 1.0, 0.0, 0.0, 5.0, 5.0, 6.0, 6.0],
        muestras: 4,
        dimensiones: 2,
    };
    // The third centroid is far from everything; the first two tie for (0, 0).
    let iniciales = [-1.0, -1.0, 1.0, 1.0, 30.0, 30.0, 5.5, 5.5];
    let r = iguales("an empty cluster", &datos, &iniciales, 10);
    assert_eq!(
        r.etiquetas[..2],
        [0, 0],
        "(-1, 1) and (0, 0) tie: the first wins"
    );
    assert_eq!(r.centroides[4..6], [30.0, 30.0]);
    assert_eq!(r.etiquetas[2..], [3, 3]);
}

/// Points whose nearest centroids are a lattice step apart, far from the origin, where the
/// `f32` distances cannot tell them apart: `Paralelo` (and `Cuda`) settle them exactly and
/// agree with `Secuencial`.
#[test]
fn near_ties_are_settled_exactly() {
    let paso = 1.0 / datos::ESCALA;
    let d = 8;
    let mut x = Vec::new();
    for i in 0..200 {
        let t = 15.0 - i as f32 * paso;
        x.extend(std::iter::repeat_n(t, d));
    }
    let datos = Datos {
        x,
        muestras: 200,
        dimensiones: d,
    };
    let mut iniciales = vec![15.0 - 50.0 * paso; d];
    iniciales.extend(std::iter::repeat_n(15.0 - 51.0 * paso, d));
    iniciales.extend(std::iter::repeat_n(-15.0, d));
    let r = iguales("near ties", &datos, &iniciales, 1);
    assert_eq!(r.etiquetas[50], 0);
    assert_eq!(r.etiquetas[51], 1);
    assert!(r.etiquetas.iter().all(|&j| j < 2));
    let paralelo = kmeans::agrupar(
        &datos,
        iniciales.clone(),
        1,
        Algoritmo::Paralelo,
        &Control::ninguno(),
    )
    .unwrap();
    assert!(
        paralelo.recomprobadas > 100,
        "only {} points were settled exactly",
        paralelo.recomprobadas
    );
}

#[test]
fn the_same_seed_gives_the_same_job_and_another_seed_another() {
    let p = ParamsKmeans::new(3000, 4, 5, 20, 11).unwrap();
    let a = kmeans::kmeans(&p, Algoritmo::Paralelo).unwrap();
    let b = kmeans::kmeans(&p, Algoritmo::Secuencial).unwrap();
    assert_eq!((a.etiquetas, a.inercia.clone()), (b.etiquetas, b.inercia));
    let q = ParamsKmeans { semilla: 12, ..p };
    let c = kmeans::kmeans(&q, Algoritmo::Paralelo).unwrap();
    assert_ne!(a.inercia, c.inercia);
}

#[test]
fn ejecutar_reports_the_inertia_of_each_step_and_the_checksum() {
    let p = ParamsKmeans::new(20_000, 16, 8, 20, 1).unwrap();
    let referencia = kmeans::kmeans(&p, Algoritmo::Secuencial).unwrap();
    for algoritmo in backends() {
        let e = ejecutar(&Parametros::Kmeans(Box::new(p)), algoritmo).unwrap();
        let Detalle::Kmeans {
            muestras,
            k,
            iteraciones,
            inercia,
            checksum,
            gflops,
        } = e.resultado.detalle
        else {
            panic!("{:?}", e.resultado.detalle)
        };
        assert_eq!((muestras, k), (20_000, 8));
        assert_eq!(iteraciones, referencia.iteraciones);
        assert_eq!(inercia, referencia.inercia, "{algoritmo}");
        assert_eq!(checksum, referencia.checksum(), "{algoritmo}");
        assert!(gflops > 0.0 && gflops.is_finite());
        // Lloyd never increases the inertia, up to the lattice rounding of the centroids.
        for t in 1..inercia.len() {
            assert!(inercia[t] <= inercia[t - 1] * (1.0 + 1e-9), "{inercia:?}");
        }
        // Well separated unit-variance blobs: about d per point once converged.
        let por_punto = inercia.last().unwrap() / 20_000.0;
        assert!(por_punto < 100.0, "{por_punto}");
        assert_eq!(
            e.resultado.duracion_con_copias_s.is_some(),
            algoritmo == Algoritmo::Cuda
        );
    }
}

#[test]
fn out_of_limit_parameters_are_refused_on_every_backend() {
    let malos = [
        ParamsKmeans {
            k: 0,
            ..ParamsKmeans::default()
        },
        ParamsKmeans {
            muestras: 5,
            k: 6,
            ..ParamsKmeans::default()
        },
        ParamsKmeans {
            dimensiones: 2000,
            ..ParamsKmeans::default()
        },
        ParamsKmeans {
            iteraciones: 0,
            ..ParamsKmeans::default()
        },
    ];
    for p in malos {
        for algoritmo in [Algoritmo::Secuencial, Algoritmo::Paralelo, Algoritmo::Cuda] {
            match kmeans::kmeans(&p, algoritmo) {
                Err(ErrorKernel::Parametros(e)) => assert!(!e.campo.is_empty()),
                otro => panic!("{p:?} on {algoritmo}: {otro:?}"),
            }
        }
    }
}

#[test]
fn points_off_the_lattice_are_refused() {
    let datos = Datos {
        x: vec![0.0, 0.1],
        muestras: 2,
        dimensiones: 1,
    };
    let e = kmeans::agrupar(
        &datos,
        vec![0.0],
        1,
        Algoritmo::Paralelo,
        &Control::ninguno(),
    );
    assert!(matches!(e, Err(ErrorKernel::Parametros(c)) if c.campo == "datos"));
    let datos = Datos {
        x: vec![0.0, 0.5],
        muestras: 2,
        dimensiones: 1,
    };
    for (iniciales, campo) in [(vec![40.0], "iniciales"), (vec![], "iniciales")] {
        let e = kmeans::agrupar(
            &datos,
            iniciales,
            1,
            Algoritmo::Secuencial,
            &Control::ninguno(),
        );
        assert!(matches!(e, Err(ErrorKernel::Parametros(c)) if c.campo == campo));
    }
}

#[test]
fn a_cancelled_run_stops_before_it_starts() {
    let p = ParamsKmeans::default();
    for algoritmo in backends() {
        let control = Control::ninguno();
        control.cancelar("cancelled by a user");
        match kmeans::kmeans_con(&p, algoritmo, &control) {
            Err(ErrorKernel::Cancelado { motivo }) => assert_eq!(motivo, "cancelled by a user"),
            otro => panic!("{algoritmo}: {otro:?}"),
        }
    }
}

#[cfg(not(feature = "cuda"))]
#[test]
fn cuda_is_not_available_without_the_feature() {
    let p = ParamsKmeans::new(10, 2, 2, 1, 1).unwrap();
    assert!(matches!(
        kmeans::kmeans(&p, Algoritmo::Cuda),
        Err(ErrorKernel::NoDisponible(_))
    ));
}

/// Without a GPU (CI runs against the stub driver) `Cuda` says why, as `kernels::gpu` does;
/// with one, it is checked with the other backends in every test above.
#[cfg(feature = "cuda")]
#[test]
fn cuda_says_why_it_is_missing() {
    let p = ParamsKmeans::new(100, 2, 3, 5, 1).unwrap();
    let Err(motivo) = kernels::gpu() else {
        assert!(kmeans::kmeans(&p, Algoritmo::Cuda).is_ok());
        return;
    };
    assert_ne!(
        std::env::var("KERNELS_CUDA_ESPERADO").as_deref(),
        Ok("gpu"),
        "no GPU: {motivo}"
    );
    match kmeans::kmeans(&p, Algoritmo::Cuda) {
        Err(ErrorKernel::NoDisponible(m)) => assert_eq!(m, motivo),
        otro => panic!("expected NoDisponible, got {otro:?}"),
    }
}
