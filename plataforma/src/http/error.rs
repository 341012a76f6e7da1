//! [`ErrorApi`]: the one error every handler of the three services answers with. A refusal
//! carries its real status and a JSON [`CuerpoError`] naming the field, the line or the limit;
//! an internal failure is logged with its cause chain and shown to the client as a bare 500.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use comun::{CuerpoError, ErrorCampo};

/// Why a request got no normal answer.
#[derive(Debug)]
pub enum ErrorApi {
    /// An answer the client can act on: its real status (a 4xx, or 503 for a service that
    /// cannot serve it yet) and a body naming what and where.
    Cliente(StatusCode, CuerpoError),
    /// Something failed inside the service: 500, details only in its log.
    Interno(anyhow::Error),
}

impl ErrorApi {
    /// 400 with `mensaje`.
    pub fn peticion(mensaje: impl Into<String>) -> Self {
        Self::Cliente(StatusCode::BAD_REQUEST, CuerpoError::new(mensaje))
    }

    /// 400 naming the query parameter `campo`; `mensaje` is the whole message.
    pub fn parametro(campo: impl Into<String>, mensaje: impl Into<String>) -> Self {
        Self::Cliente(
            StatusCode::BAD_REQUEST,
            CuerpoError::new(mensaje).con_campo(campo),
        )
    }

    pub fn no_encontrado(mensaje: impl Into<String>) -> Self {
        Self::Cliente(StatusCode::NOT_FOUND, CuerpoError::new(mensaje))
    }

    pub fn conflicto(mensaje: impl Into<String>) -> Self {
        Self::Cliente(StatusCode::CONFLICT, CuerpoError::new(mensaje))
    }

    /// 503: the service cannot answer this yet (it is starting).
    pub fn no_disponible(mensaje: impl Into<String>) -> Self {
        Self::Cliente(StatusCode::SERVICE_UNAVAILABLE, CuerpoError::new(mensaje))
    }

    /// A field failed validation: 422 naming it, and its limit when it broke one.
    pub fn campo(e: ErrorCampo) -> Self {
        Self::Cliente(StatusCode::UNPROCESSABLE_ENTITY, e.into())
    }
}

impl From<ErrorCampo> for ErrorApi {
    fn from(e: ErrorCampo) -> Self {
        Self::campo(e)
    }
}

impl From<anyhow::Error> for ErrorApi {
    fn from(e: anyhow::Error) -> Self {
        Self::Interno(e)
    }
}

impl IntoResponse for ErrorApi {
    fn into_response(self) -> Response {
        match self {
            Self::Cliente(status, cuerpo) => (status, Json(cuerpo)).into_response(),
            Self::Interno(e) => {
                tracing::error!("internal error: {e:#}");
                let cuerpo =
                    CuerpoError::new("internal error; the details are in this service's log");
                (StatusCode::INTERNAL_SERVER_ERROR, Json(cuerpo)).into_response()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn cuerpo(r: Response) -> (StatusCode, CuerpoError) {
        let status = r.status();
        let bytes = axum::body::to_bytes(r.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn an_internal_error_shows_nothing_of_its_cause() {
        let e = anyhow::anyhow!("disk /secret/path is full").context("committing job 7");
        let (status, c) = cuerpo(ErrorApi::from(e).into_response()).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(
            !c.error.contains("secret") && !c.error.contains("job 7"),
            "{c:?}"
        );
    }

    #[tokio::test]
    async fn a_field_error_is_a_422_naming_the_field_and_the_limit() {
        let e = ErrorCampo::new("width", "20000 exceeds the limit of 16384").con_limite(16_384);
        let (status, c) = cuerpo(ErrorApi::from(e).into_response()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(c.campo.as_deref(), Some("width"));
        assert_eq!(c.limite, Some(16_384));
        assert_eq!(c.error, "width: 20000 exceeds the limit of 16384");
    }
}
