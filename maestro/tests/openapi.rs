//! The maestro's API contract: the document it serves at `GET /openapi.json` is the one its
//! code builds and the copy committed in `docs/openapi/maestro.json`, and every operation that
//! document lists is served by a handler (none falls to the JSON 404 or 405).
//!
//! After an intended change of the API: `HPC_ACTUALIZAR_OPENAPI=1 cargo nextest run -p maestro
//! --test openapi` rewrites the copy; commit it with the change.

mod apoyo;

use apoyo::*;
use serde_json::Value;

#[tokio::test]
async fn the_served_document_is_the_code_s_and_the_committed_copy() {
    let datos = tempfile::tempdir().unwrap();
    let m = maestro(config_maestro(datos.path()), 0).await;
    let r = reqwest::get(format!("{}/openapi.json", m.url))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    let servido = r.text().await.unwrap();
    let generado = plataforma::http::openapi::json_estable(&maestro::http::contrato());
    assert_eq!(
        servido, generado,
        "GET /openapi.json serves another document"
    );
    let doc: Value = serde_json::from_str(&servido).unwrap();
    assert_eq!(doc["paths"]["/agregar_trabajo"]["post"]["x-original"], true);
    assert_eq!(
        doc["paths"]["/ping"]["get"]["security"],
        serde_json::json!([{}])
    );
    pruebas::contrato::comparar_con_copia("maestro", &servido);
}

#[tokio::test]
async fn every_documented_operation_is_served() {
    let datos = tempfile::tempdir().unwrap();
    let m = maestro(config_maestro(datos.path()), 0).await;
    // A real job, so the routes of one job answer about it.
    let id = espera(&m.url, 1, comun::Prioridad::BAJA).await;
    let doc = serde_json::to_value(maestro::http::contrato()).unwrap();
    let cliente = reqwest::Client::new();
    let relleno = |p: &str| {
        if p == "id" {
            id.to_string()
        } else {
            "ninguno".into()
        }
    };
    pruebas::contrato::todas_servidas(&doc, relleno, |metodo, ruta| {
        let mut peticion = cliente.request(metodo.parse().unwrap(), format!("{}{ruta}", m.url));
        if matches!(metodo.as_str(), "POST" | "PUT" | "PATCH") {
            peticion = peticion
                .header("content-type", "application/json")
                .body("{}");
        }
        async move {
            let r = peticion.send().await.unwrap();
            let estado = r.status().as_u16();
            (estado, r.json().await.unwrap_or(Value::Null))
        }
    })
    .await;
}

#[test]
fn docs_api_md_lists_every_documented_operation() {
    let doc = serde_json::to_value(maestro::http::contrato()).unwrap();
    pruebas::contrato::tabla_al_dia("maestro", &doc);
}
