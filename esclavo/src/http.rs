//! The esclavo's HTTP API: routes, handlers and the one error type they answer with.
//!
//! | route | what |
//! |---|---|
//! | `GET /ping` | liveness: [`Ping`] |
//! | `GET /estado` | what it is doing: [`EstadoEsclavo`](crate::EstadoEsclavo) |
//! | `POST /ejecutar` | run jobs: [`PeticionEjecutar`] → [`RespuestaEjecutar`], 503 if it took none |
//!
//! Only `/ejecutar` changes anything, so only it requires the bearer token (when one is
//! configured). A body it cannot use is refused whole, before any job starts, with a
//! [`CuerpoError`] naming the field: 400 for malformed JSON, 422 for a well-formed body with a
//! wrong value.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use comun::CuerpoError;
use comun::api::Ping;
use comun::nodo::{PeticionEjecutar, RespuestaEjecutar};
use serde::de::DeserializeOwned;

use crate::compartido::Esclavo;
use crate::ejecucion;
use crate::estado::EstadoEsclavo;

/// The esclavo's routes over its shared state.
pub fn router(esclavo: Arc<Esclavo>) -> Router {
    Router::new()
        .route("/ping", get(ping))
        .route("/estado", get(estado))
        .route("/ejecutar", post(ejecutar))
        .fallback(ruta_desconocida)
        .with_state(esclavo)
}

/// Why a request was refused; every variant answers with a JSON [`CuerpoError`].
#[derive(Debug, thiserror::Error)]
pub enum ErrorHttp {
    /// A token is configured and the request did not carry it.
    #[error("missing or wrong bearer token")]
    NoAutorizado,
    /// The request is wrong: its status (4xx) and what to tell the client.
    #[error("{}", .cuerpo.error)]
    Peticion {
        /// 400, 404, 413, 422…: the real status of the problem.
        estado: StatusCode,
        /// The message, and the field at fault when there is one.
        cuerpo: CuerpoError,
    },
}

impl ErrorHttp {
    fn peticion(estado: StatusCode, campo: Option<String>, error: String) -> Self {
        let mut cuerpo = CuerpoError::new(error);
        cuerpo.campo = campo;
        ErrorHttp::Peticion { estado, cuerpo }
    }
}

impl IntoResponse for ErrorHttp {
    fn into_response(self) -> Response {
        match self {
            ErrorHttp::NoAutorizado => {
                let mut cuerpo = CuerpoError::new(self.to_string());
                cuerpo.campo = Some("Authorization".into());
                (
                    StatusCode::UNAUTHORIZED,
                    [(header::WWW_AUTHENTICATE, "Bearer")],
                    Json(cuerpo),
                )
                    .into_response()
            }
            ErrorHttp::Peticion { estado, cuerpo } => (estado, Json(cuerpo)).into_response(),
        }
    }
}

async fn ping() -> Json<Ping> {
    Json(Ping::ok("esclavo"))
}

async fn estado(State(esclavo): State<Arc<Esclavo>>) -> Json<EstadoEsclavo> {
    Json(esclavo.estado())
}

/// Takes each job that finds a free slot: 200 if it took at least one, 503 if none.
async fn ejecutar(
    State(esclavo): State<Arc<Esclavo>>,
    cabeceras: HeaderMap,
    cuerpo: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<RespuestaEjecutar>), ErrorHttp> {
    autorizar(esclavo.token(), &cabeceras)?;
    let cuerpo = cuerpo.map_err(|r| ErrorHttp::peticion(r.status(), None, r.body_text()))?;
    let peticion: PeticionEjecutar = leer_json(&cuerpo)?;
    validar(&peticion)?;
    let respuesta = ejecucion::aceptar(&esclavo, peticion.trabajos);
    let estado = if respuesta.aceptados.is_empty() {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    Ok((estado, Json(respuesta)))
}

async fn ruta_desconocida(uri: axum::http::Uri) -> ErrorHttp {
    ErrorHttp::peticion(
        StatusCode::NOT_FOUND,
        None,
        format!("no route {uri} (an esclavo serves /ping, /estado and /ejecutar)"),
    )
}

/// Checks `Authorization: Bearer <token>` when a token is configured.
fn autorizar(esperado: Option<&str>, cabeceras: &HeaderMap) -> Result<(), ErrorHttp> {
    let Some(esperado) = esperado else {
        return Ok(());
    };
    let recibido = cabeceras
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if iguales_en_tiempo_constante(recibido.as_bytes(), esperado.as_bytes()) {
        Ok(())
    } else {
        Err(ErrorHttp::NoAutorizado)
    }
}

/// Compares without stopping at the first difference, so timing does not reveal the token.
fn iguales_en_tiempo_constante(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Decodes a JSON body, naming the field at fault (`trabajos[0].algoritmo`) when it fails.
fn leer_json<T: DeserializeOwned>(cuerpo: &[u8]) -> Result<T, ErrorHttp> {
    let mut de = serde_json::Deserializer::from_slice(cuerpo);
    let valor = serde_path_to_error::deserialize(&mut de).map_err(error_de_json)?;
    de.end().map_err(|e| {
        ErrorHttp::peticion(StatusCode::BAD_REQUEST, None, format!("invalid JSON: {e}"))
    })?;
    Ok(valor)
}

fn error_de_json(e: serde_path_to_error::Error<serde_json::Error>) -> ErrorHttp {
    let ruta = e.path().to_string();
    let e = e.into_inner();
    let mensaje = e.to_string();
    // A missing field is reported at its parent: name the field itself.
    let campo = match (campo_ausente(&mensaje), ruta.as_str()) {
        (Some(ausente), ".") => Some(ausente.to_owned()),
        (Some(ausente), padre) => Some(format!("{padre}.{ausente}")),
        (None, ".") => None,
        (None, ruta) => Some(ruta.to_owned()),
    };
    let (estado, error) = match e.classify() {
        serde_json::error::Category::Data => (
            StatusCode::UNPROCESSABLE_ENTITY,
            match &campo {
                Some(c) => format!("{c}: {mensaje}"),
                None => mensaje,
            },
        ),
        _ => (StatusCode::BAD_REQUEST, format!("invalid JSON: {mensaje}")),
    };
    ErrorHttp::peticion(estado, campo, error)
}

/// `x` in serde's "missing field `x`" message.
fn campo_ausente(mensaje: &str) -> Option<&str> {
    let resto = mensaje.strip_prefix("missing field `")?;
    resto.split_once('`').map(|(campo, _)| campo)
}

/// Checks every job's parameters against the limits before any starts.
fn validar(p: &PeticionEjecutar) -> Result<(), ErrorHttp> {
    if p.trabajos.is_empty() {
        return Err(ErrorHttp::peticion(
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("trabajos".into()),
            "trabajos: must hold at least one job".into(),
        ));
    }
    for (i, a) in p.trabajos.iter().enumerate() {
        a.parametros.validar().map_err(|e| {
            let campo = format!("trabajos[{i}].{}", e.campo);
            let mut cuerpo = CuerpoError::new(format!("{campo}: {}", e.mensaje));
            cuerpo.campo = Some(campo);
            cuerpo.limite = e.limite;
            ErrorHttp::Peticion {
                estado: StatusCode::UNPROCESSABLE_ENTITY,
                cuerpo,
            }
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_whole() {
        assert!(iguales_en_tiempo_constante(b"abc", b"abc"));
        assert!(!iguales_en_tiempo_constante(b"abc", b"abd"));
        assert!(!iguales_en_tiempo_constante(b"abc", b"abcd"));
        assert!(!iguales_en_tiempo_constante(b"", b"a"));
    }

    #[test]
    fn a_missing_field_is_named_with_its_path() {
        assert_eq!(
            campo_ausente("missing field `trabajos` at line 1"),
            Some("trabajos")
        );
        assert_eq!(campo_ausente("invalid type"), None);
    }
}
