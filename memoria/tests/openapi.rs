//! The memoria's API contract: the document it serves at `GET /openapi.json` is the one its
//! code builds and the copy committed in `docs/openapi/memoria.json`, and every operation that
//! document lists is served by a handler (none falls to the JSON 404 or 405).
//!
//! After an intended change of the API: `HPC_ACTUALIZAR_OPENAPI=1 cargo nextest run -p memoria
//! --test openapi` rewrites the copy; commit it with the change.

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use memoria::{Config, Memoria, router};

fn nueva() -> Arc<Memoria> {
    Memoria::new(&Config::new(None))
}

#[tokio::test]
async fn the_served_document_is_the_code_s_and_the_committed_copy() {
    let generado = plataforma::http::openapi::json_estable(&memoria::http::contrato());
    pruebas::contrato::comprobar_servido("memoria", router(nueva()), &generado).await;
}

#[tokio::test]
async fn every_documented_operation_is_served() {
    let m = nueva();
    let doc = serde_json::to_value(memoria::http::contrato()).unwrap();
    pruebas::contrato::todas_servidas(
        &doc,
        |_| "1".into(),
        |metodo, ruta| {
            let m = Arc::clone(&m);
            async move {
                let peticion = Request::builder()
                    .method(metodo.as_str())
                    .uri(ruta)
                    .body(Body::empty())
                    .unwrap();
                let (estado, v) = pruebas::sondas::llamar_json(router(m), peticion).await;
                (estado.as_u16(), v)
            }
        },
    )
    .await;
}

#[test]
fn docs_api_md_lists_every_documented_operation() {
    let doc = serde_json::to_value(memoria::http::contrato()).unwrap();
    pruebas::contrato::tabla_al_dia("memoria", &doc);
}
