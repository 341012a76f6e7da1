//! The memoria's HTTP API: routes and handlers, answering refusals with the cluster's one
//! [`ErrorApi`].
//!
//! | route | what |
//! |---|---|
//! | `GET /ping` | liveness: [`Ping`] |
//! | `GET /metricas` | the newest [`Muestra`]; 503 before the first sample |
//! | `GET /historial?desde=<ms>` | the kept samples taken at or after `desde`: [`Historial`] |
//! | `GET /alertas` | the active alerts: [`Alertas`] |
//! | `GET /metrics` | Prometheus metrics, text format (`hpc_memoria_*`: every sampled value, active alerts; docs/metrics.md) |
//! | `GET /openapi.json` | this API's OpenAPI 3 document ([`contrato`]; a copy is kept in `docs/openapi/memoria.json`) |
//!
//! Every route is added with `utoipa_axum::routes!` from a handler carrying its
//! `#[utoipa::path]` description, so none exists undescribed.
//!
//! Every route only reads; with a token configured, all but `GET /ping` need it unless
//! `lecturas_abiertas` ([`plataforma::proteger`]). Errors are a JSON
//! [`CuerpoError`](comun::CuerpoError) naming the query parameter at fault.

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use axum::{Json, Router};
use comun::api::Ping;
use comun::memoria::{Alertas, Historial, Muestra};
use plataforma::http::openapi;
use plataforma::http::{Consulta, ErrorApi, metodo_no_permitido, ruta_desconocida};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::servicio::Memoria;

/// The memoria's routes over its shared state.
pub fn router(memoria: Arc<Memoria>) -> Router {
    let (rutas, _) = openapi::documentar(rutas_api());
    let rutas = rutas
        .fallback(ruta_desconocida(
            "a memoria serves /ping, /metricas, /historial, /alertas, /metrics and /openapi.json",
        ))
        .method_not_allowed_fallback(metodo_no_permitido);
    let rutas = plataforma::proteger(rutas, memoria.acceso().clone());
    memoria.metricas().medir(rutas).with_state(memoria)
}

/// The memoria's OpenAPI document, as `GET /openapi.json` serves it.
pub fn contrato() -> utoipa::openapi::OpenApi {
    openapi::documentar(rutas_api()).1
}

/// Every route, each with its `#[utoipa::path]` description (`routes!` takes both).
fn rutas_api() -> OpenApiRouter<Arc<Memoria>> {
    OpenApiRouter::with_openapi(openapi::base("memoria", DESCRIPCION))
        .routes(routes!(ping))
        .routes(routes!(metricas))
        .routes(routes!(historial))
        .routes(routes!(alertas))
        .routes(routes!(prometheus))
}

/// What the document says of the memoria as a whole.
const DESCRIPCION: &str = "A memoria node of the HPC cluster: it samples its node's CPU, \
    memory, swap, disks and GPUs, keeps a bounded history, raises alerts, and reports to the \
    maestro. Routes tagged `original` (and marked `x-original: true`) are the original Flask \
    system's; the others are new. Every error answer is a JSON `CuerpoError`; a path no route \
    serves answers 404 and a method a path does not take 405, both with it.";

#[utoipa::path(
    get,
    path = "/ping",
    tags = ["original", "servicio"],
    security(()),
    description = "Liveness. Always open, token or not.",
    responses((status = 200, description = "The memoria is up", body = Ping))
)]
async fn ping() -> Json<Ping> {
    Json(Ping::ok("memoria"))
}

/// The newest sample; 503 before the first.
#[utoipa::path(
    get,
    path = "/metricas",
    tags = ["original", "memoria"],
    description = "The newest sample of this node.",
    responses(
        (status = 200, description = "The newest sample", body = Muestra),
        (status = 503, description = "No sample yet: the first one is being taken"),
    )
)]
async fn metricas(State(memoria): State<Arc<Memoria>>) -> Result<Json<Muestra>, ErrorApi> {
    memoria
        .ultima()
        .map(Json)
        .ok_or_else(|| ErrorApi::no_disponible("no sample yet: the first one is being taken"))
}

#[utoipa::path(
    get,
    path = "/historial",
    tags = ["original", "memoria"],
    params(("desde" = Option<u64>, Query, description = "Only samples taken at or after this time, in milliseconds since the Unix epoch")),
    description = "The kept samples, oldest first.",
    responses((status = 200, description = "The samples", body = Historial))
)]
async fn historial(
    State(memoria): State<Arc<Memoria>>,
    Consulta(pares): Consulta<Vec<(String, String)>>,
) -> Result<Json<Historial>, ErrorApi> {
    let desde = leer_desde(&pares)?;
    Ok(Json(memoria.historial(desde)))
}

#[utoipa::path(
    get,
    path = "/alertas",
    tags = ["original", "memoria"],
    description = "The active alerts of this node.",
    responses((status = 200, description = "The active alerts", body = Alertas))
)]
async fn alertas(State(memoria): State<Arc<Memoria>>) -> Json<Alertas> {
    Json(memoria.alertas())
}

#[utoipa::path(
    get,
    path = "/metrics",
    tag = "servicio",
    description = "The memoria's Prometheus metrics in the text exposition format \
                   (`hpc_memoria_*`, labelled with the node: every value of the newest sample, \
                   the active alerts by resource and level, HTTP requests; docs/metrics.md \
                   lists them). Guarded like every read.",
    responses((status = 200, description = "Prometheus text format 0.0.4", body = String,
               content_type = "text/plain; version=0.0.4"))
)]
async fn prometheus(State(memoria): State<Arc<Memoria>>) -> Result<Response, ErrorApi> {
    memoria.exponer_metricas()
}

/// `desde` (milliseconds since the Unix epoch) from `/historial`'s query; the only parameter.
fn leer_desde(pares: &[(String, String)]) -> Result<Option<u64>, ErrorApi> {
    let mut desde = None;
    for (nombre, valor) in pares {
        if nombre != "desde" {
            return Err(ErrorApi::parametro(
                nombre,
                if nombre.is_empty() {
                    "a parameter with no name (/historial takes only `desde`)".to_owned()
                } else {
                    format!("{nombre}: unknown parameter (/historial takes only `desde`)")
                },
            ));
        }
        if desde.is_some() {
            return Err(ErrorApi::parametro("desde", "desde: given twice"));
        }
        let ms = valor.trim().parse::<u64>().map_err(|_| {
            ErrorApi::parametro(
                "desde",
                format!("desde: `{valor}` is not a time in milliseconds since the Unix epoch"),
            )
        })?;
        desde = Some(ms);
    }
    Ok(desde)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pares(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter().map(|(a, b)| ((*a).into(), (*b).into())).collect()
    }

    fn campo(r: Result<Option<u64>, ErrorApi>) -> Option<String> {
        match r {
            Err(ErrorApi::Cliente(_, cuerpo)) => cuerpo.campo,
            otro => panic!("expected a bad request, got {otro:?}"),
        }
    }

    #[test]
    fn desde_is_read_and_checked() {
        assert_eq!(leer_desde(&[]).unwrap(), None);
        assert_eq!(leer_desde(&pares(&[("desde", "17")])).unwrap(), Some(17));
        assert_eq!(
            campo(leer_desde(&pares(&[("desde", "-1")]))).as_deref(),
            Some("desde")
        );
        assert_eq!(
            campo(leer_desde(&pares(&[("desde", "")]))).as_deref(),
            Some("desde")
        );
        assert_eq!(
            campo(leer_desde(&pares(&[("desde", "1"), ("desde", "2")]))).as_deref(),
            Some("desde")
        );
        assert_eq!(
            campo(leer_desde(&pares(&[("hasta", "1")]))).as_deref(),
            Some("hasta")
        );
    }
}
