//! Stopping a running kernel through its `Control`: every kernel, on every CPU backend (and on
//! the GPU when there is one), stops promptly when its flag was set before it started, when the
//! flag is set while it runs, and when it reaches its time limit.
//!
//! No wall time is hard-coded: each test first runs the whole job (growing it until it takes
//! at least [`MINIMO`]), then stops a job [`MARGEN`] times larger after a tenth of that time
//! and requires it to return within half of it.

use std::time::{Duration, Instant};

use comun::Algoritmo;
use comun::trabajo::{
    Parametros, ParamsEspera, ParamsJulia, ParamsKmeans, ParamsMatmul, ParamsMontecarlo,
    ParamsNbody, ParamsVectorAdd,
};
use kernels::{Control, ErrorKernel, ejecutar_con};

/// The shortest full job that the stops are measured against.
const MINIMO: Duration = Duration::from_millis(600);
/// How many times longer than the timed job the stopped job is.
const MARGEN: u32 = 8;

/// A job of a given scale (1, 2, 4…: the larger, the longer).
type Trabajo = fn(u32) -> Parametros;

/// One stop test at a time in this process: under `cargo test` the tests are threads sharing
/// one rayon pool, and a `Paralelo` kernel's chunks can wait behind another test's, which would
/// make a prompt stop look late.
static UNO_A_LA_VEZ: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Runs `trabajo` on `algoritmo` whole, then stopped in three ways, checking each stop.
fn se_detiene(nombre: &str, algoritmo: Algoritmo, trabajo: Trabajo) {
    let _turno = UNO_A_LA_VEZ.lock().unwrap_or_else(|e| e.into_inner());
    let correr = |p: &Parametros, control: &Control| {
        let inicio = Instant::now();
        let r = ejecutar_con(p, algoritmo, control);
        (r, inicio.elapsed())
    };
    let (escala, completo) = escalar(nombre, algoritmo, trabajo);
    // The stops run a job [`MARGEN`] times longer than the one timed: other tests sharing the
    // cores can stretch that timing, and a job that really takes less than the moment of the
    // stop would finish before it (a stop must never be late only because the clock was).
    let p = trabajo(escala.saturating_mul(MARGEN));
    let mitad = completo / 2;
    let decimo = completo / 10;
    eprintln!("{nombre} on {algoritmo:?}: the whole job takes {completo:?}");

    let control = Control::ninguno();
    control.cancelar("cancelled by a user");
    let (r, t) = correr(&p, &control);
    match r {
        Err(ErrorKernel::Cancelado { motivo }) => assert_eq!(motivo, "cancelled by a user"),
        otro => panic!("{nombre}: cancelled before the start gave {otro:?}"),
    }
    assert!(t < mitad, "{nombre}: cancelled before the start took {t:?}");

    let control = Control::ninguno();
    let (r, t) = std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(decimo);
            control.cancelar("stop now");
        });
        correr(&p, &control)
    });
    let e = r.expect_err("a job cancelled mid-run must fail");
    assert!(
        matches!(&e, ErrorKernel::Cancelado { motivo } if motivo == "stop now"),
        "{nombre}: {e:?}"
    );
    assert_eq!(e.to_string(), "cancelled: stop now");
    assert!(
        t < mitad,
        "{nombre}: cancelled after {decimo:?}, it returned after {t:?} (the job takes {completo:?})"
    );

    let control = Control::con_plazo(decimo);
    let (r, t) = correr(&p, &control);
    match r {
        Err(e @ ErrorKernel::PlazoExcedido { .. }) => {
            let ErrorKernel::PlazoExcedido {
                plazo,
                transcurrido,
            } = &e
            else {
                unreachable!()
            };
            assert_eq!(*plazo, decimo);
            assert!(*transcurrido >= decimo && *transcurrido <= t, "{e}");
            assert!(e.to_string().starts_with("time limit of "), "{e}");
        }
        otro => panic!("{nombre}: a limit of {decimo:?} gave {otro:?}"),
    }
    assert!(
        t < mitad,
        "{nombre}: limited to {decimo:?}, it returned after {t:?} (the job takes {completo:?})"
    );
}

/// The smallest scale whose job takes at least [`MINIMO`], and how long that job took whole.
fn escalar(nombre: &str, algoritmo: Algoritmo, trabajo: Trabajo) -> (u32, Duration) {
    let mut escala = 1;
    loop {
        let p = trabajo(escala);
        let inicio = Instant::now();
        if let Err(e) = ejecutar_con(&p, algoritmo, &Control::ninguno()) {
            panic!("{nombre} on {algoritmo:?} at scale {escala}: {e}");
        }
        let t = inicio.elapsed();
        if t >= MINIMO {
            return (escala, t);
        }
        assert!(
            escala < 1 << 16,
            "{nombre}: cannot make the job last {MINIMO:?}"
        );
        escala *= 2;
    }
}

fn julia(lado: u32, escala: u32) -> Parametros {
    Parametros::Julia(ParamsJulia::new(lado, (lado * escala).min(8192), 2000).unwrap())
}

fn matmul(n: u32, iteraciones: u32, escala: u32) -> Parametros {
    Parametros::Matmul(ParamsMatmul::new(n, (iteraciones * escala).min(1000)).unwrap())
}

fn vector_add(iteraciones: u32, escala: u32) -> Parametros {
    Parametros::VectorAdd(ParamsVectorAdd::new(1 << 24, (iteraciones * escala).min(1000)).unwrap())
}

fn montecarlo(muestras: u64, escala: u32) -> Parametros {
    Parametros::Montecarlo(ParamsMontecarlo::new(muestras * u64::from(escala), 7).unwrap())
}

fn nbody(particulas: u32, pasos: u32, escala: u32) -> Parametros {
    Parametros::Nbody(ParamsNbody::new(particulas, pasos * escala, 7).unwrap())
}

#[test]
fn julia_secuencial_stops() {
    se_detiene("julia", Algoritmo::Secuencial, |e| julia(256, e));
}

#[test]
fn julia_paralelo_stops() {
    se_detiene("julia", Algoritmo::Paralelo, |e| julia(1024, e));
}

#[test]
fn matmul_secuencial_stops() {
    se_detiene("matmul", Algoritmo::Secuencial, |e| matmul(512, 4, e));
}

/// `Paralelo` checks between products (one `gemm` call each), so the job is many small
/// products: a stop must come within one product, and at n = 2048 one product can take more
/// than a tenth of the job when other tests share the cores (and gemm is built at opt-level 1
/// in test builds).
#[test]
fn matmul_paralelo_stops() {
    se_detiene("matmul", Algoritmo::Paralelo, |e| matmul(512, 8, e));
}

#[test]
fn vector_add_secuencial_stops() {
    se_detiene("vector_add", Algoritmo::Secuencial, |e| vector_add(16, e));
}

#[test]
fn vector_add_paralelo_stops() {
    se_detiene("vector_add", Algoritmo::Paralelo, |e| vector_add(32, e));
}

#[test]
fn montecarlo_secuencial_stops() {
    se_detiene("montecarlo", Algoritmo::Secuencial, |e| {
        montecarlo(1 << 25, e)
    });
}

#[test]
fn montecarlo_paralelo_stops() {
    se_detiene("montecarlo", Algoritmo::Paralelo, |e| {
        montecarlo(1 << 28, e)
    });
}

#[test]
fn nbody_secuencial_stops() {
    se_detiene("nbody", Algoritmo::Secuencial, |e| nbody(1000, 50, e));
}

#[test]
fn nbody_paralelo_stops() {
    se_detiene("nbody", Algoritmo::Paralelo, |e| nbody(4000, 20, e));
}

/// k-means grows by its points (its steps may stop early, once nothing changes cluster).
fn kmeans(muestras: u32, escala: u32) -> Parametros {
    let muestras = (muestras * escala).min(4_000_000);
    Parametros::Kmeans(Box::new(
        ParamsKmeans::new(muestras, 32, 64, 30, 7).unwrap(),
    ))
}

#[test]
fn kmeans_secuencial_stops() {
    se_detiene("kmeans", Algoritmo::Secuencial, |e| kmeans(5_000, e));
}

#[test]
fn kmeans_paralelo_stops() {
    se_detiene("kmeans", Algoritmo::Paralelo, |e| kmeans(20_000, e));
}

#[test]
fn espera_stops() {
    se_detiene("espera", Algoritmo::Secuencial, |e| {
        Parametros::Espera(ParamsEspera::new(600 * u64::from(e)).unwrap())
    });
}

/// The same stops on the GPU, when there is one (`KERNELS_CUDA_ESPERADO=gpu` insists on it).
#[cfg(feature = "cuda")]
#[test]
fn every_kernel_stops_on_cuda() {
    if let Err(motivo) = kernels::gpu() {
        assert_ne!(
            std::env::var("KERNELS_CUDA_ESPERADO").as_deref(),
            Ok("gpu"),
            "no GPU: {motivo}"
        );
        eprintln!("no GPU ({motivo}): nothing to check here");
        return;
    }
    se_detiene("julia", Algoritmo::Cuda, |e| {
        Parametros::Julia(ParamsJulia::new(8192, 8192, (2000 * e).min(100_000)).unwrap())
    });
    se_detiene("matmul", Algoritmo::Cuda, |e| matmul(8192, 4, e));
    se_detiene("vector_add", Algoritmo::Cuda, |e| {
        Parametros::VectorAdd(ParamsVectorAdd::new(1 << 28, (50 * e).min(1000)).unwrap())
    });
    se_detiene("montecarlo", Algoritmo::Cuda, |e| montecarlo(1 << 36, e));
    se_detiene("nbody", Algoritmo::Cuda, |e| nbody(65_536, 20, e));
}
