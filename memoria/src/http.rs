//! The memoria's HTTP API: routes, handlers and the one error type they answer with.
//!
//! | route | what |
//! |---|---|
//! | `GET /ping` | liveness: [`Ping`] |
//! | `GET /metricas` | the newest [`Muestra`]; 503 before the first sample |
//! | `GET /historial?desde=<ms>` | the kept samples taken at or after `desde`: [`Historial`] |
//! | `GET /alertas` | the active alerts: [`Alertas`] |
//!
//! Every route only reads; with a token configured, all but `GET /ping` need it unless
//! `lecturas_abiertas` ([`arranque::proteger`]). Errors are a JSON [`CuerpoError`] naming the
//! query parameter at fault.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use comun::CuerpoError;
use comun::api::Ping;
use comun::memoria::{Alertas, Historial, Muestra};

use crate::compartido::Memoria;

/// The memoria's routes over its shared state.
pub fn router(memoria: Arc<Memoria>) -> Router {
    let rutas = Router::new()
        .route("/ping", get(ping))
        .route("/metricas", get(metricas))
        .route("/historial", get(historial))
        .route("/alertas", get(alertas))
        .fallback(ruta_desconocida)
        .method_not_allowed_fallback(metodo_no_permitido);
    arranque::proteger(rutas, memoria.acceso().clone()).with_state(memoria)
}

/// Why a request got no answer; every variant answers with a JSON [`CuerpoError`].
#[derive(Debug, thiserror::Error)]
pub enum ErrorHttp {
    /// No sample has been taken yet (the first comes right after start).
    #[error("no sample yet: the first one is being taken")]
    SinMuestra,
    /// The request is wrong: its status (4xx) and what to tell the client.
    #[error("{}", .cuerpo.error)]
    Peticion {
        /// 400, 404: the real status of the problem.
        estado: StatusCode,
        /// The message, and the parameter at fault when there is one.
        cuerpo: CuerpoError,
    },
}

impl ErrorHttp {
    fn parametro(campo: &str, error: String) -> Self {
        let mut cuerpo = CuerpoError::new(error);
        cuerpo.campo = Some(campo.to_owned());
        ErrorHttp::Peticion {
            estado: StatusCode::BAD_REQUEST,
            cuerpo,
        }
    }
}

impl IntoResponse for ErrorHttp {
    fn into_response(self) -> Response {
        match self {
            ErrorHttp::SinMuestra => (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(CuerpoError::new(self.to_string())),
            )
                .into_response(),
            ErrorHttp::Peticion { estado, cuerpo } => (estado, Json(cuerpo)).into_response(),
        }
    }
}

async fn ping() -> Json<Ping> {
    Json(Ping::ok("memoria"))
}

async fn metricas(State(memoria): State<Arc<Memoria>>) -> Result<Json<Muestra>, ErrorHttp> {
    memoria.ultima().map(Json).ok_or(ErrorHttp::SinMuestra)
}

async fn historial(
    State(memoria): State<Arc<Memoria>>,
    consulta: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<Historial>, ErrorHttp> {
    let Query(pares) = consulta.map_err(|r| {
        ErrorHttp::parametro("desde", format!("unreadable query: {}", r.body_text()))
    })?;
    let desde = leer_desde(&pares)?;
    Ok(Json(memoria.historial(desde)))
}

async fn alertas(State(memoria): State<Arc<Memoria>>) -> Json<Alertas> {
    Json(memoria.alertas())
}

/// A known route with a method it does not take (axum adds the `Allow` header).
async fn metodo_no_permitido(metodo: Method, uri: Uri) -> ErrorHttp {
    ErrorHttp::Peticion {
        estado: StatusCode::METHOD_NOT_ALLOWED,
        cuerpo: CuerpoError::new(format!(
            "{metodo} {} is not allowed: every route of a memoria is GET",
            uri.path()
        )),
    }
}

async fn ruta_desconocida(uri: Uri) -> ErrorHttp {
    ErrorHttp::Peticion {
        estado: StatusCode::NOT_FOUND,
        cuerpo: CuerpoError::new(format!(
            "no route {uri} (a memoria serves /ping, /metricas, /historial and /alertas)"
        )),
    }
}

/// `desde` (milliseconds since the Unix epoch) from `/historial`'s query; the only parameter.
fn leer_desde(pares: &[(String, String)]) -> Result<Option<u64>, ErrorHttp> {
    let mut desde = None;
    for (nombre, valor) in pares {
        if nombre != "desde" {
            return Err(ErrorHttp::parametro(
                nombre,
                if nombre.is_empty() {
                    "a parameter with no name (/historial takes only `desde`)".to_owned()
                } else {
                    format!("{nombre}: unknown parameter (/historial takes only `desde`)")
                },
            ));
        }
        if desde.is_some() {
            return Err(ErrorHttp::parametro("desde", "desde: given twice".into()));
        }
        let ms = valor.trim().parse::<u64>().map_err(|_| {
            ErrorHttp::parametro(
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

    fn campo(r: Result<Option<u64>, ErrorHttp>) -> Option<String> {
        match r {
            Err(ErrorHttp::Peticion { cuerpo, .. }) => cuerpo.campo,
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
