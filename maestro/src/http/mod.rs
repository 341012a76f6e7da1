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
//! | GET | `/trabajos/{id}/imagen` | PNG of a finished Julia job |
//! | POST | `/cargar_trabajos` | queue the lines of an uploaded or named jobs file |
//! | POST | `/limpiar_cola` | cancel every pending job (waiting for a retry or not); running ones run on |
//! | GET | `/memoria` | latest report of each memoria node, active alerts of the fresh ones |
//! | POST | `/registrar_esclavo`, `/latido`, `/resultado` | used by esclavos; the answer to `/latido` lists the jobs it runs that are cancelled, finished or running elsewhere, for it to stop |
//! | POST | `/reporte_memoria` | used by memoria nodes |
//! | GET | `/`, `/panel/...` | the dashboard ([`crate::panel`] lists its routes); outside the Bearer check: it reads the token from its session cookie |
//!
//! With a token configured, every request but `GET /ping` needs `Authorization: Bearer
//! <token>`; with `lecturas_abiertas`, GET requests pass without it ([`plataforma::acceso`]).

mod acciones;
mod esclavos;
mod estadisticas;
mod extraer;
mod memoria;
mod trabajos;

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use comun::api::{EstadoCluster, Ping};
use plataforma::Acceso;

use crate::servicio::Servicio;
pub use extraer::decodificar;
pub use plataforma::http::ErrorApi;

/// Largest body of a request that queues jobs or uploads a jobs file.
const LIMITE_CUERPO: usize = 16 * 1024 * 1024;
/// Largest body of a batch of results (they carry PNGs of up to 8192² pixels).
const LIMITE_RESULTADOS: usize = 1024 * 1024 * 1024;
/// What a 404 suggests instead.
const RUTAS: &str = "see GET /ping, /estado, /esclavos, /trabajos, POST /agregar_trabajo, \
                     /cargar_trabajos, /limpiar_cola";

/// The whole API over the shared state.
pub fn router(s: Arc<Servicio>) -> Router {
    let rutas = Router::new()
        .route("/ping", get(ping))
        .route("/estado", get(estado_cluster))
        .route("/esclavos", get(esclavos::listar))
        .route("/esclavos/{nombre}", get(estadisticas::esclavo))
        .route("/estadisticas", get(estadisticas::ver))
        .route("/stats", get(estadisticas::stats))
        .route("/stats/performance", get(estadisticas::rendimiento))
        .route("/estadisticas/series", get(estadisticas::series))
        .route("/resumen", get(trabajos::resumen))
        .route("/agregar_trabajo", post(trabajos::agregar))
        .route(
            "/trabajos",
            post(trabajos::agregar_lote).get(trabajos::listar),
        )
        .route(
            "/trabajos/{id}",
            get(trabajos::ver).delete(trabajos::cancelar),
        )
        .route("/trabajos/{id}/imagen", get(trabajos::imagen))
        .route("/cargar_trabajos", post(trabajos::cargar))
        .route("/limpiar_cola", post(trabajos::limpiar))
        .route("/registrar_esclavo", post(esclavos::registrar))
        .route("/latido", post(esclavos::latido))
        .route("/reporte_memoria", post(memoria::reportar))
        .route("/memoria", get(memoria::ver))
        .route(
            "/resultado",
            post(esclavos::resultado).layer(DefaultBodyLimit::max(LIMITE_RESULTADOS)),
        )
        .fallback(plataforma::http::ruta_desconocida(RUTAS))
        .method_not_allowed_fallback(plataforma::http::metodo_no_permitido)
        .layer(DefaultBodyLimit::max(LIMITE_CUERPO));
    let acceso = Acceso::new(s.config.token.clone(), s.config.lecturas_abiertas);
    // The dashboard checks its session cookie itself, under the same rules (`panel::sesion`).
    plataforma::proteger(rutas, acceso)
        .merge(crate::panel::router())
        .with_state(s)
}

async fn ping() -> Json<Ping> {
    Json(Ping::ok("maestro"))
}

async fn estado_cluster(State(s): State<Arc<Servicio>>) -> Json<EstadoCluster> {
    let ahora = std::time::Instant::now();
    let archivo = s.informe_archivo.borrow().clone();
    let estado = s.estado();
    Json(EstadoCluster {
        resumen: estado.resumen(),
        cola: estado.cola_por_prioridad(),
        esclavos: estado.esclavos_info(ahora),
        archivo,
    })
}
