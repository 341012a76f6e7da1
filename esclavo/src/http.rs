//! The esclavo's HTTP API: routes, handlers and the one error type they answer with.
//!
//! | route | what |
//! |---|---|
//! | `GET /ping` | liveness: [`Ping`] |
//! | `GET /estado` | what it is doing: [`EstadoEsclavo`](crate::EstadoEsclavo) |
//! | `POST /ejecutar` | run jobs: [`PeticionEjecutar`] → [`RespuestaEjecutar`], 503 if it took none |
//! | `POST /cancelar` | stop running jobs: [`PeticionCancelar`] → [`RespuestaCancelar`] (which were running) |
//!
//! With a token configured, every route but `GET /ping` requires it (`/estado` too, unless
//! `lecturas_abiertas`): [`arranque::proteger`] checks it before any handler runs, answering
//! 401 with a [`CuerpoError`] naming `Authorization`. A body it cannot use is refused whole,
//! before any job starts, with a [`CuerpoError`] naming the field: 400 for malformed JSON, 422
//! for a well-formed body with a wrong value.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use comun::CuerpoError;
use comun::api::Ping;
use comun::nodo::{PeticionCancelar, PeticionEjecutar, RespuestaCancelar, RespuestaEjecutar};
use serde::de::DeserializeOwned;

use crate::compartido::Esclavo;
use crate::ejecucion;
use crate::estado::EstadoEsclavo;

/// The esclavo's routes over its shared state.
pub fn router(esclavo: Arc<Esclavo>) -> Router {
    let rutas = Router::new()
        .route("/ping", get(ping))
        .route("/estado", get(estado))
        .route("/ejecutar", post(ejecutar))
        .route("/cancelar", post(cancelar))
        .fallback(ruta_desconocida)
        .method_not_allowed_fallback(metodo_no_permitido);
    arranque::proteger(rutas, esclavo.acceso().clone()).with_state(esclavo)
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
    cuerpo: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<RespuestaEjecutar>), ErrorHttp> {
    let cuerpo = cuerpo.map_err(|r| ErrorHttp::peticion(r.status(), None, r.body_text()))?;
    tipos_con_nombre(&cuerpo)?;
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

/// Most characters of a cancellation's `motivo` (it becomes part of the attempt's error).
pub const MAX_MOTIVO: usize = 500;

/// Why attempts stop when `/cancelar` gives no `motivo`.
const MOTIVO_POR_DEFECTO: &str = "cancelled by the maestro";

/// Tells every running attempt of the listed jobs to stop: 200 with those that were running
/// (each stops at its kernel's next check, then reports `cancelled: <motivo>`) and those that
/// were not.
async fn cancelar(
    State(esclavo): State<Arc<Esclavo>>,
    cuerpo: Result<Bytes, BytesRejection>,
) -> Result<Json<RespuestaCancelar>, ErrorHttp> {
    let cuerpo = cuerpo.map_err(|r| ErrorHttp::peticion(r.status(), None, r.body_text()))?;
    let peticion: PeticionCancelar = leer_json(&cuerpo)?;
    let motivo = motivo_de(&peticion)?;
    let respuesta = esclavo.ranuras.cancelar(&peticion.trabajos, motivo);
    tracing::info!(
        cancelados = ?respuesta.cancelados,
        desconocidos = ?respuesta.desconocidos,
        motivo,
        "cancellation requested"
    );
    Ok(Json(respuesta))
}

/// The reason to stop with, once the request is checked: at least one job, and a `motivo` of
/// at most [`MAX_MOTIVO`] characters (absent or blank: [`MOTIVO_POR_DEFECTO`]).
fn motivo_de(p: &PeticionCancelar) -> Result<&str, ErrorHttp> {
    if p.trabajos.is_empty() {
        return Err(ErrorHttp::peticion(
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("trabajos".into()),
            "trabajos: must name at least one job".into(),
        ));
    }
    let motivo = p.motivo.as_deref().map(str::trim).unwrap_or("");
    if motivo.chars().count() > MAX_MOTIVO {
        let mut cuerpo = CuerpoError::new(format!(
            "motivo: at most {MAX_MOTIVO} characters, got {}",
            motivo.chars().count()
        ));
        cuerpo.campo = Some("motivo".into());
        cuerpo.limite = Some(MAX_MOTIVO as u64);
        return Err(ErrorHttp::Peticion {
            estado: StatusCode::UNPROCESSABLE_ENTITY,
            cuerpo,
        });
    }
    Ok(if motivo.is_empty() {
        MOTIVO_POR_DEFECTO
    } else {
        motivo
    })
}

/// A known route with a method it does not take (axum adds the `Allow` header).
async fn metodo_no_permitido(metodo: axum::http::Method, uri: axum::http::Uri) -> ErrorHttp {
    ErrorHttp::peticion(
        StatusCode::METHOD_NOT_ALLOWED,
        None,
        format!(
            "{metodo} {} is not allowed; the Allow header lists the methods this route takes",
            uri.path()
        ),
    )
}

async fn ruta_desconocida(uri: axum::http::Uri) -> ErrorHttp {
    ErrorHttp::peticion(
        StatusCode::NOT_FOUND,
        None,
        format!("no route {uri} (an esclavo serves /ping, /estado, /ejecutar and /cancelar)"),
    )
}

/// Decodes a JSON body, naming the field at fault (`trabajos[0].algoritmo`) when it fails.
/// Every body is a JSON object: an array is refused (serde would read it as the fields in
/// order, so `[[1]]` would cancel job 1).
fn leer_json<T: DeserializeOwned>(cuerpo: &[u8]) -> Result<T, ErrorHttp> {
    if let Some(i) = cuerpo.iter().position(|b| !b.is_ascii_whitespace())
        && cuerpo[i] == b'['
    {
        let antes = &cuerpo[..i];
        let linea = antes.iter().filter(|&&b| b == b'\n').count() + 1;
        let columna = i - antes.iter().rposition(|&b| b == b'\n').map_or(0, |n| n + 1) + 1;
        return Err(ErrorHttp::peticion(
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            format!(
                "invalid type: the body is a JSON array (at line {linea} column {columna}); \
                 it must be a JSON object"
            ),
        ));
    }
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
/// Refuses a `tipo` that is not a string. `Asignacion` flattens `Parametros`, so serde buffers
/// the tag and would read `"tipo": 1` as the variant of index 1 (`espera`) and run it.
fn tipos_con_nombre(cuerpo: &[u8]) -> Result<(), ErrorHttp> {
    let Ok(valor) = serde_json::from_slice::<serde_json::Value>(cuerpo) else {
        return Ok(());
    };
    let trabajos = valor.get("trabajos").and_then(|t| t.as_array());
    for (i, t) in trabajos.into_iter().flatten().enumerate() {
        if let Some(tipo) = t.get("tipo").filter(|v| !v.is_string()) {
            let campo = format!("trabajos[{i}].tipo");
            return Err(ErrorHttp::peticion(
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(campo.clone()),
                format!(
                    "{campo}: {tipo} must be a kernel name: {}",
                    comun::Tipo::TODOS.map(|t| t.to_string()).join(", ")
                ),
            ));
        }
    }
    Ok(())
}

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
    fn a_missing_field_is_named_with_its_path() {
        assert_eq!(
            campo_ausente("missing field `trabajos` at line 1"),
            Some("trabajos")
        );
        assert_eq!(campo_ausente("invalid type"), None);
    }
}
