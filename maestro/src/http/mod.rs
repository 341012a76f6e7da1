//! The maestro's HTTP API. [`router`] builds it; each handler parses, calls one operation of
//! [`Servicio`], and answers JSON.
//!
//! | method | path | what |
//! |---|---|---|
//! | GET | `/ping` | liveness |
//! | GET | `/estado` | queue by priority and state, esclavos, watched-file report |
//! | GET | `/esclavos` | registered esclavos |
//! | GET | `/esclavos/{nombre}` | one esclavo with its history: utilisation, counts, mean times by tipo and backend, latest attempts, load over the last hour; 404 if unknown |
//! | GET | `/estadisticas`, `/stats` | jobs by state, throughput, wait/run/kernel time by tipo and backend, GPU speedup, esclavos' utilisation ([`comun::estadisticas::Estadisticas`]) |
//! | GET | `/stats/performance` | the throughput, times and speedups part of it |
//! | GET | `/estadisticas/series` | the last hour's time series ([`crate::series`] shows the shape) |
//! | GET | `/resumen?version=V&espera_ms=T` | job counts; waits up to T ms for a version other than V |
//! | POST | `/agregar_trabajo` | queue one job (the original flat body) |
//! | POST | `/trabajos` | queue many jobs, all or none |
//! | GET | `/trabajos?estado=E&tipo=T&prioridad=P&esclavo=X&origen=O&limite=N&cursor=C` | a page of jobs, newest first, filtered in the store; the answer's `siguiente` is the next page's `cursor` ([`crate::operaciones`]) |
//! | GET | `/trabajos/{id}?esperar_ms=T` | one job with its attempts and time limit; for a pending one, why it waits (its queue place, or its retry's delay); waits up to T ms for it to finish |
//! | DELETE | `/trabajos/{id}` | cancel a pending job (waiting for a retry or not), or a running one: its esclavo is told to stop it (`POST {esclavo}/cancelar`, in the background) |
//! | PATCH | `/trabajos/{id}` | `{"prioridad": P}`: a pending job's new priority and place in the queue; 409 if not pending |
//! | POST | `/trabajos/{id}/reintentar` | queue a fallido or cancelado job again (same id, attempts kept); 409 naming its state otherwise |
//! | GET | `/trabajos/{id}/imagen` | PNG of a finished Julia or imagen job |
//! | POST | `/imagenes` | upload a PNG (the body, at most 128 MiB) for `imagen` jobs: checked whole ([`comun::imagenes`]), stored, answered 201 with its id |
//! | GET | `/imagenes/{id}` | an uploaded PNG as it was uploaded (esclavos fetch it before running a job that names it) |
//! | POST | `/cargar_trabajos` | queue the lines of an uploaded or named jobs file |
//! | POST | `/limpiar_cola` | cancel every pending job (waiting for a retry or not); running ones run on |
//! | GET | `/memoria` | latest report of each memoria node, active alerts of the fresh ones |
//! | POST | `/registrar_esclavo`, `/latido`, `/resultado` | used by esclavos; the answer to `/latido` lists the jobs it runs that are cancelled, finished or running elsewhere, for it to stop |
//! | POST | `/esclavos/{nombre}/drenar` | drain an esclavo: no new job goes to it, its running ones finish there |
//! | POST | `/esclavos/{nombre}/baja` | used by a drained esclavo as it stops: what it still runs is handed back to the queue (not a failure) and it is forgotten |
//! | POST | `/reporte_memoria` | used by memoria nodes |
//! | GET | `/metrics` | Prometheus metrics, text format (`hpc_maestro_*`; docs/metrics.md) |
//! | GET | `/`, `/panel/...` | the dashboard ([`crate::panel`] lists its routes); outside the Bearer check: it reads the token from its session cookie |
//! | POST | `/tasks` | the orchestrator's: one task or `{"tasks": [...]}`, all or none ([`comun::tareas`]) |
//! | GET | `/tasks?status=S&limit=N`, `/tasks/{task_id}` | the orchestrator's: jobs as tasks (`task_id`, `algorithm`, `status`, `execution_time`, `worker_id`, `completed_at`, `result`) |
//! | DELETE | `/tasks/{task_id}` | the orchestrator's: cancel |
//! | GET | `/workers`, `/workers/{id}` | the orchestrator's: esclavos as workers |
//! | GET | `/health` | the orchestrator's health check: up, and live workers |
//! | GET | `/openapi.json` | this API's OpenAPI 3 document ([`contrato`]; a copy is kept in `docs/openapi/maestro.json`) |
//!
//! With a token configured, every request but `GET /ping` needs `Authorization: Bearer
//! <token>`; with `lecturas_abiertas`, GET requests pass without it ([`plataforma::acceso`]).
//!
//! Every API route is added with `utoipa_axum::routes!` from a handler carrying its
//! `#[utoipa::path]` description (statuses, bodies, parameters), so none exists undescribed;
//! the dashboard's HTML pages are a plain router merged in, outside the document.

mod acciones;
mod esclavos;
mod estadisticas;
mod extraer;
mod imagenes;
mod memoria;
mod metricas;
mod tareas;
mod trabajos;

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, State};
use axum::{Json, Router};
use comun::api::{EstadoCluster, Ping};
use comun::imagenes::MAX_BYTES_PNG;
use plataforma::Acceso;
use plataforma::http::openapi;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use crate::servicio::Servicio;
pub use extraer::decodificar;
pub use plataforma::http::ErrorApi;

/// Largest body of a request that queues jobs or uploads a jobs file.
const LIMITE_CUERPO: usize = 16 * 1024 * 1024;
/// Largest body of a batch of results (they carry PNGs of up to 8192² pixels).
const LIMITE_RESULTADOS: usize = 1024 * 1024 * 1024;
/// What a 404 suggests instead.
const RUTAS: &str = "see GET /ping, /estado, /esclavos, /trabajos, /tasks, /workers, \
                     /health, POST /agregar_trabajo, /cargar_trabajos, /tasks, /limpiar_cola";

/// The whole API over the shared state.
pub fn router(s: Arc<Servicio>) -> Router {
    let (rutas, _) = openapi::documentar(rutas_api());
    let rutas = rutas
        .fallback(plataforma::http::ruta_desconocida(RUTAS))
        .method_not_allowed_fallback(plataforma::http::metodo_no_permitido)
        .layer(DefaultBodyLimit::max(LIMITE_CUERPO));
    let acceso = Acceso::new(s.config.token.clone(), s.config.lecturas_abiertas);
    // The dashboard checks its session cookie itself, under the same rules (`panel::sesion`).
    let rutas = plataforma::proteger(rutas, acceso).merge(crate::panel::router());
    // Outermost: refusals and the dashboard's pages are counted too.
    s.metricas.base().medir(rutas).with_state(s)
}

/// The maestro's OpenAPI document, as `GET /openapi.json` serves it.
pub fn contrato() -> utoipa::openapi::OpenApi {
    openapi::documentar(rutas_api()).1
}

/// Every route of the API, each with its `#[utoipa::path]` description (`routes!` takes both).
fn rutas_api() -> OpenApiRouter<Arc<Servicio>> {
    OpenApiRouter::with_openapi(openapi::base("maestro", DESCRIPCION))
        .routes(routes!(ping))
        .routes(routes!(estado_cluster))
        .routes(routes!(esclavos::listar))
        .routes(routes!(estadisticas::esclavo))
        .routes(routes!(estadisticas::ver))
        .routes(routes!(estadisticas::stats))
        .routes(routes!(estadisticas::rendimiento))
        .routes(routes!(estadisticas::series))
        .routes(routes!(trabajos::resumen))
        .routes(routes!(trabajos::agregar))
        .routes(routes!(trabajos::agregar_lote, trabajos::listar))
        .routes(routes!(
            trabajos::ver,
            trabajos::cancelar,
            acciones::priorizar
        ))
        .routes(routes!(acciones::reintentar))
        .routes(routes!(trabajos::imagen))
        .routes(routes!(trabajos::cargar))
        .routes(routes!(trabajos::limpiar))
        .routes(routes!(esclavos::registrar))
        .routes(routes!(esclavos::latido))
        .routes(routes!(esclavos::drenar))
        .routes(routes!(esclavos::baja))
        .routes(routes!(memoria::reportar))
        .routes(routes!(memoria::ver))
        .routes(routes!(metricas::exponer))
        .routes(routes!(esclavos::resultado).layer(DefaultBodyLimit::max(LIMITE_RESULTADOS)))
        .routes(routes!(imagenes::subir).layer(DefaultBodyLimit::max(MAX_BYTES_PNG)))
        .routes(routes!(imagenes::ver))
        .routes(routes!(tareas::crear, tareas::listar))
        .routes(routes!(tareas::ver, tareas::cancelar))
        .routes(routes!(tareas::trabajadores))
        .routes(routes!(tareas::trabajador))
        .routes(routes!(tareas::salud))
}

/// What the document says of the maestro as a whole.
const DESCRIPCION: &str = "The maestro of the HPC cluster: it queues jobs (trabajos), hands \
    them to the registered esclavos and keeps their results and history. Routes tagged \
    `original` (and marked `x-original: true`) are the original systems' (the Flask \
    maestro-esclavo's; the orchestrator's `/stats`, `/tasks`, `/workers`, `/health`), with their names and bodies; the others \
    are new. Every error answer is a JSON `CuerpoError`; a path \
    no route serves answers 404 and a method a path does not take 405, both with that body.";

#[utoipa::path(
    get,
    path = "/ping",
    tags = ["original", "servicio"],
    security(()),
    description = "Liveness. Always open, token or not.",
    responses((status = 200, description = "The maestro is up", body = Ping))
)]
async fn ping() -> Json<Ping> {
    Json(Ping::ok("maestro"))
}

#[utoipa::path(
    get,
    path = "/estado",
    tags = ["original", "cluster"],
    description = "The queue by priority and state, the esclavos, the watched jobs file's report, the store's health and, with several maestros on one PostgreSQL database, the replicas and which one leads.",
    responses((status = 200, description = "The cluster's state", body = EstadoCluster))
)]
async fn estado_cluster(State(s): State<Arc<Servicio>>) -> Json<EstadoCluster> {
    let ahora = std::time::Instant::now();
    let archivo = s.informe_archivo.borrow().clone();
    let estado = s.estado();
    Json(EstadoCluster {
        resumen: estado.resumen(),
        cola: estado.cola_por_prioridad(),
        esclavos: estado.esclavos_info(ahora),
        archivo,
        almacen: s.almacen.info(),
        replicas: s
            .config
            .replicas
            .as_ref()
            .map(|r| r.borrow().clone())
            .unwrap_or_default(),
    })
}
