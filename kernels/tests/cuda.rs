//! The `Cuda` backend, in a build with the `cuda` feature.
//!
//! Without a GPU (CI links and runs against the stub driver of scripts/libcuda-stub.sh) every
//! entry point must answer `NoDisponible` with the reason, and never panic. With one, the GPU's
//! counts must equal `Secuencial`'s (the self-test `autoprueba` checks far more sizes).
//! `KERNELS_CUDA_ESPERADO=stub` or `=gpu` makes the tests insist on one case, so that the
//! other cannot pass unnoticed.

#![cfg(feature = "cuda")]

use comun::Algoritmo;
use comun::trabajo::{Parametros, ParamsJulia};
use kernels::ErrorKernel;

/// Which case the environment insists on, if any.
fn esperado() -> Option<String> {
    std::env::var("KERNELS_CUDA_ESPERADO").ok()
}

#[test]
fn without_a_gpu_every_entry_point_says_why() {
    let motivo = match kernels::gpu() {
        Ok(gpu) => {
            assert_ne!(esperado().as_deref(), Some("stub"), "found a GPU: {gpu:?}");
            eprintln!("a GPU is present ({}): nothing to check here", gpu.nombre);
            return;
        }
        Err(motivo) => motivo,
    };
    assert_ne!(esperado().as_deref(), Some("gpu"), "no GPU: {motivo}");
    assert!(
        motivo.contains("driver") || motivo.contains("GPU"),
        "{motivo}"
    );
    if esperado().as_deref() == Some("stub") {
        assert!(
            motivo.contains("stub") && motivo.contains("CUDA_ERROR_STUB_LIBRARY"),
            "{motivo}"
        );
    }

    let p = ParamsJulia::new(4, 4, 10).unwrap();
    match kernels::julia(&p, Algoritmo::Cuda) {
        Err(ErrorKernel::NoDisponible(m)) => assert_eq!(m, motivo),
        otro => panic!("expected NoDisponible, got {otro:?}"),
    }
    match kernels::ejecutar(&Parametros::Julia(p), Algoritmo::Cuda) {
        Err(e @ ErrorKernel::NoDisponible(_)) => {
            assert!(e.to_string().contains(&motivo), "{e}");
        }
        otro => panic!("expected NoDisponible, got {otro:?}"),
    }
    let dispositivo = kernels::dispositivo(Algoritmo::Cuda);
    assert_eq!(dispositivo, format!("cuda: not available ({motivo})"));
    // Asking again gives the same answer (the detection is done once), and the CPU still works.
    assert_eq!(kernels::gpu(), Err(motivo));
    assert!(kernels::julia(&p, Algoritmo::Paralelo).is_ok());
}

#[test]
fn with_a_gpu_cuda_equals_secuencial() {
    if let Err(motivo) = kernels::gpu() {
        assert_ne!(esperado().as_deref(), Some("gpu"), "no GPU: {motivo}");
        eprintln!("no GPU ({motivo}): nothing to check here");
        return;
    }
    for (width, height) in [(1, 1), (7, 1), (1, 7), (33, 31), (1021, 37), (640, 480)] {
        for iteraciones in [1, 2, 50, 300] {
            let p = ParamsJulia::new(width, height, iteraciones).unwrap();
            let cpu = kernels::julia(&p, Algoritmo::Secuencial).unwrap();
            let gpu = kernels::julia(&p, Algoritmo::Cuda).unwrap();
            assert!(
                cpu == gpu,
                "{width}x{height}x{iteraciones}: first difference at pixel {:?}",
                cpu.conteos
                    .iter()
                    .zip(&gpu.conteos)
                    .position(|(a, b)| a != b)
            );
        }
    }
    let dispositivo = kernels::dispositivo(Algoritmo::Cuda);
    assert!(dispositivo.starts_with("cuda: ") && !dispositivo.contains("not available"));
}

#[test]
fn cuda_jobs_from_several_threads_at_once() {
    if let Err(motivo) = kernels::gpu() {
        assert_ne!(esperado().as_deref(), Some("gpu"), "no GPU: {motivo}");
        return;
    }
    // The context is per OS thread: each of these threads must make it current by itself.
    let p = ParamsJulia::new(257, 129, 200).unwrap();
    let cpu = kernels::julia(&p, Algoritmo::Secuencial).unwrap();
    std::thread::scope(|s| {
        let hilos: Vec<_> = (0..4)
            .map(|_| s.spawn(|| kernels::julia(&p, Algoritmo::Cuda).unwrap()))
            .collect();
        for h in hilos {
            assert_eq!(h.join().unwrap(), cpu);
        }
    });
}
