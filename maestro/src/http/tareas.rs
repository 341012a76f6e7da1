//! The orchestrator's API: `/tasks`, `/workers`, `/health`, with its field names, over the
//! same queue as every other door (a thin translation: no second queue, no second store).

use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use comun::api::{EsclavoInfo, FiltroTrabajos, Origen};
use comun::tareas::{ErrorTarea, VistaTarea, estado_de_status};
use comun::{CuerpoError, TrabajoId};
use serde::{Deserialize, Serialize};

use super::extraer::{Consulta, Cuerpo, Ruta};
use super::trabajos::{Cancelado, cancelar_id, con_memoria, leer};
use crate::estado::TaskIdsRepetidos;
use crate::servicio::Servicio;
use plataforma::http::ErrorApi;

type Res<T> = Result<T, ErrorApi>;

/// Answer to `POST /tasks`: the tasks queued, in order.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TareasCreadas {
    pub tasks: Vec<VistaTarea>,
}

/// Answer to `GET /tasks`.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ListaTareas {
    /// Newest first, at most `limit`.
    pub tasks: Vec<VistaTarea>,
    /// How many match `status` in all.
    pub total: u64,
}

/// A refusal of `POST /tasks`, with its status.
fn rechazo(status: StatusCode, error: String, errors: Vec<ErrorTarea>) -> ErrorApi {
    let detalle: Vec<String> = errors.iter().map(ToString::to_string).collect();
    let mut cuerpo = CuerpoError::new(format!("{error}: {}", detalle.join("; ")));
    cuerpo.campo = errors.first().map(|e| e.field.clone());
    ErrorApi::Cliente(status, cuerpo)
}

#[utoipa::path(
    post,
    path = "/tasks",
    request_body(content = serde_json::Value, description = "One task (`{\"task_id\", \"algorithm\", \"priority\", \"description\", \"parameters\"}`), or `{\"tasks\": [...]}` as in a task file"),
    tags = ["original", "tareas"],
    description = "The orchestrator's: queues one task or a list, all or none, onto the one \
                   queue. `algorithm` `python`/`cython` is `nbody` on Secuencial/Paralelo \
                   (`num_particles`, `num_steps`, `seed`); any tipo may be named with its own \
                   parameters. A refusal names every bad task by index, task_id and field.",
    responses(
        (status = 201, description = "Queued, in order", body = TareasCreadas),
        (status = 409, description = "A task_id is already taken (by the job named); nothing queued"),
        (status = 422, description = "A bad task: every fault named; nothing queued"),
        (status = 500, description = "The store failed; the details are in the maestro's log"),
    )
)]
pub async fn crear(
    State(s): State<Arc<Servicio>>,
    Cuerpo(cuerpo): Cuerpo<serde_json::Value>,
) -> Res<(StatusCode, Json<TareasCreadas>)> {
    let trabajos = comun::tareas::leer_cuerpo(&cuerpo).map_err(|e| {
        let error = format!("{}, nothing queued", comun::tareas::fallos(e.len()));
        rechazo(StatusCode::UNPROCESSABLE_ENTITY, error, e)
    })?;
    let refs: Vec<&comun::NuevoTrabajo> = trabajos.iter().collect();
    crate::entradas::comprobar(&s.almacen, &refs, |i| {
        format!("tasks[{i}].parameters.entrada")
    })
    .await?;
    let nuevos = trabajos
        .into_iter()
        .map(|t| (t, Origen::Api, None))
        .collect();
    let ids = s.admitir(nuevos).await.map_err(admision)?;
    let mut tasks = Vec::with_capacity(ids.len());
    for id in ids {
        tasks.push(VistaTarea::de(&con_memoria(&s, leer(&s, id).await?)));
    }
    Ok((StatusCode::CREATED, Json(TareasCreadas { tasks })))
}

/// The job a task path names: by its `task_id`, or by the job's id; 404 for a `task_id` no
/// job has, 400 for what cannot be one.
fn id_de(s: &Servicio, texto: &str) -> Res<TrabajoId> {
    if let Some(id) = s.por_task_id(texto) {
        return Ok(id);
    }
    if let Ok(id) = texto.parse() {
        return Ok(id);
    }
    match comun::trabajo::Etiquetas::validar_task_id(texto) {
        Ok(()) => Err(ErrorApi::no_encontrado(format!(
            "no task has task_id '{texto}'"
        ))),
        Err(e) => Err(ErrorApi::peticion(format!(
            "'{texto}' is not a task_id nor a job id: {}",
            e.mensaje
        ))),
    }
}

/// A store failure as it is; a `task_id` taken as 409 naming it and its job.
pub(super) fn admision(e: anyhow::Error) -> ErrorApi {
    match e.downcast_ref::<TaskIdsRepetidos>() {
        Some(r) => ErrorApi::conflicto(r.to_string()),
        None => e.into(),
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FiltroTareas {
    /// Only tasks in this status: pending, running, completed, failed or cancelled.
    status: Option<String>,
    /// At most this many (100 when absent, at most 10,000).
    limit: Option<u32>,
}

#[utoipa::path(
    get,
    path = "/tasks",
    tags = ["original", "tareas"],
    params(FiltroTareas),
    description = "The orchestrator's: the jobs as tasks, newest first (every job, whichever \
                   door it came through). `GET /trabajos` pages further.",
    responses(
        (status = 200, description = "The tasks", body = ListaTareas),
        (status = 400, description = "An unknown status"),
        (status = 500, description = "The store failed; the details are in the maestro's log"),
    )
)]
pub async fn listar(
    State(s): State<Arc<Servicio>>,
    Consulta(f): Consulta<FiltroTareas>,
) -> Res<Json<ListaTareas>> {
    let estado = f
        .status
        .as_deref()
        .map(estado_de_status)
        .transpose()
        .map_err(|e| ErrorApi::parametro("status", e.mensaje))?;
    let filtro = FiltroTrabajos {
        estado,
        ..FiltroTrabajos::default()
    };
    let lista = s.pagina(filtro, None, f.limit.unwrap_or(100)).await?;
    Ok(Json(ListaTareas {
        tasks: lista.trabajos.iter().map(VistaTarea::de).collect(),
        total: lista.total,
    }))
}

#[utoipa::path(
    get,
    path = "/tasks/{task_id}",
    tags = ["original", "tareas"],
    params(("task_id" = String, Path, description = "The task_id it was submitted with, or the job's id")),
    description = "The orchestrator's: one task, with its result once completed.",
    responses(
        (status = 200, description = "The task", body = VistaTarea),
        (status = 400, description = "Neither a task_id nor a job id"),
        (status = 404, description = "No such task"),
        (status = 500, description = "The store failed; the details are in the maestro's log"),
    )
)]
pub async fn ver(State(s): State<Arc<Servicio>>, Ruta(id): Ruta<String>) -> Res<Json<VistaTarea>> {
    let id = id_de(&s, &id)?;
    Ok(Json(VistaTarea::de(&con_memoria(&s, leer(&s, id).await?))))
}

#[utoipa::path(
    delete,
    path = "/tasks/{task_id}",
    tags = ["original", "tareas"],
    params(("task_id" = String, Path, description = "The task_id it was submitted with, or the job's id")),
    description = "The orchestrator's: cancels a pending or running task.",
    responses(
        (status = 200, description = "Cancelled", body = Cancelado),
        (status = 404, description = "No such task"),
        (status = 409, description = "Already final: nothing to cancel"),
        (status = 500, description = "The store failed; the details are in the maestro's log"),
    )
)]
pub async fn cancelar(
    State(s): State<Arc<Servicio>>,
    Ruta(id): Ruta<String>,
) -> Res<Json<Cancelado>> {
    let id: TrabajoId = id_de(&s, &id)?;
    Ok(Json(cancelar_id(&s, id).await?))
}

/// An esclavo as the orchestrator showed a worker.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Trabajador {
    pub worker_id: String,
    /// Where the maestro reaches it.
    pub url: String,
    pub host: String,
    /// `active`, or `inactive` when its heartbeats stopped.
    pub status: String,
    /// Job slots.
    pub capacity: u32,
    /// Jobs it runs now.
    pub current_tasks: u32,
    pub gpu_capacity: u32,
    pub completed_tasks: u64,
    /// The orchestrator's algorithms it runs: `python` and `cython`, and every tipo.
    pub algorithms: Vec<String>,
    pub last_heartbeat_seconds_ago: f64,
    /// Its esclavo's own view, in this cluster's names.
    pub esclavo: EsclavoInfo,
}

impl Trabajador {
    fn de(e: EsclavoInfo) -> Self {
        let mut algorithms = vec!["python".to_string(), "cython".to_string()];
        algorithms.extend(comun::Tipo::TODOS.map(|t| t.nombre().to_string()));
        Trabajador {
            worker_id: e.nombre.clone(),
            url: e.url.clone(),
            host: e.nodo.clone(),
            status: if e.vivo { "active" } else { "inactive" }.into(),
            capacity: e.capacidad,
            current_tasks: e.ejecutando,
            gpu_capacity: e.capacidad_gpu,
            completed_tasks: e.completados,
            algorithms,
            last_heartbeat_seconds_ago: e.ultimo_latido_hace_ms as f64 / 1000.0,
            esclavo: e,
        }
    }
}

#[utoipa::path(
    get,
    path = "/workers",
    tags = ["original", "tareas"],
    description = "The orchestrator's: the registered esclavos as workers.",
    responses((status = 200, description = "Every worker", body = Vec<Trabajador>))
)]
pub async fn trabajadores(State(s): State<Arc<Servicio>>) -> Json<Vec<Trabajador>> {
    let esclavos = s.estado().esclavos_info(Instant::now());
    Json(esclavos.into_iter().map(Trabajador::de).collect())
}

#[utoipa::path(
    get,
    path = "/workers/{worker_id}",
    tags = ["original", "tareas"],
    params(("worker_id" = String, Path, description = "The esclavo's name")),
    description = "The orchestrator's: one worker (`GET /esclavos/{nombre}` has its history).",
    responses(
        (status = 200, description = "The worker", body = Trabajador),
        (status = 404, description = "No such worker"),
    )
)]
pub async fn trabajador(
    State(s): State<Arc<Servicio>>,
    Ruta(nombre): Ruta<String>,
) -> Res<Json<Trabajador>> {
    let esclavos = s.estado().esclavos_info(Instant::now());
    let conocidos: Vec<String> = esclavos.iter().map(|e| e.nombre.clone()).collect();
    esclavos
        .into_iter()
        .find(|e| e.nombre == nombre)
        .map(|e| Json(Trabajador::de(e)))
        .ok_or_else(|| {
            ErrorApi::no_encontrado(format!(
                "no worker '{nombre}' (registered: {})",
                if conocidos.is_empty() {
                    "none".to_string()
                } else {
                    conocidos.join(", ")
                }
            ))
        })
}

/// Answer to `GET /health`.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Salud {
    /// `healthy` with at least one live worker, `degraded` without (jobs wait).
    pub status: String,
    pub service: String,
    pub timestamp: String,
    pub workers_active: usize,
    pub workers_total: usize,
    pub pending_tasks: u64,
    pub running_tasks: u64,
}

#[utoipa::path(
    get,
    path = "/health",
    tags = ["original", "tareas"],
    description = "The orchestrator's health check: up, and whether any worker is alive.",
    responses((status = 200, description = "The maestro is up", body = Salud))
)]
pub async fn salud(State(s): State<Arc<Servicio>>) -> Json<Salud> {
    let estado = s.estado();
    let esclavos = estado.esclavos_info(Instant::now());
    let resumen = estado.resumen();
    drop(estado);
    let activos = esclavos.iter().filter(|e| e.vivo).count();
    Json(Salud {
        status: if activos > 0 { "healthy" } else { "degraded" }.into(),
        service: "maestro".into(),
        timestamp: comun::fecha::iso8601(comun::ahora_ms()),
        workers_active: activos,
        workers_total: esclavos.len(),
        pending_tasks: resumen.pendientes,
        running_tasks: resumen.asignados,
    })
}
