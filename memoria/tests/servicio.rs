//! The memoria over real HTTP on loopback, with scripted samples and a fake maestro that
//! records the reports it gets.

mod apoyo;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use apoyo::{Guion, MaestroFalso, MemoriaDePrueba, PLAZO, config};
use axum::http::StatusCode;
use comun::memoria::{
    Alertas, Disco, GpuMuestra, Historial, Muestra, Nivel, Recurso, ReporteMemoria,
};
use pruebas::Falso as _;
use pruebas::esperar_hasta;
use serde_json::json;
use tokio::net::TcpListener;

fn con_cpu(cpu: f64) -> Muestra {
    Muestra {
        cpu_porcentaje: cpu,
        memoria_usada: 1 << 30,
        memoria_total: 8 << 30,
        ..Muestra::default()
    }
}

/// The CPU alert of a report: its level, if any.
fn nivel_cpu(r: &ReporteMemoria) -> Option<Nivel> {
    r.alertas
        .iter()
        .find(|a| a.recurso == Recurso::Cpu)
        .map(|a| a.nivel)
}

#[tokio::test]
async fn the_history_stays_within_its_bound_over_thousands_of_samples() {
    let guion = Guion::new(con_cpu(10.0));
    let mut c = config(None);
    c.intervalo = Duration::from_millis(1);
    c.historial = 50;
    let m = MemoriaDePrueba::iniciar(c, &guion).await;

    let mut mayor = 0;
    let limite = Instant::now() + PLAZO * 3;
    while guion.llamadas() < 2_000 {
        assert!(Instant::now() < limite, "only {} samples", guion.llamadas());
        let h: Historial = m.get_ok("/historial").await;
        mayor = mayor.max(h.muestras.len());
        assert!(h.muestras.len() <= 50, "{} samples kept", h.muestras.len());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let h: Historial = m.get_ok("/historial").await;
    assert_eq!((h.capacidad, h.muestras.len(), mayor), (50, 50, 50));
    assert_eq!(h.nodo, "nodo-prueba");
    assert!(
        h.muestras
            .windows(2)
            .all(|p| p[0].instante_ms <= p[1].instante_ms),
        "oldest first"
    );
    m.parar().await.unwrap();
}

#[tokio::test]
async fn hysteresis_holds_under_a_value_oscillating_around_a_threshold() {
    let (maestro, url) = MaestroFalso::iniciar().await;
    let guion = Guion::new(con_cpu(10.0));
    // Around the aviso threshold (80), never below 80 - 5.
    guion.ciclar_cpu(vec![79.0, 81.0, 76.0, 84.0, 75.5, 80.0, 75.0]);
    let mut c = config(Some(&url));
    c.intervalo = Duration::from_millis(2);
    let m = MemoriaDePrueba::iniciar(c, &guion).await;

    esperar_hasta(PLAZO, "a report with the aviso arrives", || async {
        maestro
            .reportes()
            .last()
            .is_some_and(|r| nivel_cpu(r) == Some(Nivel::Aviso))
    })
    .await;
    let llamadas = guion.llamadas();
    esperar_hasta(PLAZO * 2, "500 more samples", || async {
        guion.llamadas() >= llamadas + 500
    })
    .await;

    let reportes = maestro.reportes();
    assert!(
        reportes.len() <= 2,
        "the first sample's report, then at most the alert's: {} reports",
        reportes.len()
    );
    let alertas: Alertas = m.get_ok("/alertas").await;
    assert_eq!(alertas.alertas.len(), 1, "{alertas:?}");
    let a = &alertas.alertas[0];
    assert_eq!(
        (&a.recurso, a.nivel, a.umbral),
        (&Recurso::Cpu, Nivel::Aviso, 80.0)
    );
    let desde_reportado = reportes.last().unwrap().alertas[0].desde_ms;
    assert_eq!(a.desde_ms, desde_reportado, "the same alert all along");
    m.parar().await.unwrap();
}

#[tokio::test]
async fn an_alert_starting_or_ending_is_reported_at_once() {
    let (maestro, url) = MaestroFalso::iniciar().await;
    let guion = Guion::new(con_cpu(10.0));
    let mut c = config(Some(&url));
    c.token = Some("secreto".into());
    let m = MemoriaDePrueba::iniciar(c, &guion).await;
    esperar_hasta(PLAZO, "the first report arrives", || async {
        !maestro.reportes().is_empty()
    })
    .await;

    guion.fijar_cpu(99.0);
    let inicio = Instant::now();
    esperar_hasta(PLAZO, "the crítico is reported", || async {
        maestro.recibidos().len() == 2
    })
    .await;
    let segundo = maestro.recibidos()[1].clone();
    assert_eq!(nivel_cpu(&segundo.reporte), Some(Nivel::Critico));
    let demora = segundo.llegada - inicio;
    assert!(
        demora < Duration::from_secs(2),
        "reported {demora:?} after the change, with a one-hour period"
    );

    guion.fijar_cpu(10.0);
    esperar_hasta(PLAZO, "the end is reported", || async {
        maestro.recibidos().len() == 3
    })
    .await;
    m.parar().await.unwrap();

    let recibidos = maestro.recibidos();
    let tercero = &recibidos[2].reporte;
    assert!(tercero.alertas.is_empty(), "{tercero:?}");
    let primero = &recibidos[0].reporte;
    assert!(primero.alertas.is_empty());
    for r in recibidos.iter() {
        assert_eq!(r.autorizacion.as_deref(), Some("Bearer secreto"));
        assert_eq!(
            (r.reporte.nodo.as_str(), r.reporte.muestra.nodo.as_str()),
            ("nodo-prueba", "nodo-prueba")
        );
        assert_eq!(r.reporte.instancia, primero.instancia);
        assert_eq!(r.reporte.intervalo_ms, 3_600_000);
    }
}

#[tokio::test]
async fn reports_also_come_every_interval_when_nothing_changes() {
    let (maestro, url) = MaestroFalso::iniciar().await;
    let guion = Guion::new(con_cpu(10.0));
    let mut c = config(Some(&url));
    c.intervalo_reporte = Duration::from_millis(30);
    let m = MemoriaDePrueba::iniciar(c, &guion).await;
    esperar_hasta(PLAZO, "5 reports arrive", || async {
        maestro.reportes().len() >= 5
    })
    .await;
    m.parar().await.unwrap();
    let reportes = maestro.reportes();
    assert!(reportes.iter().all(|r| r.alertas.is_empty()));
    assert!(
        reportes
            .windows(2)
            .all(|p| p[0].muestra.instante_ms <= p[1].muestra.instante_ms)
    );
}

#[tokio::test]
async fn the_reporter_retries_while_the_maestro_is_away_and_then_sends_the_latest_state() {
    let direccion = pruebas::direccion_libre();
    let guion = Guion::new(con_cpu(10.0));
    let m = MemoriaDePrueba::iniciar(config(Some(&format!("http://{direccion}"))), &guion).await;
    // While the maestro is away the memoria keeps sampling and serving, and an alert starts.
    esperar_hasta(PLAZO, "a few samples", || async { guion.llamadas() >= 10 }).await;
    guion.fijar_cpu(99.0);
    esperar_hasta(PLAZO, "the alert starts", || async {
        let a: Alertas = m.get_ok("/alertas").await;
        !a.alertas.is_empty()
    })
    .await;

    let maestro = Arc::new(MaestroFalso::default());
    maestro.servir(TcpListener::bind(direccion).await.unwrap());
    esperar_hasta(PLAZO, "a report arrives once the maestro is up", || async {
        !maestro.reportes().is_empty()
    })
    .await;
    m.parar().await.unwrap();
    let primero = maestro.reportes().remove(0);
    assert_eq!(
        nivel_cpu(&primero),
        Some(Nivel::Critico),
        "the first report delivered is the latest state, not the one from before the alert"
    );
}

#[tokio::test]
async fn a_maestro_answering_errors_is_retried_until_it_takes_the_report() {
    let (maestro, url) = MaestroFalso::iniciar().await;
    maestro.fallar.store(4, Ordering::SeqCst);
    let guion = Guion::new(con_cpu(10.0));
    let m = MemoriaDePrueba::iniciar(config(Some(&url)), &guion).await;
    esperar_hasta(PLAZO, "a report is taken", || async {
        !maestro.reportes().is_empty()
    })
    .await;
    m.parar().await.unwrap();
    assert_eq!(maestro.rechazados.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn metricas_historial_and_alertas_show_what_was_sampled() {
    let muestra = Muestra {
        cpu_porcentaje: 12.5,
        carga_1: 0.5,
        carga_5: 0.25,
        carga_15: 0.125,
        memoria_usada: 3 << 30,
        memoria_total: 4 << 30,
        swap_usada: 0,
        swap_total: 0,
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
                memoria_usada: 90,
                memoria_total: 100,
                utilizacion: 100.0,
                temperatura_c: None,
                pci: "0000:17:00.0".into(),
            },
            GpuMuestra {
                indice: 1,
                nombre: "NVIDIA A100".into(),
                memoria_usada: 10,
                memoria_total: 100,
                utilizacion: 3.0,
                temperatura_c: Some(40.0),
                pci: String::new(),
            },
        ],
        ..Muestra::default()
    };
    let guion = Guion::new(muestra.clone());
    let m = MemoriaDePrueba::iniciar(config(None), &guion).await;
    esperar_hasta(PLAZO, "5 samples", || async { guion.llamadas() >= 5 }).await;

    let (estado, ping) = m.get("/ping").await;
    assert_eq!(estado, StatusCode::OK);
    assert_eq!(ping["servicio"], "memoria");

    let (estado, metricas) = m.get("/metricas").await;
    assert_eq!(estado, StatusCode::OK);
    assert_eq!(metricas["nodo"], "nodo-prueba");
    assert!(metricas["instante_ms"].as_u64().unwrap() > 1_600_000_000_000);
    let mut esperado = serde_json::to_value(&muestra).unwrap();
    esperado["nodo"] = metricas["nodo"].clone();
    esperado["instante_ms"] = metricas["instante_ms"].clone();
    assert_eq!(metricas, esperado);
    assert_eq!(
        metricas["discos"][1],
        json!({"punto_montaje": "/datos", "usado": 99, "total": 100})
    );
    assert_eq!(
        metricas["gpus"],
        json!([
            {"indice": 0, "nombre": "NVIDIA H100", "memoria_usada": 90, "memoria_total": 100,
             "utilizacion": 100.0, "pci": "0000:17:00.0"},
            {"indice": 1, "nombre": "NVIDIA A100", "memoria_usada": 10, "memoria_total": 100,
             "utilizacion": 3.0, "temperatura_c": 40.0}
        ]),
        "each GPU under its index; what the driver did not say is left out"
    );

    let (_, alertas) = m.get("/alertas").await;
    assert_eq!(alertas["nodo"], "nodo-prueba");
    let alertas = alertas["alertas"].as_array().unwrap().clone();
    let resumen: Vec<_> = alertas
        .iter()
        .map(|a| {
            (
                a["recurso"].clone(),
                a["nivel"].clone(),
                a["umbral"].clone(),
            )
        })
        .collect();
    assert_eq!(
        resumen,
        [
            (
                json!({"tipo": "disco", "punto_montaje": "/datos"}),
                json!("critico"),
                json!(95.0)
            ),
            (
                json!({"tipo": "gpu_memoria", "indice": 0}),
                json!("aviso"),
                json!(85.0)
            ),
        ],
        "the memory at 75% is under its aviso (80), and swap is absent"
    );
    assert!(
        alertas
            .iter()
            .all(|a| a["desde_ms"].as_u64().is_some() && a["valor"].is_number())
    );

    let todas: Historial = m.get_ok("/historial").await;
    assert!(todas.muestras.len() >= 5);
    let tercera = todas.muestras[2].clone();
    let desde: Historial = m
        .get_ok(&format!("/historial?desde={}", tercera.instante_ms))
        .await;
    assert_eq!(desde.muestras[0], tercera);
    assert!(
        desde
            .muestras
            .iter()
            .all(|s| s.instante_ms >= tercera.instante_ms)
    );
    let futuro: Historial = m.get_ok("/historial?desde=99999999999999").await;
    assert!(futuro.muestras.is_empty());

    for malo in ["desde=ayer", "desde=-1", "desde=1.5", "desde="] {
        let (estado, cuerpo) = m.get(&format!("/historial?{malo}")).await;
        assert_eq!(estado, StatusCode::BAD_REQUEST, "{malo}: {cuerpo}");
        assert_eq!(cuerpo["campo"], "desde", "{malo}: {cuerpo}");
    }
    m.parar().await.unwrap();
}

#[tokio::test]
async fn a_standalone_memoria_serves_and_stops_cleanly() {
    let guion = Guion::new(con_cpu(10.0));
    let m = MemoriaDePrueba::iniciar(config(None), &guion).await;
    esperar_hasta(PLAZO, "a sample is served", || async {
        m.get("/metricas").await.0 == StatusCode::OK
    })
    .await;
    tokio::time::timeout(PLAZO, m.parar())
        .await
        .expect("stops promptly")
        .unwrap();
}

#[tokio::test]
async fn the_first_metricas_after_start_answers_200_with_the_first_sample() {
    let guion = Guion::new(con_cpu(42.0));
    let mut c = config(None);
    // The next sample is an hour away: only the one taken before serving can answer.
    c.intervalo = Duration::from_secs(3600);
    let m = MemoriaDePrueba::iniciar(c, &guion).await;
    let muestra: Muestra = m.get_ok("/metricas").await;
    assert_eq!(muestra.cpu_porcentaje, 42.0);
    assert_eq!(muestra.nodo, "nodo-prueba");
    assert_eq!(
        guion.llamadas(),
        1,
        "one sample, taken before the service answered"
    );
    let h: Historial = m.get_ok("/historial").await;
    assert_eq!(h.muestras.len(), 1);
    m.parar().await.unwrap();
}
