//! Handlers of the memoria endpoints: reports in, the cluster's resource picture out.

use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::extract::State;
use comun::ErrorCampo;
use comun::api::EstadoMemoria;
use comun::memoria::{ReporteMemoria, RespuestaReporte};

use super::extraer::Cuerpo;
use crate::servicio::Servicio;
use plataforma::http::ErrorApi;

/// A memoria node's report. If what it says about its node changed (an alert started or ended),
/// the dispatcher looks again at once.
#[utoipa::path(
    post,
    path = "/reporte_memoria",
    request_body = ReporteMemoria,
    tags = ["original", "nodos"],
    description = "Used by memoria nodes: a node's latest sample and its active alerts.",
    responses((status = 200, description = "Report taken", body = RespuestaReporte))
)]
pub async fn reportar(
    State(s): State<Arc<Servicio>>,
    Cuerpo(r): Cuerpo<ReporteMemoria>,
) -> Result<Json<RespuestaReporte>, ErrorApi> {
    if r.nodo.trim().is_empty() {
        return Err(ErrorCampo::new("nodo", "must not be empty").into());
    }
    s.transicion_sin_esperar(|e| (e.reportar_memoria(r, Instant::now()), Vec::new()));
    Ok(Json(RespuestaReporte { ok: true }))
}

#[utoipa::path(
    get,
    path = "/memoria",
    tags = ["original", "cluster"],
    description = "The latest report of each memoria node, and the active alerts of the fresh ones.",
    responses((status = 200, description = "The cluster's resource picture", body = EstadoMemoria))
)]
pub async fn ver(State(s): State<Arc<Servicio>>) -> Json<EstadoMemoria> {
    Json(s.estado().nodos.vista(Instant::now()))
}
