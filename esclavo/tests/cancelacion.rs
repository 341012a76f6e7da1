//! Stopping running jobs, over real HTTP on loopback against the fake maestro: `POST /cancelar`,
//! the heartbeat answer's `cancelar` list, and the per-attempt time limit (`plazo_ms`). Each
//! stopped attempt frees its slot as soon as its kernel returns and reports why to the maestro.

#[allow(dead_code)]
mod apoyo;

use apoyo::{EsclavoDePrueba, MaestroFalso, PLAZO, config};
use axum::http::StatusCode;
use comun::nodo::Salida;
use comun::{Estado, TrabajoId};
use pruebas::Falso as _;
use pruebas::esperar_hasta;
use serde_json::json;

/// A Julia image that takes hours on one core: only a stop ends it within a test's deadline.
fn julia_enorme(id: u64) -> serde_json::Value {
    json!({"id": id, "intento": 1, "tipo": "julia", "width": 8192, "height": 8192,
           "iteraciones": 100_000, "algoritmo": "Secuencial"})
}

fn espera(id: u64, ms: u64) -> serde_json::Value {
    json!({"id": id, "intento": 1, "tipo": "espera", "ms": ms, "algoritmo": "Secuencial"})
}

fn peticion(trabajos: Vec<serde_json::Value>) -> serde_json::Value {
    json!({ "trabajos": trabajos })
}

/// `POST /cancelar` with a raw body (JSON or not) and an optional token; the status and the
/// JSON answer.
async fn cancelar(
    e: &EsclavoDePrueba,
    cuerpo: impl Into<reqwest::Body>,
    token: Option<&str>,
) -> (StatusCode, serde_json::Value) {
    let mut peticion = e
        .http
        .post(format!("{}/cancelar", e.url))
        .header("content-type", "application/json")
        .body(cuerpo);
    if let Some(t) = token {
        peticion = peticion.bearer_auth(t);
    }
    let r = peticion.send().await.unwrap();
    let estado = StatusCode::from_u16(r.status().as_u16()).unwrap();
    (estado, r.json().await.unwrap())
}

/// The error the maestro got for job `id`, once it arrives.
async fn error_de(m: &MaestroFalso, id: u64) -> String {
    esperar_hasta(
        PLAZO,
        &format!("the result of job {id} arrives"),
        || async {
            m.recibido()
                .resultados
                .iter()
                .any(|i| i.id == TrabajoId(id))
        },
    )
    .await;
    let recibido = m.recibido();
    let informe = recibido
        .resultados
        .iter()
        .find(|i| i.id == TrabajoId(id))
        .unwrap();
    match &informe.salida {
        Salida::Fallido { error } => error.clone(),
        otra => panic!("job {id} should have failed: {otra:?}"),
    }
}

/// Waits until `/estado` shows the esclavo running exactly `ids`.
async fn esperar_ejecutando(e: &EsclavoDePrueba, ids: &[u64]) {
    let ids: Vec<TrabajoId> = ids.iter().map(|&id| TrabajoId(id)).collect();
    esperar_hasta(PLAZO, &format!("the esclavo runs {ids:?}"), || async {
        let ejecutando: Vec<TrabajoId> = e.estado().await.ejecutando.iter().map(|x| x.id).collect();
        ejecutando == ids
    })
    .await;
}

#[tokio::test]
async fn cancelling_a_long_kernel_frees_its_slot_and_reports_why() {
    let (maestro, url) = MaestroFalso::iniciar().await;
    let mut c = config(&url);
    c.capacidad = 1;
    let e = EsclavoDePrueba::iniciar(c).await;

    let (estado, cuerpo) = e.ejecutar(peticion(vec![julia_enorme(1)])).await;
    assert_eq!(estado, StatusCode::OK, "{cuerpo}");
    esperar_ejecutando(&e, &[1]).await;
    let (estado, _) = e.ejecutar(peticion(vec![espera(2, 0)])).await;
    assert_eq!(
        estado,
        StatusCode::SERVICE_UNAVAILABLE,
        "its one slot is busy"
    );

    let cuerpo = json!({"trabajos": [1, 99], "motivo": "cancelled by a user"}).to_string();
    let (estado, respuesta) = cancelar(&e, cuerpo, None).await;
    assert_eq!(estado, StatusCode::OK, "{respuesta}");
    assert_eq!(respuesta, json!({"cancelados": [1], "desconocidos": [99]}));

    assert_eq!(
        error_de(&maestro, 1).await,
        "cancelled: cancelled by a user"
    );
    esperar_ejecutando(&e, &[]).await;
    let (estado, cuerpo) = e.ejecutar(peticion(vec![espera(2, 0)])).await;
    assert_eq!(estado, StatusCode::OK, "the slot is free again: {cuerpo}");

    esperar_hasta(PLAZO, "job 2 completes", || async {
        e.estado().await.completados == 1
    })
    .await;
    let vista = e.estado().await;
    assert_eq!((vista.cancelados, vista.fallidos), (1, 0));
    let cancelado = vista
        .historial
        .iter()
        .find(|t| t.id == TrabajoId(1))
        .unwrap();
    assert_eq!(cancelado.estado, Estado::Cancelado);
    e.parar().await.unwrap();
}

#[tokio::test]
async fn cancelling_an_espera_wakes_its_timer_at_once() {
    let (maestro, url) = MaestroFalso::iniciar().await;
    let e = EsclavoDePrueba::iniciar(config(&url)).await;
    let (estado, _) = e
        .ejecutar(peticion(vec![espera(3, 3_600_000), espera(4, 3_600_000)]))
        .await;
    assert_eq!(estado, StatusCode::OK);
    esperar_ejecutando(&e, &[3, 4]).await;

    let (estado, respuesta) = cancelar(&e, r#"{"trabajos": [3]}"#, None).await;
    assert_eq!(estado, StatusCode::OK, "{respuesta}");
    assert_eq!(respuesta["cancelados"], json!([3]));
    assert_eq!(
        error_de(&maestro, 3).await,
        "cancelled: cancelled by the maestro",
        "no motivo: the default one"
    );
    esperar_ejecutando(&e, &[4]).await;
    e.parar().await.unwrap();
}

#[tokio::test]
async fn a_job_past_its_time_limit_stops_and_names_the_limit() {
    let (maestro, url) = MaestroFalso::iniciar().await;
    let e = EsclavoDePrueba::iniciar(config(&url)).await;
    let mut julia = julia_enorme(5);
    julia["plazo_ms"] = json!(300);
    let mut dormir = espera(6, 3_600_000);
    dormir["plazo_ms"] = json!(200);
    let (estado, cuerpo) = e.ejecutar(peticion(vec![julia, dormir])).await;
    assert_eq!(estado, StatusCode::OK, "{cuerpo}");

    let error = error_de(&maestro, 5).await;
    assert!(
        error.starts_with("time limit of 0.3 s exceeded after 0.3"),
        "{error}"
    );
    let error = error_de(&maestro, 6).await;
    assert!(
        error.starts_with("time limit of 0.2 s exceeded after 0.2"),
        "{error}"
    );
    esperar_ejecutando(&e, &[]).await;
    let vista = e.estado().await;
    assert_eq!((vista.fallidos, vista.cancelados), (2, 0));
    assert!(vista.historial.iter().all(|t| t.estado == Estado::Fallido));
    e.parar().await.unwrap();
}

#[tokio::test]
async fn the_heartbeat_answer_stops_the_jobs_the_maestro_no_longer_wants() {
    let (maestro, url) = MaestroFalso::iniciar().await;
    maestro.no_deseados.lock().unwrap().push(TrabajoId(7));
    let e = EsclavoDePrueba::iniciar(config(&url)).await;
    let (estado, _) = e
        .ejecutar(peticion(vec![julia_enorme(7), espera(8, 3_600_000)]))
        .await;
    assert_eq!(estado, StatusCode::OK);

    assert_eq!(
        error_de(&maestro, 7).await,
        "cancelled: the maestro no longer wants this job"
    );
    esperar_ejecutando(&e, &[8]).await;
    assert!(
        maestro
            .recibido()
            .latidos
            .iter()
            .any(|l| l.ejecutando.contains(&TrabajoId(7))),
        "it was stopped because a heartbeat listed it"
    );
    e.parar().await.unwrap();
}

#[tokio::test]
async fn cancelar_requires_the_token_and_refuses_bad_bodies_naming_the_problem() {
    let (_maestro, url) = MaestroFalso::iniciar().await;
    let mut c = config(&url);
    c.token = Some("s3creto".into());
    let e = EsclavoDePrueba::iniciar(c).await;
    let token = Some("s3creto");
    let (estado, cuerpo) = e
        .ejecutar_con(peticion(vec![espera(9, 3_600_000)]), token)
        .await;
    assert_eq!(estado, StatusCode::OK, "{cuerpo}");

    let valido = r#"{"trabajos": [9]}"#;
    let (estado, cuerpo) = cancelar(&e, valido, None).await;
    assert_eq!(estado, StatusCode::UNAUTHORIZED, "{cuerpo}");
    assert_eq!(cuerpo["campo"], "Authorization");
    let (estado, _) = cancelar(&e, valido, Some("otro")).await;
    assert_eq!(estado, StatusCode::UNAUTHORIZED);

    let (estado, cuerpo) = cancelar(&e, r#"{"trabajos": [9"#, token).await;
    assert_eq!(estado, StatusCode::BAD_REQUEST, "{cuerpo}");
    assert!(
        cuerpo["error"]
            .as_str()
            .unwrap()
            .starts_with("invalid JSON"),
        "{cuerpo}"
    );
    let (estado, cuerpo) = cancelar(&e, r#"{"trabajos": ["nueve"]}"#, token).await;
    assert_eq!(estado, StatusCode::UNPROCESSABLE_ENTITY, "{cuerpo}");
    assert_eq!(cuerpo["campo"], "trabajos[0]");
    let (estado, cuerpo) = cancelar(&e, r#"{"motivo": "x"}"#, token).await;
    assert_eq!(estado, StatusCode::UNPROCESSABLE_ENTITY, "{cuerpo}");
    assert_eq!(cuerpo["campo"], "trabajos");
    let (estado, cuerpo) = cancelar(&e, r#"{"trabajos": []}"#, token).await;
    assert_eq!(estado, StatusCode::UNPROCESSABLE_ENTITY, "{cuerpo}");
    assert_eq!(cuerpo["campo"], "trabajos");
    let (estado, cuerpo) = cancelar(&e, r#"{"trabajos": [9], "todos": true}"#, token).await;
    assert_eq!(estado, StatusCode::UNPROCESSABLE_ENTITY, "{cuerpo}");
    assert!(
        cuerpo["error"].as_str().unwrap().contains("todos"),
        "{cuerpo}"
    );
    let largo = json!({"trabajos": [9], "motivo": "x".repeat(501)}).to_string();
    let (estado, cuerpo) = cancelar(&e, largo, token).await;
    assert_eq!(estado, StatusCode::UNPROCESSABLE_ENTITY, "{cuerpo}");
    assert_eq!(
        (&cuerpo["campo"], &cuerpo["limite"]),
        (&json!("motivo"), &json!(500))
    );

    // None of that stopped job 9; unknown ids are named, each once.
    let (estado, respuesta) = cancelar(&e, r#"{"trabajos": [40, 41, 40]}"#, token).await;
    assert_eq!(estado, StatusCode::OK, "{respuesta}");
    assert_eq!(
        respuesta,
        json!({"cancelados": [], "desconocidos": [40, 41]})
    );
    let (estado, respuesta) = cancelar(&e, valido, token).await;
    assert_eq!(
        (estado, respuesta),
        (
            StatusCode::OK,
            json!({"cancelados": [9], "desconocidos": []})
        )
    );
    e.parar().await.unwrap();
}
