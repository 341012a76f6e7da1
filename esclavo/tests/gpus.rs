//! An esclavo offering described GPUs (`Config::gpus`, the test seam for any number of them on
//! a machine with none), over real HTTP against the fake maestro: it registers each GPU and
//! its slots, runs each `Cuda` job on the least busy free device, refuses one more than its GPU
//! slots while CPU jobs still run, and gives a device back when its job ends.
//!
//! The jobs are `espera` sent as `Cuda`: they hold their GPU slot on a timer, so the
//! bookkeeping is tested without a GPU.

#[allow(dead_code)]
mod apoyo;

use std::sync::Arc;

use apoyo::{EsclavoDePrueba, MaestroFalso, PLAZO, config};
use axum::http::StatusCode;
use comun::nodo::{Gpu, Registro};
use esclavo::GpuEnUso;
use pruebas::Falso as _;
use pruebas::esperar_hasta;
use serde_json::json;

const GIB: u64 = 1 << 30;

fn gpu(indice: u32, nombre: &str, memoria_gib: u64) -> Gpu {
    Gpu {
        indice,
        nombre: nombre.into(),
        memoria_bytes: memoria_gib * GIB,
        capacidad_computo: "9.0".into(),
        driver: "550.54.15 (CUDA 12.4)".into(),
        pci: format!("0000:{:02x}:00.0", 0x17 + indice),
        limites: None,
    }
}

/// An `espera` of `ms` as `algoritmo`.
fn espera(id: u64, ms: u64, algoritmo: &str) -> serde_json::Value {
    json!({"id": id, "intento": 1, "tipo": "espera", "ms": ms, "algoritmo": algoritmo})
}

/// An esclavo with `gpus` described, `por_gpu` slots on each and `capacidad` job slots,
/// registered with a fake maestro.
async fn con_gpus(
    gpus: Vec<Gpu>,
    por_gpu: u32,
    capacidad: u32,
) -> (EsclavoDePrueba, Arc<MaestroFalso>) {
    let (maestro, url) = MaestroFalso::iniciar().await;
    let mut c = config(&url);
    c.gpus = Some(gpus);
    c.ranuras_por_gpu = por_gpu;
    c.capacidad = capacidad;
    let e = EsclavoDePrueba::iniciar(c).await;
    esperar_hasta(PLAZO, "the esclavo registers", || async {
        !maestro.recibido().registros.is_empty()
    })
    .await;
    (e, maestro)
}

/// The esclavo's first registration.
fn registro(maestro: &MaestroFalso) -> Registro {
    maestro.recibido().registros[0].clone()
}

/// What each GPU runs, by index, as `/estado` says.
async fn ocupacion(e: &EsclavoDePrueba) -> Vec<(u32, u32)> {
    let gpus: Vec<GpuEnUso> = e.estado().await.gpus;
    gpus.iter().map(|g| (g.indice, g.ejecutando)).collect()
}

#[tokio::test]
async fn every_described_gpu_is_registered_with_its_slots() {
    for (gpus, por_gpu) in [
        (vec![], 1),
        (vec![gpu(0, "NVIDIA H100 80GB HBM3", 80)], 1),
        (
            vec![
                gpu(0, "NVIDIA H100 80GB HBM3", 80),
                gpu(1, "NVIDIA H100 80GB HBM3", 80),
                gpu(3, "Tesla T4", 16),
            ],
            2,
        ),
    ] {
        let (e, maestro) = con_gpus(gpus.clone(), por_gpu, 8).await;
        let r = registro(&maestro);
        assert_eq!(r.capacidades.gpus, gpus);
        assert_eq!(r.capacidad_gpu, gpus.len() as u32 * por_gpu);
        assert_eq!(r.capacidad, 8);
        let estado = e.estado().await;
        let vistas: Vec<(u32, u32, u32)> = estado
            .gpus
            .iter()
            .map(|g| (g.indice, g.ranuras, g.ejecutando))
            .collect();
        let esperadas: Vec<(u32, u32, u32)> = gpus.iter().map(|g| (g.indice, por_gpu, 0)).collect();
        assert_eq!(vistas, esperadas);
        let ping: comun::api::Ping =
            pruebas::api::respuesta(e.http.get(format!("{}/ping", e.url))).await;
        let resumen = ping.sistema.unwrap().gpu;
        let esperado = match gpus.len() {
            0 => None,
            1 => Some("NVIDIA H100 80GB HBM3".to_owned()),
            _ => Some("2 × NVIDIA H100 80GB HBM3, Tesla T4".to_owned()),
        };
        assert_eq!(resumen, esperado);
        e.parar().await.unwrap();
    }
}

#[tokio::test]
async fn each_cuda_job_takes_the_least_busy_free_gpu_and_one_more_is_refused() {
    let gpus = vec![
        gpu(0, "NVIDIA A100 40GB", 40),
        gpu(1, "NVIDIA H100 80GB", 80),
    ];
    let (e, _maestro) = con_gpus(gpus, 1, 4).await;
    let trabajos = json!({"trabajos": [
        espera(1, 60_000, "Cuda"),
        espera(2, 60_000, "Cuda"),
        espera(3, 60_000, "Cuda"),
        espera(4, 60_000, "Secuencial"),
    ]});
    let (estado, r) = e.ejecutar(trabajos).await;
    assert_eq!(estado, StatusCode::OK, "{r}");
    assert_eq!(r["aceptados"], json!([1, 2, 4]), "{r}");
    assert_eq!(r["rechazados"][0]["id"], 3);
    assert_eq!(
        r["rechazados"][0]["motivo"],
        "ocupado: 2/2 GPU slots in use"
    );
    let estado = e.estado().await;
    let dispositivos: Vec<(u64, Option<u32>)> =
        estado.ejecutando.iter().map(|x| (x.id.0, x.gpu)).collect();
    assert_eq!(
        dispositivos,
        [(1, Some(1)), (2, Some(0)), (4, None)],
        "the larger GPU first, then the other; the CPU job on none"
    );
    assert_eq!(ocupacion(&e).await, [(0, 1), (1, 1)]);

    // The job on GPU 1 stops: that device takes the next Cuda job.
    e.cancelar(&[1]).await;
    esperar_hasta(PLAZO, "GPU 1 is free again", || async {
        ocupacion(&e).await == [(0, 1), (1, 0)]
    })
    .await;
    let (_, r) = e
        .ejecutar(json!({"trabajos": [espera(3, 60_000, "Cuda")]}))
        .await;
    assert_eq!(r["aceptados"], json!([3]), "{r}");
    let en_gpu_1 = e
        .estado()
        .await
        .ejecutando
        .iter()
        .find(|x| x.id.0 == 3)
        .and_then(|x| x.gpu);
    assert_eq!(en_gpu_1, Some(1));
    e.parar().await.unwrap();
}

#[tokio::test]
async fn without_a_gpu_a_cuda_job_is_refused_saying_why_and_cpu_jobs_run() {
    let (e, maestro) = con_gpus(Vec::new(), 1, 2).await;
    assert_eq!(registro(&maestro).capacidad_gpu, 0);
    let (_, r) = e
        .ejecutar(json!({"trabajos": [espera(1, 5, "Cuda"), espera(2, 5, "Paralelo")]}))
        .await;
    assert_eq!(r["aceptados"], json!([2]), "{r}");
    let motivo = r["rechazados"][0]["motivo"].as_str().unwrap();
    assert!(
        motivo.starts_with("no GPU on this esclavo (cuda: "),
        "{motivo}"
    );
    e.parar().await.unwrap();
}
