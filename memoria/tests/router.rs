//! The memoria's router alone, through `tower::ServiceExt::oneshot`: no network, no sampler.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use comun::CuerpoError;
use comun::memoria::{Alertas, Historial, Muestra};
use memoria::{Config, Memoria, router};
use serde_json::Value;

fn nueva() -> Arc<Memoria> {
    let mut c = Config::new(None);
    c.nodo = "nodo-router".into();
    Memoria::new(&c)
}

async fn get(memoria: &Arc<Memoria>, ruta: &str) -> (StatusCode, Value) {
    let peticion = Request::get(ruta).body(Body::empty()).unwrap();
    pruebas::sondas::llamar_json(router(Arc::clone(memoria)), peticion).await
}

fn error(v: Value) -> CuerpoError {
    serde_json::from_value(v).unwrap()
}

#[tokio::test]
async fn before_the_first_sample_metricas_is_503_and_the_lists_are_empty() {
    let m = nueva();
    let (estado, cuerpo) = get(&m, "/metricas").await;
    assert_eq!(estado, StatusCode::SERVICE_UNAVAILABLE);
    assert!(error(cuerpo).error.contains("no sample yet"));

    let (estado, cuerpo) = get(&m, "/historial").await;
    assert_eq!(estado, StatusCode::OK);
    let h: Historial = serde_json::from_value(cuerpo).unwrap();
    assert_eq!(
        (h.nodo.as_str(), h.capacidad, h.muestras.len()),
        ("nodo-router", 720, 0)
    );
    let (_, cuerpo) = get(&m, "/alertas").await;
    let a: Alertas = serde_json::from_value(cuerpo).unwrap();
    assert!(a.alertas.is_empty());
    assert!(m.reporte().is_none(), "nothing to report before a sample");
}

#[tokio::test]
async fn a_sample_shows_in_metricas_and_in_the_report() {
    let m = nueva();
    m.registrar(Muestra {
        nodo: "nodo-router".into(),
        instante_ms: 42,
        cpu_porcentaje: 99.0,
        ..Muestra::default()
    });
    let (estado, cuerpo) = get(&m, "/metricas").await;
    assert_eq!(estado, StatusCode::OK);
    assert_eq!(cuerpo["instante_ms"], 42);
    let r = m.reporte().unwrap();
    assert_eq!((r.muestra.instante_ms, r.alertas.len()), (42, 1));
    assert_eq!(r.intervalo_ms, 5_000);
}

#[tokio::test]
async fn a_bad_query_is_400_naming_the_parameter() {
    let m = nueva();
    for (consulta, campo) in [
        ("desde=abc", "desde"),
        ("desde=-3", "desde"),
        ("desde=1&desde=2", "desde"),
        ("hasta=5", "hasta"),
    ] {
        let (estado, cuerpo) = get(&m, &format!("/historial?{consulta}")).await;
        assert_eq!(estado, StatusCode::BAD_REQUEST, "{consulta}");
        let e = error(cuerpo);
        assert_eq!(e.campo.as_deref(), Some(campo), "{consulta}: {}", e.error);
        assert!(e.error.starts_with(campo), "{}", e.error);
    }
}

#[tokio::test]
async fn an_unknown_route_is_a_json_404() {
    let (estado, cuerpo) = get(&nueva(), "/reporte").await;
    assert_eq!(estado, StatusCode::NOT_FOUND);
    assert!(error(cuerpo).error.contains("/metricas"));
}

#[tokio::test]
async fn with_a_token_reads_need_it_unless_open_and_ping_never_does() {
    let mut c = Config::new(None);
    c.token = Some("s3creto".into());
    let m = Memoria::new(&c);
    for ruta in ["/metricas", "/historial", "/alertas"] {
        let (estado, cuerpo) = get(&m, ruta).await;
        assert_eq!(estado, StatusCode::UNAUTHORIZED, "{ruta}");
        assert_eq!(error(cuerpo).campo.as_deref(), Some("Authorization"));
    }
    let con_token = Request::get("/alertas")
        .header("authorization", "Bearer s3creto")
        .body(Body::empty())
        .unwrap();
    let (estado, _) = pruebas::sondas::llamar(router(Arc::clone(&m)), con_token).await;
    assert_eq!(estado, StatusCode::OK);
    assert_eq!(get(&m, "/ping").await.0, StatusCode::OK);

    c.lecturas_abiertas = true;
    let abierta = Memoria::new(&c);
    assert_eq!(get(&abierta, "/alertas").await.0, StatusCode::OK);
}
