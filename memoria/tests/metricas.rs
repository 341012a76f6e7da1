//! `GET /metrics` of a running memoria with scripted samples: every sampled value under its
//! name and unit, per filesystem and per GPU, the active alerts exactly as `/alertas` lists
//! them (and gone once they end), the samples counted, bounded labels, and the token rules of
//! reads.

mod apoyo;

use std::time::Duration;

use apoyo::{Guion, MemoriaDePrueba, PLAZO, config};
use axum::http::StatusCode;
use comun::memoria::{Alertas, Disco, GpuMuestra, Muestra};
use pruebas::esperar_hasta;
use pruebas::metricas::{Exposicion, raspar};

const GIB: u64 = 1 << 30;

fn muestra(cpu: f64) -> Muestra {
    Muestra {
        cpu_porcentaje: cpu,
        carga_1: 3.5,
        carga_5: 2.25,
        carga_15: 1.125,
        memoria_usada: 3 * GIB,
        memoria_total: 4 * GIB,
        swap_usada: GIB,
        swap_total: 2 * GIB,
        discos: vec![
            Disco {
                punto_montaje: "/".into(),
                usado: 10,
                total: 100,
            },
            Disco {
                punto_montaje: "/datos".into(),
                usado: 99,
                total: 100,
            },
        ],
        gpus: vec![
            GpuMuestra {
                indice: 0,
                nombre: "NVIDIA H100".into(),
                memoria_usada: 90 * GIB,
                memoria_total: 100 * GIB,
                utilizacion: 75.0,
                temperatura_c: Some(71.0),
                pci: "0000:17:00.0".into(),
            },
            GpuMuestra {
                indice: 1,
                nombre: "NVIDIA H100".into(),
                memoria_usada: GIB,
                memoria_total: 100 * GIB,
                utilizacion: 0.0,
                temperatura_c: None,
                pci: "0000:65:00.0".into(),
            },
        ],
        ..Muestra::default()
    }
}

/// Every series is `hpc_memoria_*` of node `nodo-prueba`, with bounded labels.
fn acotada(e: &Exposicion) {
    let conocidas = [
        "punto_montaje",
        "gpu",
        "nombre",
        "recurso",
        "nivel",
        "route",
        "method",
        "status",
        "le",
    ];
    e.comprobar_etiquetas("hpc_memoria_", &conocidas, Some(("nodo", "nodo-prueba")));
}

/// The alerts as `/alertas` lists them, as `(recurso, nivel)` labels.
async fn alertas(m: &MemoriaDePrueba) -> Vec<(String, String)> {
    let a: Alertas = m.get_ok("/alertas").await;
    let pares = a.alertas.iter();
    pares
        .map(|a| (a.recurso.to_string(), a.nivel.to_string()))
        .collect()
}

#[tokio::test]
async fn every_sampled_value_and_active_alert_is_exposed_under_its_name() {
    let guion = Guion::new(muestra(97.0));
    let mut c = config(None);
    // One sample, then none for an hour: the figures are exactly that sample's.
    c.intervalo = Duration::from_secs(3600);
    let m = MemoriaDePrueba::iniciar(c, &guion).await;
    let e = pruebas::esperar_a(PLAZO, "the first sample is counted", || async {
        let e = raspar(&m.url, None).await;
        (e.valor("hpc_memoria_samples_total", &[]) == 1.0).then_some(e)
    })
    .await;
    acotada(&e);
    pruebas::metricas::comprobar_documentacion(&e, "hpc_memoria_");
    assert_eq!(guion.llamadas(), 1);
    let v = |nombre: &str, et: &[(&str, &str)]| e.valor(&format!("hpc_memoria_{nombre}"), et);
    assert_eq!(v("cpu_usage_ratio", &[]), 0.97);
    assert_eq!(
        (v("load1", &[]), v("load5", &[]), v("load15", &[])),
        (3.5, 2.25, 1.125)
    );
    assert_eq!(v("memory_used_bytes", &[]), (3 * GIB) as f64);
    assert_eq!(v("memory_total_bytes", &[]), (4 * GIB) as f64);
    assert_eq!(v("swap_used_bytes", &[]), GIB as f64);
    assert_eq!(v("swap_total_bytes", &[]), (2 * GIB) as f64);
    assert_eq!(v("disk_used_bytes", &[("punto_montaje", "/datos")]), 99.0);
    assert_eq!(v("disk_total_bytes", &[("punto_montaje", "/")]), 100.0);
    let gpu = [("gpu", "0"), ("nombre", "NVIDIA H100")];
    assert_eq!(v("gpu_memory_used_bytes", &gpu), (90 * GIB) as f64);
    assert_eq!(v("gpu_memory_total_bytes", &gpu), (100 * GIB) as f64);
    assert_eq!(v("gpu_utilization_ratio", &gpu), 0.75);
    assert_eq!(v("gpu_temperature_celsius", &gpu), 71.0);
    let otra = [("gpu", "1"), ("nombre", "NVIDIA H100")];
    assert_eq!(v("gpu_memory_used_bytes", &otra), GIB as f64);
    assert_eq!(v("gpu_utilization_ratio", &otra), 0.0);
    assert!(
        !e.hay("hpc_memoria_gpu_temperature_celsius", &otra),
        "no temperature from the driver: no series"
    );
    assert_eq!(e.de("hpc_memoria_gpu_memory_total_bytes", &[]).count(), 2);
    assert!(v("sample_timestamp_seconds", &[]) > 1_600_000_000.0);

    let activas = alertas(&m).await;
    assert!(
        activas.len() >= 3,
        "cpu, /datos and the first GPU's memory: {activas:?}"
    );
    assert!(activas.iter().any(|(r, _)| r == "gpu_memoria 0"));
    assert!(
        !activas.iter().any(|(r, _)| r == "gpu_memoria 1"),
        "{activas:?}"
    );
    assert_eq!(e.de("hpc_memoria_alerts", &[]).count(), activas.len());
    for (recurso, nivel) in &activas {
        let et = [("recurso", recurso.as_str()), ("nivel", nivel.as_str())];
        assert_eq!(v("alerts", &et), 1.0, "{recurso} {nivel}");
    }
    m.parar().await.unwrap();
}

#[tokio::test]
async fn an_alert_that_ends_leaves_no_series_and_samples_are_counted() {
    let guion = Guion::new(muestra(97.0));
    let m = MemoriaDePrueba::iniciar(config(None), &guion).await;
    let cpu = [("recurso", "cpu")];
    esperar_hasta(PLAZO, "a cpu alert is exposed", || async {
        raspar(&m.url, None).await.hay("hpc_memoria_alerts", &cpu)
    })
    .await;
    guion.fijar_cpu(5.0);
    esperar_hasta(PLAZO, "the cpu alert's series is gone", || async {
        let e = raspar(&m.url, None).await;
        !e.hay("hpc_memoria_alerts", &cpu) && e.valor("hpc_memoria_cpu_usage_ratio", &[]) == 0.05
    })
    .await;
    assert!(!alertas(&m).await.iter().any(|(r, _)| r == "cpu"));
    let antes = guion.llamadas();
    let e = raspar(&m.url, None).await;
    let despues = guion.llamadas();
    let contadas = e.valor("hpc_memoria_samples_total", &[]);
    // A sample is counted once kept, just after the source is asked for it.
    assert!(
        (antes.saturating_sub(1) as f64..=despues as f64).contains(&contadas),
        "{antes} ≤ {contadas} ≤ {despues}"
    );
    m.parar().await.unwrap();
}

#[tokio::test]
async fn metrics_follow_the_token_rules_of_reads() {
    let guion = Guion::new(muestra(10.0));
    let mut c = config(None);
    c.token = Some("s3creto".into());
    let m = MemoriaDePrueba::iniciar(c.clone(), &guion).await;
    let (estado, _) = m.get("/metrics").await;
    assert_eq!(estado, StatusCode::UNAUTHORIZED);
    let e = raspar(&m.url, Some("s3creto")).await;
    let rechazo = [("route", "/metrics"), ("status", "401")];
    assert_eq!(e.valor("hpc_memoria_http_requests_total", &rechazo), 1.0);
    m.parar().await.unwrap();

    c.lecturas_abiertas = true;
    let m = MemoriaDePrueba::iniciar(c, &guion).await;
    raspar(&m.url, None).await;
    m.parar().await.unwrap();
}
