//! The maestro's HTTP error: client errors with their real status and a precise JSON body;
//! internal errors logged with their cause chain and opaque to the client.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use comun::{CuerpoError, ErrorCampo};

#[derive(Debug)]
pub enum ErrorApi {
    /// The request is wrong: 4xx with a body naming what and where.
    Cliente(StatusCode, CuerpoError),
    /// Something failed inside the maestro: 500, details only in the log.
    Interno(anyhow::Error),
}

impl ErrorApi {
    pub fn peticion(mensaje: impl Into<String>) -> Self {
        ErrorApi::Cliente(StatusCode::BAD_REQUEST, CuerpoError::new(mensaje))
    }

    pub fn no_encontrado(mensaje: impl Into<String>) -> Self {
        ErrorApi::Cliente(StatusCode::NOT_FOUND, CuerpoError::new(mensaje))
    }

    pub fn conflicto(mensaje: impl Into<String>) -> Self {
        ErrorApi::Cliente(StatusCode::CONFLICT, CuerpoError::new(mensaje))
    }

    pub fn no_autorizado(mensaje: impl Into<String>) -> Self {
        ErrorApi::Cliente(StatusCode::UNAUTHORIZED, CuerpoError::new(mensaje))
    }

    /// A field failed validation: 422 naming it.
    pub fn campo(e: ErrorCampo) -> Self {
        ErrorApi::Cliente(StatusCode::UNPROCESSABLE_ENTITY, e.into())
    }
}

impl From<ErrorCampo> for ErrorApi {
    fn from(e: ErrorCampo) -> Self {
        ErrorApi::campo(e)
    }
}

impl From<anyhow::Error> for ErrorApi {
    fn from(e: anyhow::Error) -> Self {
        ErrorApi::Interno(e)
    }
}

impl IntoResponse for ErrorApi {
    fn into_response(self) -> Response {
        match self {
            ErrorApi::Cliente(status, cuerpo) => (status, Json(cuerpo)).into_response(),
            ErrorApi::Interno(e) => {
                tracing::error!("internal error: {e:#}");
                let cuerpo = CuerpoError::new("internal error in the maestro; see its log");
                (StatusCode::INTERNAL_SERVER_ERROR, Json(cuerpo)).into_response()
            }
        }
    }
}
