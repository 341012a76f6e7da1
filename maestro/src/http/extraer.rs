//! Extractors that turn malformed requests into [`ErrorApi`]s naming the field at fault.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
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

/// Decodes a JSON body as every handler does ([`Cuerpo`]), naming the path of the first field
/// at fault; anything but whitespace after the value is malformed JSON too. Every body of the
/// API is a JSON object: an array is refused (serde would read it as the fields in order).
pub fn decodificar<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ErrorApi> {
    if let Some(i) = bytes.iter().position(|b| !b.is_ascii_whitespace())
        && bytes[i] == b'['
    {
        let antes = &bytes[..i];
        let linea = antes.iter().filter(|&&b| b == b'\n').count() + 1;
        let columna = i - antes.iter().rposition(|&b| b == b'\n').map_or(0, |n| n + 1) + 1;
        return Err(ErrorApi::Cliente(
            StatusCode::UNPROCESSABLE_ENTITY,
            CuerpoError::new(format!(
                "invalid type: the body is a JSON array (at line {linea} column {columna}); \
                 it must be a JSON object"
            )),
        ));
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let valor = serde_path_to_error::deserialize(&mut *de).map_err(|e| {
        let camino = e.path().to_string();
        let interno = e.into_inner();
        let campo = (camino != ".").then_some(camino);
        if interno.is_syntax() || interno.is_eof() {
            // serde_json reports some wrong types (a number for an enum) as syntax: say where.
            let donde = campo
                .as_ref()
                .map(|c| format!(" at {c}"))
                .unwrap_or_default();
            return ErrorApi::Cliente(
                StatusCode::BAD_REQUEST,
                CuerpoError {
                    campo,
                    ..CuerpoError::new(format!("malformed JSON{donde}: {interno}"))
                },
            );
        }
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
    })?;
    de.end()
        .map_err(|e| ErrorApi::peticion(format!("malformed JSON: {e}")))?;
    Ok(valor)
}

/// Path parameters; one that cannot be read (not UTF-8 once percent-decoded) is a 400 naming
/// it, in JSON like every other error.
pub struct Ruta<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Ruta<T> {
    type Rejection = ErrorApi;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| Ruta(v))
            .map_err(|e: PathRejection| ErrorApi::peticion(e.body_text()))
    }
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
