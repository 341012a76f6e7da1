//! The esclavo's router alone, through `tower::ServiceExt::oneshot`: no network, no maestro.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use comun::nodo::{InformeResultado, Salida};
use comun::{CuerpoError, TrabajoId};
use esclavo::{Config, Esclavo, EstadoEsclavo, router};
use serde_json::{Value, json};
use tokio::sync::mpsc;

fn nuevo(
    capacidad: u32,
    token: Option<&str>,
) -> (Arc<Esclavo>, mpsc::UnboundedReceiver<InformeResultado>) {
    let mut c = Config::new("http://127.0.0.1:9", "e-router");
    c.capacidad = capacidad;
    c.token = token.map(Into::into);
    Esclavo::new(&c, "http://127.0.0.1:5011".into())
}

async fn llamar(esclavo: &Arc<Esclavo>, peticion: Request<Body>) -> (StatusCode, Value) {
    pruebas::sondas::llamar_json(router(Arc::clone(esclavo)), peticion).await
}

fn post_ejecutar(cuerpo: &str) -> Request<Body> {
    Request::post("/ejecutar")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(cuerpo.to_owned()))
        .unwrap()
}

fn error(v: Value) -> CuerpoError {
    serde_json::from_value(v).unwrap()
}

#[tokio::test]
async fn ping_says_esclavo() {
    let (e, _) = nuevo(1, None);
    let (estado, cuerpo) = llamar(&e, Request::get("/ping").body(Body::empty()).unwrap()).await;
    assert_eq!(estado, StatusCode::OK);
    assert_eq!(
        (cuerpo["estado"].as_str(), cuerpo["servicio"].as_str()),
        (Some("ok"), Some("esclavo"))
    );
}

#[tokio::test]
async fn an_accepted_job_shows_in_estado_and_reports_its_result() {
    let (e, mut informes) = nuevo(2, None);
    let cuerpo =
        r#"{"trabajos":[{"id":4,"intento":1,"tipo":"espera","ms":30,"algoritmo":"Paralelo"}]}"#;
    let (estado, r) = llamar(&e, post_ejecutar(cuerpo)).await;
    assert_eq!((estado, &r["aceptados"]), (StatusCode::OK, &json!([4])));

    let (_, v) = llamar(&e, Request::get("/estado").body(Body::empty()).unwrap()).await;
    let vista: EstadoEsclavo = serde_json::from_value(v).unwrap();
    assert_eq!((vista.nombre.as_str(), vista.capacidad), ("e-router", 2));
    assert_eq!(vista.ejecutando[0].descripcion, "espera 30 ms");
    assert!(!vista.registrado);

    let informe = informes.recv().await.unwrap();
    assert_eq!(
        (informe.id, informe.instancia),
        (TrabajoId(4), e.instancia())
    );
    assert!(matches!(informe.salida, Salida::Completado { .. }));
    assert_eq!(e.estado().resultados_por_enviar, 1, "not acknowledged yet");
    assert!(
        e.estado().ejecutando.is_empty(),
        "the slot frees when the job ends"
    );
}

#[tokio::test]
async fn takes_what_fits_in_order_and_refuses_the_rest() {
    let (e, _) = nuevo(2, None);
    let trabajos: Vec<Value> = (1..=3)
        .map(|id| json!({"id": id, "intento": 1, "tipo": "espera", "ms": 5000, "algoritmo": "Secuencial"}))
        .collect();
    let (estado, r) = llamar(
        &e,
        post_ejecutar(&json!({"trabajos": trabajos}).to_string()),
    )
    .await;
    assert_eq!(estado, StatusCode::OK);
    assert_eq!(r["aceptados"], json!([1, 2]));
    assert_eq!(r["rechazados"][0]["motivo"], "ocupado: 2/2 slots in use");
    e.cerrar();
}

#[tokio::test]
async fn cuda_jobs_are_refused_without_a_gpu() {
    let (e, _) = nuevo(2, None);
    let cuerpo = r#"{"trabajos":[{"id":1,"intento":1,"tipo":"julia","width":8,"height":8,"iteraciones":5,"algoritmo":"Cuda"}]}"#;
    let (estado, r) = llamar(&e, post_ejecutar(cuerpo)).await;
    assert_eq!(estado, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        r["rechazados"][0]["motivo"]
            .as_str()
            .unwrap()
            .contains("no GPU"),
        "{r}"
    );
}

#[tokio::test]
async fn bad_bodies_name_the_field() {
    let (e, _) = nuevo(2, None);
    let casos = [
        (
            r#"{"trabajos": [}"#,
            StatusCode::BAD_REQUEST,
            Some("trabajos[0]"),
        ),
        (r#"{}"#, StatusCode::UNPROCESSABLE_ENTITY, Some("trabajos")),
        (
            r#"{"trabajos": []}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("trabajos"),
        ),
        (
            r#"{"trabajos":[{"intento":1,"tipo":"espera","ms":1,"algoritmo":"Paralelo"}]}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("trabajos[0].id"),
        ),
        (
            r#"{"trabajos":[{"id":"siete","intento":1,"tipo":"espera","ms":1,"algoritmo":"Paralelo"}]}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("trabajos[0].id"),
        ),
        (
            r#"{"trabajos":[{"id":1,"intento":1,"tipo":"julia","width":0,"height":8,"iteraciones":5,"algoritmo":"Paralelo"}]}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("trabajos[0].width"),
        ),
        (r#"{"trabajos": []} x"#, StatusCode::BAD_REQUEST, None),
    ];
    for (cuerpo, esperado, campo) in casos {
        let (estado, r) = llamar(&e, post_ejecutar(cuerpo)).await;
        assert_eq!(estado, esperado, "{cuerpo} → {r}");
        let r = error(r);
        assert_eq!(r.campo.as_deref(), campo, "{cuerpo} → {}", r.error);
    }
    assert!(e.estado().ejecutando.is_empty());
}

#[tokio::test]
async fn the_token_is_checked_on_everything_but_ping() {
    let (e, _) = nuevo(1, Some("s3creto"));
    let (estado, r) = llamar(&e, post_ejecutar(r#"{"trabajos":[]}"#)).await;
    assert_eq!(estado, StatusCode::UNAUTHORIZED);
    assert_eq!(error(r).campo.as_deref(), Some("Authorization"));
    let (estado, _) = llamar(&e, Request::get("/estado").body(Body::empty()).unwrap()).await;
    assert_eq!(estado, StatusCode::UNAUTHORIZED);
    let con_token = Request::get("/estado")
        .header(header::AUTHORIZATION, "Bearer s3creto")
        .body(Body::empty())
        .unwrap();
    assert_eq!(llamar(&e, con_token).await.0, StatusCode::OK);
    let (estado, _) = llamar(&e, Request::get("/ping").body(Body::empty()).unwrap()).await;
    assert_eq!(estado, StatusCode::OK);
}

#[tokio::test]
async fn open_reads_let_estado_through_but_not_ejecutar() {
    let mut c = Config::new("http://127.0.0.1:9", "e-router");
    c.token = Some("s3creto".into());
    c.lecturas_abiertas = true;
    let (e, _) = Esclavo::new(&c, "http://127.0.0.1:5011".into());
    let (estado, _) = llamar(&e, Request::get("/estado").body(Body::empty()).unwrap()).await;
    assert_eq!(estado, StatusCode::OK);
    let (estado, _) = llamar(&e, post_ejecutar(r#"{"trabajos":[]}"#)).await;
    assert_eq!(estado, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_unknown_route_answers_a_json_404() {
    let (e, _) = nuevo(1, None);
    let (estado, r) = llamar(&e, Request::get("/nada").body(Body::empty()).unwrap()).await;
    assert_eq!(estado, StatusCode::NOT_FOUND);
    assert!(error(r).error.contains("/nada"));
}

#[tokio::test]
async fn a_closed_esclavo_takes_no_jobs() {
    let (e, _) = nuevo(1, None);
    e.cerrar();
    let cuerpo =
        r#"{"trabajos":[{"id":1,"intento":1,"tipo":"espera","ms":1,"algoritmo":"Paralelo"}]}"#;
    let (estado, r) = llamar(&e, post_ejecutar(cuerpo)).await;
    assert_eq!(estado, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r["rechazados"][0]["motivo"], "shutting down");
}
