//! Extractors that turn malformed requests into [`ErrorApi`]s naming the field at fault.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use comun::CuerpoError;
use serde::de::DeserializeOwned;

use super::error::ErrorApi;

/// A JSON body. Malformed JSON is a 400; a well-formed body with a wrong, missing or unknown
/// field is a 422 whose `campo` is the path to it (`trabajos[3].prioridad`). The
/// `Content-Type` is not required (the original system's clients do not always send one).
pub struct Cuerpo<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Cuerpo<T> {
    type Rejection = ErrorApi;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(rechazo_bytes)?;
        decodificar(&bytes).map(Cuerpo)
    }
}

fn rechazo_bytes(r: BytesRejection) -> ErrorApi {
    let status = r.status();
    let mensaje = if status == StatusCode::PAYLOAD_TOO_LARGE {
        "request body too large for this endpoint".to_string()
    } else {
        r.body_text()
    };
    ErrorApi::Cliente(status, CuerpoError::new(mensaje))
}

/// Decodes JSON, naming the path of the first field at fault.
pub fn decodificar<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ErrorApi> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let camino = e.path().to_string();
        let interno = e.into_inner();
        if interno.is_syntax() || interno.is_eof() {
            return ErrorApi::peticion(format!("malformed JSON: {interno}"));
        }
        let campo = (camino != ".").then_some(camino);
        let mensaje = match &campo {
            Some(c) => format!("{c}: {interno}"),
            None => interno.to_string(),
        };
        ErrorApi::Cliente(
            StatusCode::UNPROCESSABLE_ENTITY,
            CuerpoError {
                campo,
                ..CuerpoError::new(mensaje)
            },
        )
    })
}

/// Query parameters; a bad one is a 400 naming it.
pub struct Consulta<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Consulta<T> {
    type Rejection = ErrorApi;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| Consulta(v))
            .map_err(|e: QueryRejection| ErrorApi::peticion(e.body_text()))
    }
}
