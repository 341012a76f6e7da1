//! What a test asks a running service before it goes on: whether it answers `/ping`, whether a
//! maestro lists an esclavo as alive; and a router called once without a network.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use comun::api::EsclavoInfo;
use serde_json::Value;
use tower::ServiceExt as _;

/// Whether the service at `url` answers `GET /ping` with a success.
pub async fn responde_ping(url: &str) -> bool {
    reqwest::get(format!("{url}/ping"))
        .await
        .is_ok_and(|r| r.status().is_success())
}

/// The esclavos the maestro at `maestro` lists, read with `peticion` (a plain `GET` of
/// `{maestro}/esclavos`, or one with TLS or a token); empty if it does not answer.
pub async fn esclavos(peticion: reqwest::RequestBuilder) -> Vec<EsclavoInfo> {
    match peticion.send().await {
        Ok(r) => r.json().await.unwrap_or_default(),
        Err(_) => Vec::new(),
    }
}

/// Whether the maestro at `maestro` lists an esclavo named `nombre` as alive.
pub async fn esclavo_vivo(maestro: &str, nombre: &str) -> bool {
    let peticion = reqwest::Client::new().get(format!("{maestro}/esclavos"));
    esclavos(peticion)
        .await
        .iter()
        .any(|e| e.nombre == nombre && e.vivo)
}

/// Sends `peticion` through `router` (no network) and returns the status and the whole body.
pub async fn llamar(router: Router, peticion: Request<Body>) -> (StatusCode, Vec<u8>) {
    let r = router.oneshot(peticion).await.unwrap();
    let status = r.status();
    let bytes = axum::body::to_bytes(r.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, bytes.to_vec())
}

/// [`llamar`], with the body read as JSON (`Null` when it is not JSON).
pub async fn llamar_json(router: Router, peticion: Request<Body>) -> (StatusCode, Value) {
    let (status, bytes) = llamar(router, peticion).await;
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}
