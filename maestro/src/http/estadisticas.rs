//! Handlers of the statistics: `GET /estadisticas` (and the orchestrator's `GET /stats`), its
//! performance part `GET /stats/performance`, the time series `GET /estadisticas/series`, and
//! one esclavo's history `GET /esclavos/{nombre}`. Their bodies are in
//! [`comun::estadisticas`]; the figures in [`crate::estadisticas`] and [`crate::series`].

use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::extract::{Path, State};
use comun::estadisticas::{Estadisticas, Fuente, HistorialEsclavo, Rendimiento, Series};

use crate::servicio::Servicio;
use plataforma::http::ErrorApi;

/// The figures now.
fn tomar(s: &Servicio) -> Estadisticas {
    s.estado().estadisticas(Instant::now(), comun::ahora_ms())
}

#[utoipa::path(
    get,
    path = "/estadisticas",
    tag = "estadisticas",
    description = "Statistics since the maestro started: jobs by state, jobs finished per \
                   second (last minute, since start), wait, run and kernel time (mean, p50, \
                   p95, max) by tipo and backend, GPU-versus-CPU speedup per tipo (jobs of the \
                   same size compared), and each esclavo's slot utilisation over the last minute.",
    responses((status = 200, description = "The statistics", body = Estadisticas))
)]
pub async fn ver(State(s): State<Arc<Servicio>>) -> Json<Estadisticas> {
    Json(tomar(&s))
}

#[utoipa::path(
    get,
    path = "/stats",
    tags = ["original", "estadisticas"],
    description = "The orchestrator's name for `GET /estadisticas`: the same body.",
    responses((status = 200, description = "The statistics", body = Estadisticas))
)]
pub async fn stats(State(s): State<Arc<Servicio>>) -> Json<Estadisticas> {
    Json(tomar(&s))
}

#[utoipa::path(
    get,
    path = "/stats/performance",
    tags = ["original", "estadisticas"],
    description = "The orchestrator's performance metrics: the `rendimiento` part of \
                   `GET /estadisticas` (throughput, times by tipo and backend, speedups).",
    responses((status = 200, description = "Throughput, times and speedups", body = Rendimiento))
)]
pub async fn rendimiento(State(s): State<Arc<Servicio>>) -> Json<Rendimiento> {
    Json(tomar(&s).rendimiento)
}

#[utoipa::path(
    get,
    path = "/estadisticas/series",
    tag = "estadisticas",
    description = "The last hour at a few seconds' resolution (`paso_s`), oldest first: \
                   pending jobs by priority, jobs finished per second, esclavos alive, and each \
                   node's CPU, memory and GPU use (`null` where it did not report). Every list \
                   is as long as `instantes_ms` and at most `capacidad` long.",
    responses((status = 200, description = "The time series", body = Series))
)]
pub async fn series(State(s): State<Arc<Servicio>>) -> Json<Series> {
    Json(s.series().vista())
}

#[utoipa::path(
    get,
    path = "/esclavos/{nombre}",
    tag = "esclavos",
    params(("nombre" = String, Path, description = "The name the esclavo registered under")),
    description = "One esclavo with its history since the maestro started: its slot \
                   utilisation, jobs completed and attempts failed, times lost, mean run time \
                   by tipo and backend, its latest attempts, and its heartbeats' load over the \
                   last hour.",
    responses(
        (status = 200, description = "The esclavo and its history", body = HistorialEsclavo),
        (status = 404, description = "No esclavo registered under that name"),
    )
)]
pub async fn esclavo(
    State(s): State<Arc<Servicio>>,
    Path(nombre): Path<String>,
) -> Result<Json<HistorialEsclavo>, ErrorApi> {
    let historial = s.estado().historial_esclavo(&nombre, Instant::now());
    let Some(mut h) = historial else {
        return Err(ErrorApi::no_encontrado(format!(
            "no esclavo registered as '{nombre}' (GET /esclavos lists them)"
        )));
    };
    h.carga = s.series().carga(Fuente::Esclavo, &nombre);
    Ok(Json(h))
}
