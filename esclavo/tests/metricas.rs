//! `GET /metrics` of a running esclavo, against the fake maestro: attempts counted by tipo and
//! outcome exactly as they ended (completed, failed at their time limit, cancelled), kernel
//! time by tipo and backend, busy slots and results waiting for a maestro that refuses them,
//! bounded labels, and the token rules of reads.

#[allow(dead_code)]
mod apoyo;

use std::sync::atomic::Ordering;

use apoyo::{EsclavoDePrueba, MaestroFalso, PLAZO, config};
use axum::http::StatusCode;
use pruebas::Falso as _;
use pruebas::esperar_hasta;
use pruebas::metricas::{Exposicion, raspar};
use serde_json::json;

fn espera(id: u64, ms: u64, plazo_ms: u64) -> serde_json::Value {
    json!({"id": id, "intento": 1, "tipo": "espera", "ms": ms, "algoritmo": "Secuencial",
           "plazo_ms": plazo_ms})
}

fn julia(id: u64) -> serde_json::Value {
    json!({"id": id, "intento": 1, "tipo": "julia", "width": 16, "height": 16,
           "iteraciones": 20, "algoritmo": "Paralelo"})
}

fn peticion(trabajos: Vec<serde_json::Value>) -> serde_json::Value {
    json!({ "trabajos": trabajos })
}

const TRABAJOS: &str = "hpc_esclavo_jobs_total";

fn trabajos(e: &Exposicion, tipo: &str, estado: &str) -> f64 {
    e.valor(TRABAJOS, &[("tipo", tipo), ("estado", estado)])
}

/// Every series is `hpc_esclavo_*` of `e-prueba`, with bounded labels.
fn acotada(e: &Exposicion) {
    let conocidas = [
        "tipo", "estado", "backend", "gpu", "route", "method", "status", "le",
    ];
    e.comprobar_etiquetas("hpc_esclavo_", &conocidas, Some(("esclavo", "e-prueba")));
}

#[tokio::test]
async fn attempts_count_by_tipo_and_outcome_and_results_wait_for_the_maestro() {
    let (maestro, url) = MaestroFalso::iniciar().await;
    maestro.fallar_resultados.store(u32::MAX, Ordering::SeqCst);
    let mut c = config(&url);
    c.capacidad = 4;
    // A described GPU, so its slot series exist (no job here runs on it).
    c.gpus = Some(vec![comun::nodo::Gpu {
        indice: 2,
        nombre: "NVIDIA H100".into(),
        memoria_bytes: 80 << 30,
        capacidad_computo: "9.0".into(),
        driver: "550".into(),
        pci: String::new(),
        limites: None,
    }]);
    let e = EsclavoDePrueba::iniciar(c).await;
    esperar_hasta(PLAZO, "registered", || async {
        raspar(&e.url, None)
            .await
            .valor("hpc_esclavo_registered", &[])
            == 1.0
    })
    .await;

    let (estado, _) = e.ejecutar(peticion(vec![espera(1, 60_000, 0)])).await;
    assert_eq!(estado, StatusCode::OK);
    let ocupado = raspar(&e.url, None).await;
    acotada(&ocupado);
    assert_eq!(ocupado.valor("hpc_esclavo_slots", &[]), 4.0);
    assert_eq!(ocupado.valor("hpc_esclavo_slots_busy", &[]), 1.0);
    assert_eq!(ocupado.valor("hpc_esclavo_gpu_slots", &[("gpu", "2")]), 1.0);
    assert_eq!(
        ocupado.valor("hpc_esclavo_gpu_slots_busy", &[("gpu", "2")]),
        0.0
    );
    e.cancelar(&[1]).await;

    let lote = vec![
        espera(2, 0, 0),
        espera(3, 0, 0),
        espera(4, 60_000, 30),
        julia(5),
    ];
    let (estado, cuerpo) = e.ejecutar(peticion(lote)).await;
    assert_eq!(estado, StatusCode::OK, "{cuerpo}");
    let fin = pruebas::esperar_a(PLAZO, "five attempts ended", || async {
        let m = raspar(&e.url, None).await;
        (m.valor(TRABAJOS, &[]) == 5.0).then_some(m)
    })
    .await;
    acotada(&fin);
    pruebas::metricas::comprobar_documentacion(&fin, "hpc_esclavo_");
    assert_eq!(trabajos(&fin, "espera", "completado"), 2.0);
    assert_eq!(trabajos(&fin, "espera", "fallido"), 1.0, "its time limit");
    assert_eq!(trabajos(&fin, "espera", "cancelado"), 1.0);
    assert_eq!(trabajos(&fin, "julia", "completado"), 1.0);
    let kernel = "hpc_esclavo_kernel_seconds_count";
    let espera_cpu = [("tipo", "espera"), ("backend", "Secuencial")];
    assert_eq!(fin.valor(kernel, &espera_cpu), 2.0, "completed ones only");
    let julia_paralelo = [("tipo", "julia"), ("backend", "Paralelo")];
    assert_eq!(fin.valor(kernel, &julia_paralelo), 1.0);
    assert_eq!(fin.valor(kernel, &[]), 3.0);
    assert_eq!(fin.valor("hpc_esclavo_slots_busy", &[]), 0.0);
    assert_eq!(fin.valor("hpc_esclavo_results_pending", &[]), 5.0);
    let ejecutar = [
        ("route", "/ejecutar"),
        ("method", "POST"),
        ("status", "200"),
    ];
    assert_eq!(fin.valor("hpc_esclavo_http_requests_total", &ejecutar), 2.0);

    maestro.fallar_resultados.store(0, Ordering::SeqCst);
    esperar_hasta(PLAZO, "the maestro took every result", || async {
        raspar(&e.url, None)
            .await
            .valor("hpc_esclavo_results_pending", &[])
            == 0.0
    })
    .await;
    assert_eq!(maestro.recibido().resultados.len(), 5);
    e.parar().await.unwrap();
}

#[tokio::test]
async fn metrics_follow_the_token_rules_of_reads() {
    let (_maestro, url) = MaestroFalso::iniciar().await;
    let mut c = config(&url);
    c.token = Some("s3creto".into());
    let e = EsclavoDePrueba::iniciar(c.clone()).await;
    let r = e
        .http
        .get(format!("{}/metrics", e.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    raspar(&e.url, Some("s3creto")).await;
    e.parar().await.unwrap();

    c.lecturas_abiertas = true;
    let e = EsclavoDePrueba::iniciar(c).await;
    raspar(&e.url, None).await;
    e.parar().await.unwrap();
}
