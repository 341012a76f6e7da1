//! The maestro's HTTP API. [`router`] builds it; each handler parses, calls one operation of
//! [`Compartido`], and answers JSON.
//!
//! | method | path | what |
//! |---|---|---|
//! | GET | `/ping` | liveness |
//! | GET | `/estado` | queue by priority and state, esclavos, watched-file report |
//! | GET | `/esclavos` | registered esclavos |
//! | GET | `/resumen?version=V&espera_ms=T` | job counts; waits up to T ms for a version other than V |
//! | POST | `/agregar_trabajo` | queue one job (the original flat body) |
//! | POST | `/trabajos` | queue many jobs, all or none |
//! | GET | `/trabajos?estado=E&limite=N` | jobs, newest first |
//! | GET | `/trabajos/{id}?esperar_ms=T` | one job (waits up to T ms for it to finish) |
//! | DELETE | `/trabajos/{id}` | cancel a pending or running job |
//! | GET | `/trabajos/{id}/imagen` | PNG of a finished Julia job |
//! | POST | `/cargar_trabajos` | queue the lines of an uploaded or named jobs file |
//! | POST | `/limpiar_cola` | cancel every pending job |
//! | GET | `/memoria` | latest report of each memoria node, active alerts of the fresh ones |
//! | POST | `/registrar_esclavo`, `/latido`, `/resultado` | used by esclavos |
//! | POST | `/reporte_memoria` | used by memoria nodes |
//!
//! With a token configured, every request other than GET needs `Authorization: Bearer <token>`.

mod error;
mod esclavos;
mod extraer;
mod memoria;
mod trabajos;

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::Method;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use comun::api::{EstadoCluster, Ping};

use crate::compartido::Compartido;
pub use error::ErrorApi;

/// Largest body of a request that queues jobs or uploads a jobs file.
const LIMITE_CUERPO: usize = 16 * 1024 * 1024;
/// Largest body of a batch of results (they carry PNGs of up to 8192² pixels).
const LIMITE_RESULTADOS: usize = 1024 * 1024 * 1024;

/// The whole API over the shared state.
pub fn router(c: Arc<Compartido>) -> Router {
    Router::new()
        .route("/ping", get(ping))
        .route("/estado", get(estado))
        .route("/esclavos", get(esclavos::listar))
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
        .fallback(no_existe)
        .layer(DefaultBodyLimit::max(LIMITE_CUERPO))
        .layer(middleware::from_fn_with_state(c.clone(), exigir_token))
        .with_state(c)
}

async fn ping() -> Json<Ping> {
    Json(Ping::ok("maestro"))
}

async fn estado(State(c): State<Arc<Compartido>>) -> Json<EstadoCluster> {
    let ahora = std::time::Instant::now();
    let estado = c.estado();
    Json(EstadoCluster {
        resumen: estado.resumen(),
        cola: estado.cola_por_prioridad(),
        esclavos: estado.esclavos_info(ahora),
        archivo: estado.archivo.clone(),
    })
}

async fn no_existe(method: Method, uri: axum::http::Uri) -> ErrorApi {
    ErrorApi::no_encontrado(format!(
        "no endpoint {method} {uri}; see GET /ping, /estado, /esclavos, /trabajos, \
         POST /agregar_trabajo, /cargar_trabajos, /limpiar_cola"
    ))
}

/// Every request that changes something needs the cluster token, when one is configured.
async fn exigir_token(State(c): State<Arc<Compartido>>, req: Request, next: Next) -> Response {
    let Some(token) = &c.config.token else {
        return next.run(req).await;
    };
    if req.method() == Method::GET || req.method() == Method::HEAD {
        return next.run(req).await;
    }
    let presentado = req
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match presentado {
        Some(t) if t == token => next.run(req).await,
        Some(_) => {
            tracing::warn!(uri = %req.uri(), "request with a wrong token refused");
            ErrorApi::no_autorizado("wrong cluster token").into_response()
        }
        None => {
            tracing::warn!(uri = %req.uri(), "request without a token refused");
            ErrorApi::no_autorizado(
                "this maestro requires the cluster token: Authorization: Bearer <HPC_TOKEN>",
            )
            .into_response()
        }
    }
}
