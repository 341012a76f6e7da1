//! The esclavo's API contract: the document it serves at `GET /openapi.json` is the one its
//! code builds and the copy committed in `docs/openapi/esclavo.json`, and every operation that
//! document lists is served by a handler (none falls to the JSON 404 or 405).
//!
//! After an intended change of the API: `HPC_ACTUALIZAR_OPENAPI=1 cargo nextest run -p esclavo
//! --test openapi` rewrites the copy; commit it with the change.

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use esclavo::{Config, Esclavo, router};
use serde_json::Value;

fn nuevo() -> Arc<Esclavo> {
    Esclavo::new(
        &Config::new("http://127.0.0.1:9", "e-openapi"),
        "http://127.0.0.1:5011".into(),
    )
    .0
}

async fn llamar(esclavo: &Arc<Esclavo>, metodo: &str, ruta: &str) -> (u16, Value) {
    let cuerpo = if matches!(metodo, "POST" | "PUT" | "PATCH") {
        "{}"
    } else {
        ""
    };
    let peticion = Request::builder()
        .method(metodo)
        .uri(ruta)
        .header("content-type", "application/json")
        .body(Body::from(cuerpo))
        .unwrap();
    let (estado, v) = pruebas::sondas::llamar_json(router(Arc::clone(esclavo)), peticion).await;
    (estado.as_u16(), v)
}

#[tokio::test]
async fn the_served_document_is_the_code_s_and_the_committed_copy() {
    let generado = plataforma::http::openapi::json_estable(&esclavo::http::contrato());
    pruebas::contrato::comprobar_servido("esclavo", router(nuevo()), &generado).await;
}

#[tokio::test]
async fn every_documented_operation_is_served() {
    let e = nuevo();
    let doc = serde_json::to_value(esclavo::http::contrato()).unwrap();
    pruebas::contrato::todas_servidas(
        &doc,
        |_| "1".into(),
        |metodo, ruta| {
            let e = Arc::clone(&e);
            async move { llamar(&e, &metodo, &ruta).await }
        },
    )
    .await;
}

#[test]
fn docs_api_md_lists_every_documented_operation() {
    let doc = serde_json::to_value(esclavo::http::contrato()).unwrap();
    pruebas::contrato::tabla_al_dia("esclavo", &doc);
}
