//! The dashboard's style sheet and script, embedded in the binary (`include_str!`): no CDN,
//! no build step.

use axum::http::header;
use axum::response::IntoResponse;

const ESTILO: &str = include_str!("activos/estilo.css");
const SCRIPT: &str = include_str!("activos/vivo.js");

/// Cached for a day: their URLs carry the maestro's version.
const CACHE: &str = "public, max-age=86400";

/// `GET /panel/estilo.css`.
pub async fn estilo() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, CACHE),
        ],
        ESTILO,
    )
}

/// `GET /panel/vivo.js`.
pub async fn script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, CACHE),
        ],
        SCRIPT,
    )
}
