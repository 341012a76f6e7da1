//! The esclavo's HTTP API: routes and handlers, answering refusals with the cluster's one
//! [`ErrorApi`].
//!
//! | route | what |
//! |---|---|
//! | `GET /ping` | liveness: [`Ping`], with the host's CPU and memory use and the slots in use ([`comun::api::SistemaPing`]), as the original esclavo's |
//! | `GET /estado` | what it is doing: [`EstadoEsclavo`] |
//! | `POST /ejecutar` | run jobs: [`PeticionEjecutar`] → [`RespuestaEjecutar`], 503 if it took none |
//! | `POST /cancelar` | stop running jobs: [`PeticionCancelar`] → [`RespuestaCancelar`] (which were running) |
//! | `GET /metrics` | Prometheus metrics, text format (`hpc_esclavo_*`; docs/metrics.md) |
//! | `GET /openapi.json` | this API's OpenAPI 3 document ([`contrato`]; a copy is kept in `docs/openapi/esclavo.json`) |
//!
//! Every route is added with `utoipa_axum::routes!` from a handler carrying its
//! `#[utoipa::path]` description, so none exists undescribed.
//!
//! With a token configured, every route but `GET /ping` requires it (`/estado` too, unless
//! `lecturas_abiertas`): [`plataforma::proteger`] checks it before any handler runs, answering
//! 401 with a [`CuerpoError`](comun::CuerpoError) naming `Authorization`. A body it cannot use
//! is refused whole, before any job starts, naming the field: 400 for malformed JSON, 422 for a
//! well-formed body with a wrong value.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::response::Response;
use comun::ErrorCampo;
use comun::api::Ping;
use comun::nodo::{PeticionCancelar, PeticionEjecutar, RespuestaCancelar, RespuestaEjecutar};
use plataforma::http::openapi;
use plataforma::http::{Cuerpo, ErrorApi, decodificar, metodo_no_permitido, ruta_desconocida};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::ejecucion;
use crate::servicio::Esclavo;
use crate::vista::EstadoEsclavo;

/// The esclavo's routes over its shared state.
pub fn router(esclavo: Arc<Esclavo>) -> Router {
    let (rutas, _) = openapi::documentar(rutas_api());
    let rutas = rutas
        .fallback(ruta_desconocida(
            "an esclavo serves /ping, /estado, /ejecutar, /cancelar, /metrics and /openapi.json",
        ))
        .method_not_allowed_fallback(metodo_no_permitido);
    let rutas = plataforma::proteger(rutas, esclavo.acceso().clone());
    esclavo.metricas.base().medir(rutas).with_state(esclavo)
}

/// The esclavo's OpenAPI document, as `GET /openapi.json` serves it.
pub fn contrato() -> utoipa::openapi::OpenApi {
    openapi::documentar(rutas_api()).1
}

/// Every route, each with its `#[utoipa::path]` description (`routes!` takes both).
fn rutas_api() -> OpenApiRouter<Arc<Esclavo>> {
    OpenApiRouter::with_openapi(openapi::base("esclavo", DESCRIPCION))
        .routes(routes!(ping))
        .routes(routes!(estado))
        .routes(routes!(ejecutar))
        .routes(routes!(cancelar))
        .routes(routes!(metricas))
}

/// What the document says of the esclavo as a whole.
const DESCRIPCION: &str = "An esclavo of the HPC cluster: it runs the jobs the maestro hands \
    it, in its slots, on CPU or GPU, and reports their results to the maestro. Its API is the \
    maestro's to call. Routes tagged `original` (and marked `x-original: true`) are the \
    original Flask system's; the others are new. Every error answer is a JSON `CuerpoError`; \
    a path no route serves answers 404 and a method a path does not take 405, both with it.";

#[utoipa::path(
    get,
    path = "/ping",
    tags = ["original", "servicio"],
    security(()),
    description = "Liveness, with the host's CPU and memory use and the slots in use, as the \
                   original esclavo's. Always open, token or not.",
    responses((status = 200, description = "The esclavo is up", body = Ping))
)]
async fn ping(State(esclavo): State<Arc<Esclavo>>) -> Json<Ping> {
    Json(Ping {
        sistema: Some(esclavo.sistema()),
        ..Ping::ok("esclavo")
    })
}

#[utoipa::path(
    get,
    path = "/estado",
    tags = ["original", "esclavo"],
    description = "What it is doing: its slots, the jobs running in them, its GPUs.",
    responses((status = 200, description = "The esclavo's state", body = EstadoEsclavo))
)]
async fn estado(State(esclavo): State<Arc<Esclavo>>) -> Json<EstadoEsclavo> {
    Json(esclavo.estado())
}

/// Takes each job that finds a free slot: 200 if it took at least one, 503 if none.
#[utoipa::path(
    post,
    path = "/ejecutar",
    request_body = PeticionEjecutar,
    tags = ["original", "esclavo"],
    description = "Used by the maestro: run jobs. Each job that finds a free slot starts; the \
                   answer lists those taken and those refused. The whole body is checked \
                   before any starts.",
    responses(
        (status = 200, description = "It took at least one job", body = RespuestaEjecutar),
        (status = 503, description = "It took none (no free slot, or a backend it lacks): the answer lists why", body = RespuestaEjecutar),
    )
)]
async fn ejecutar(
    State(esclavo): State<Arc<Esclavo>>,
    cuerpo: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<RespuestaEjecutar>), ErrorApi> {
    let cuerpo = cuerpo?;
    tipos_con_nombre(&cuerpo)?;
    let peticion: PeticionEjecutar = decodificar(&cuerpo)?;
    validar(&peticion)?;
    let respuesta = ejecucion::aceptar(&esclavo, peticion.trabajos);
    let estado = if respuesta.aceptados.is_empty() {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    Ok((estado, Json(respuesta)))
}

#[utoipa::path(
    get,
    path = "/metrics",
    tag = "servicio",
    description = "The esclavo's Prometheus metrics in the text exposition format \
                   (`hpc_esclavo_*`, labelled with its name: slots, attempts by tipo and \
                   outcome, kernel time by tipo and backend, results waiting for delivery, \
                   HTTP requests; docs/metrics.md lists them). Guarded like every read.",
    responses((status = 200, description = "Prometheus text format 0.0.4", body = String,
               content_type = "text/plain; version=0.0.4"))
)]
async fn metricas(State(esclavo): State<Arc<Esclavo>>) -> Result<Response, ErrorApi> {
    esclavo.exponer_metricas()
}

/// Most characters of a cancellation's `motivo` (it becomes part of the attempt's error).
pub const MAX_MOTIVO: usize = 500;

/// Why attempts stop when `/cancelar` gives no `motivo`.
const MOTIVO_POR_DEFECTO: &str = "cancelled by the maestro";

/// Tells every running attempt of the listed jobs to stop: 200 with those that were running
/// (each stops at its kernel's next check, then reports `cancelled: <motivo>`) and those that
/// were not.
#[utoipa::path(
    post,
    path = "/cancelar",
    request_body = PeticionCancelar,
    tag = "esclavo",
    description = "Used by the maestro: stop the running attempts of the listed jobs.",
    responses((status = 200, description = "Which were running (now stopping) and which were not", body = RespuestaCancelar))
)]
async fn cancelar(
    State(esclavo): State<Arc<Esclavo>>,
    Cuerpo(peticion): Cuerpo<PeticionCancelar>,
) -> Result<Json<RespuestaCancelar>, ErrorApi> {
    let motivo = motivo_de(&peticion)?;
    let respuesta = esclavo.ranuras.cancelar(&peticion.trabajos, motivo);
    tracing::info!(
        cancelados = ?respuesta.cancelados,
        desconocidos = ?respuesta.desconocidos,
        motivo,
        "cancellation requested"
    );
    Ok(Json(respuesta))
}

/// The reason to stop with, once the request is checked: at least one job, and a `motivo` of
/// at most [`MAX_MOTIVO`] characters (absent or blank: [`MOTIVO_POR_DEFECTO`]).
fn motivo_de(p: &PeticionCancelar) -> Result<&str, ErrorCampo> {
    if p.trabajos.is_empty() {
        return Err(ErrorCampo::new("trabajos", "must name at least one job"));
    }
    let motivo = p.motivo.as_deref().map(str::trim).unwrap_or("");
    let largo = motivo.chars().count();
    if largo > MAX_MOTIVO {
        return Err(ErrorCampo::new(
            "motivo",
            format!("at most {MAX_MOTIVO} characters, got {largo}"),
        )
        .con_limite(MAX_MOTIVO as u64));
    }
    Ok(if motivo.is_empty() {
        MOTIVO_POR_DEFECTO
    } else {
        motivo
    })
}

/// Refuses a `tipo` that is not a string. `Asignacion` flattens `Parametros`, so serde buffers
/// the tag and would read `"tipo": 1` as the variant of index 1 (`espera`) and run it.
fn tipos_con_nombre(cuerpo: &[u8]) -> Result<(), ErrorCampo> {
    let Ok(valor) = serde_json::from_slice::<serde_json::Value>(cuerpo) else {
        return Ok(());
    };
    let trabajos = valor.get("trabajos").and_then(|t| t.as_array());
    for (i, t) in trabajos.into_iter().flatten().enumerate() {
        if let Some(tipo) = t.get("tipo").filter(|v| !v.is_string()) {
            let nombres = comun::Tipo::TODOS.map(|t| t.to_string()).join(", ");
            return Err(ErrorCampo::new(
                format!("trabajos[{i}].tipo"),
                format!("{tipo} must be a kernel name: {nombres}"),
            ));
        }
    }
    Ok(())
}

/// Checks every job's parameters against the limits before any starts.
fn validar(p: &PeticionEjecutar) -> Result<(), ErrorCampo> {
    if p.trabajos.is_empty() {
        return Err(ErrorCampo::new("trabajos", "must hold at least one job"));
    }
    for (i, a) in p.trabajos.iter().enumerate() {
        a.parametros.validar().map_err(|mut e| {
            e.campo = format!("trabajos[{i}].{}", e.campo);
            e
        })?;
    }
    Ok(())
}
