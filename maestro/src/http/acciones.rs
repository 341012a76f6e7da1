//! Handlers of the actions on one job besides cancelling it: a retry
//! (`POST /trabajos/{id}/reintentar`) and a new priority (`PATCH /trabajos/{id}`). Each calls
//! one operation of [`Servicio`] ([`crate::operaciones`]), which answers once the change is
//! committed.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use comun::api::{PeticionPrioridad, RespuestaAccion};

use super::extraer::{Cuerpo, Ruta};
use super::trabajos::id_de;
use crate::servicio::Servicio;
use plataforma::http::ErrorApi;

#[utoipa::path(
    post,
    path = "/trabajos/{id}/reintentar",
    tag = "trabajos",
    params(("id" = String, Path, description = "The job's id (a whole number), or the task_id it was submitted with")),
    description = "Retries a fallido or cancelado job: a new attempt of the same job (same id), \
                   its earlier attempts and their errors kept, its failures forgotten; it is \
                   pendiente again, in the queue by its priority. Durable before the answer.",
    responses(
        (status = 200, description = "Queued again: its id, state, priority and what happened", body = RespuestaAccion),
        (status = 404, description = "No job with that id"),
        (status = 409, description = "The job is not fallido or cancelado (the message names \
                                      its state), or its cancelled attempt has not stopped yet"),
        (status = 500, description = "The store failed; the details are in the maestro's log"),
    )
)]
pub async fn reintentar(
    State(s): State<Arc<Servicio>>,
    Ruta(id): Ruta<String>,
) -> Result<Json<RespuestaAccion>, ErrorApi> {
    Ok(Json(s.reintentar(id_de(&s, &id)?).await?))
}

#[utoipa::path(
    patch,
    path = "/trabajos/{id}",
    request_body = PeticionPrioridad,
    tag = "trabajos",
    params(("id" = String, Path, description = "The job's id (a whole number), or the task_id it was submitted with")),
    description = "Changes a pendiente job's priority, `{\"prioridad\": 1}` (1, 2, 3 or alta, \
                   media, baja): it takes its place among the jobs of that priority, by id. \
                   Durable before the answer.",
    responses(
        (status = 200, description = "Its new priority, and its place in the queue", body = RespuestaAccion),
        (status = 404, description = "No job with that id"),
        (status = 409, description = "The job is not pendiente (the message names its state)"),
        (status = 422, description = "Not a priority"),
        (status = 500, description = "The store failed; the details are in the maestro's log"),
    )
)]
pub async fn priorizar(
    State(s): State<Arc<Servicio>>,
    Ruta(id): Ruta<String>,
    Cuerpo(p): Cuerpo<PeticionPrioridad>,
) -> Result<Json<RespuestaAccion>, ErrorApi> {
    Ok(Json(s.priorizar(id_de(&s, &id)?, p.prioridad).await?))
}
