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

/// The four other kernels: `NoDisponible` with the same reason without a GPU; with one, the
/// agreement each module promises (exact for vector_add and montecarlo, within tolerance for
/// matmul and nbody).
#[test]
fn the_other_kernels_on_cuda() {
    use comun::trabajo::{ParamsMatmul, ParamsMontecarlo, ParamsNbody, ParamsVectorAdd};
    use kernels::{matmul, montecarlo, nbody, vector_add};

    let trabajos = [
        Parametros::Matmul(ParamsMatmul::new(5, 1).unwrap()),
        Parametros::VectorAdd(ParamsVectorAdd::new(5, 1).unwrap()),
        Parametros::Montecarlo(ParamsMontecarlo::new(5, 1).unwrap()),
        Parametros::Nbody(ParamsNbody::new(5, 1, 1).unwrap()),
    ];
    if let Err(motivo) = kernels::gpu() {
        assert_ne!(esperado().as_deref(), Some("gpu"), "no GPU: {motivo}");
        for p in &trabajos {
            match kernels::ejecutar(p, Algoritmo::Cuda) {
                Err(ErrorKernel::NoDisponible(m)) => assert_eq!(m, motivo),
                otro => panic!("{p:?}: expected NoDisponible, got {otro:?}"),
            }
        }
        return;
    }
    for n in [1, 2, 7, 128, 129, 300, 512] {
        let p = ParamsMatmul::new(n, 2).unwrap();
        let cpu = matmul::matmul(&p, Algoritmo::Secuencial).unwrap();
        let gpu = matmul::matmul(&p, Algoritmo::Cuda).unwrap();
        let d = matmul::diferencia_relativa(&cpu.c, &gpu.c);
        assert!(d <= 1e-5, "matmul n = {n}: {d}");
    }
    for n in [1, 3, 4, 5, 1000, 1 << 20, (1 << 20) + 3] {
        let p = ParamsVectorAdd::new(n, 2).unwrap();
        let cpu = vector_add::vector_add(&p, Algoritmo::Secuencial).unwrap();
        let gpu = vector_add::vector_add(&p, Algoritmo::Cuda).unwrap();
        assert!(cpu.c == gpu.c, "vector_add n = {n}");
    }
    for muestras in [1, 2, 3, 1001, 1 << 20, 10_000_019] {
        let p = ParamsMontecarlo::new(muestras, 0xabc_def).unwrap();
        let cpu = montecarlo::montecarlo(&p, Algoritmo::Paralelo).unwrap();
        let gpu = montecarlo::montecarlo(&p, Algoritmo::Cuda).unwrap();
        assert_eq!(cpu.dentro, gpu.dentro, "montecarlo {muestras}");
    }
    for particulas in [1, 2, 17, 255, 256, 257, 1000] {
        let p = ParamsNbody::new(particulas, 10, 9).unwrap();
        let cpu = nbody::nbody(&p, Algoritmo::Paralelo).unwrap();
        let gpu = nbody::nbody(&p, Algoritmo::Cuda).unwrap();
        let d = (gpu.energia_final - cpu.energia_final).abs() / cpu.energia_final.abs();
        assert!(d <= 1e-4, "nbody {particulas}: {d}");
    }
}

/// Every kernel that predates issue 11 reports its kernel time in `duracion_s` and, on `Cuda`
/// only, its time with copies in `duracion_con_copias_s`, at least as long.
#[test]
fn cuda_jobs_report_the_kernel_time_and_the_time_with_copies() {
    use comun::trabajo::{ParamsMatmul, ParamsMontecarlo, ParamsNbody, ParamsVectorAdd};

    let trabajos = [
        Parametros::Julia(ParamsJulia::new(300, 200, 100).unwrap()),
        Parametros::Matmul(ParamsMatmul::new(64, 2).unwrap()),
        Parametros::VectorAdd(ParamsVectorAdd::new(1 << 16, 2).unwrap()),
        Parametros::Montecarlo(ParamsMontecarlo::new(1 << 20, 3).unwrap()),
        Parametros::Nbody(ParamsNbody::new(256, 3, 1).unwrap()),
    ];
    for p in &trabajos {
        let cpu = kernels::ejecutar(p, Algoritmo::Paralelo).unwrap().resultado;
        assert_eq!(cpu.duracion_con_copias_s, None, "{p:?} on the CPU");
    }
    if let Err(motivo) = kernels::gpu() {
        assert_ne!(esperado().as_deref(), Some("gpu"), "no GPU: {motivo}");
        return;
    }
    for p in &trabajos {
        let r = kernels::ejecutar(p, Algoritmo::Cuda).unwrap().resultado;
        let con_copias = r
            .duracion_con_copias_s
            .expect("a Cuda job's time with copies");
        assert!(
            r.duracion_s > 0.0 && con_copias >= r.duracion_s,
            "{p:?}: kernel {} s, with copies {con_copias} s",
            r.duracion_s
        );
    }
}

/// Results of 8 MiB and more come back through the pinned halves: equal to the CPU's.
#[test]
fn large_results_come_back_through_pinned_staging_unchanged() {
    use comun::trabajo::ParamsVectorAdd;
    use kernels::vector_add;

    if let Err(motivo) = kernels::gpu() {
        assert_ne!(esperado().as_deref(), Some("gpu"), "no GPU: {motivo}");
        return;
    }
    assert_eq!(
        kernels::cuda::UMBRAL_ETAPA,
        8 << 20,
        "the sizes below straddle it"
    );
    // 16 MiB + 12 bytes: two full halves' worth of pieces and a ragged end; 8 MiB − 4 bytes.
    for n in [(1 << 22) + 3, (1 << 21) - 1] {
        let p = ParamsVectorAdd::new(n, 1).unwrap();
        let cpu = vector_add::vector_add(&p, Algoritmo::Paralelo).unwrap();
        let gpu = vector_add::vector_add(&p, Algoritmo::Cuda).unwrap();
        assert!(cpu.c == gpu.c, "vector_add n = {n}");
    }
    let p = ParamsJulia::new(2048, 1031, 20).unwrap();
    let cpu = kernels::julia(&p, Algoritmo::Paralelo).unwrap();
    assert!(
        cpu == kernels::julia(&p, Algoritmo::Cuda).unwrap(),
        "8.3 MB of counts"
    );
}

/// Every GPU the backend can use computes the same counts, chosen per thread with `en_gpu`;
/// without a driver, every device answers why there is none.
#[test]
fn every_gpu_is_used_when_its_thread_chooses_it() {
    let gpus = match kernels::gpus() {
        Ok(gpus) => gpus,
        Err(motivo) => {
            assert_ne!(esperado().as_deref(), Some("gpu"), "no GPU: {motivo}");
            assert_eq!(kernels::en_gpu(3, kernels::gpu), Err(motivo));
            return;
        }
    };
    assert!(!gpus.usables.is_empty(), "left out: {:?}", gpus.descartadas);
    let p = ParamsJulia::new(129, 65, 100).unwrap();
    let cpu = kernels::julia(&p, Algoritmo::Secuencial).unwrap();
    for g in &gpus.usables {
        let (conteos, dispositivo) = kernels::en_gpu(g.indice, || {
            let conteos = kernels::julia(&p, Algoritmo::Cuda).unwrap();
            (conteos, kernels::dispositivo(Algoritmo::Cuda))
        });
        assert_eq!(conteos, cpu, "GPU {}", g.indice);
        assert!(
            dispositivo.contains(&format!("(GPU {}, ", g.indice)),
            "{dispositivo}"
        );
    }
    let fuera = gpus.usables.len() as u32 + gpus.descartadas.len() as u32;
    let e = kernels::en_gpu(fuera, || kernels::julia(&p, Algoritmo::Cuda)).unwrap_err();
    assert!(
        e.to_string().contains(&format!("no CUDA device {fuera}")),
        "{e}"
    );
}
