//! `GET /metrics`: the maestro's Prometheus metrics ([`crate::metricas`]), with what mirrors
//! the state read at this moment.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::State;
use axum::response::Response;

use super::ErrorApi;
use crate::metricas;
use crate::servicio::Servicio;

#[utoipa::path(
    get,
    path = "/metrics",
    tags = ["servicio"],
    description = "The maestro's Prometheus metrics in the text exposition format \
        (`hpc_maestro_*`: jobs by door, outcome, state and priority, wait and run times, \
        esclavos, slots, GPUs, store commits, HTTP requests; docs/metrics.md lists them). \
        Guarded like every read.",
    responses(
        (status = 200, description = "Prometheus text format 0.0.4", body = String,
         content_type = "text/plain; version=0.0.4"),
        (status = 500, description = "The store failed; the details are in the maestro's log"),
    )
)]
pub async fn exponer(State(s): State<Arc<Servicio>>) -> Result<Response, ErrorApi> {
    let mas_antiguo = metricas::pendiente_mas_antiguo(&s.estado());
    let creado = match mas_antiguo {
        Some(id) => s.almacen.trabajo(id).await?.map(|t| t.creado_ms),
        None => None,
    };
    s.metricas.actualizar(&s.estado(), Instant::now(), creado);
    s.metricas.base().exponer()
}
