//! Extractors that turn a malformed request into an [`ErrorApi`] naming what is wrong:
//! [`Cuerpo`] (a JSON body), [`Consulta`] (query parameters), [`Ruta`] (path parameters), and
//! [`decodificar`], the JSON decoding of [`Cuerpo`] for handlers that read the bytes first.
//!
//! A body is decoded with `serde_path_to_error`, so a refusal names the path of the field at
//! fault (`trabajos[3].prioridad`): malformed JSON is a 400 with its line and column, a
//! well-formed body with a wrong, missing or unknown field a 422. The `Content-Type` is not
//! required (the original system's clients do not always send one).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use comun::CuerpoError;
use serde::de::DeserializeOwned;

use super::ErrorApi;

/// How a service words the two parts of a refused body that its clients already rely on;
/// everything else is the same in every service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Redaccion {
    /// How the message about JSON that does not parse starts (`invalid JSON`).
    pub json_roto: &'static str,
    /// Whether a missing field's `campo` is the field itself (`trabajos[0].id`), or the object
    /// that lacks it (`trabajos[0]`; none at the top level).
    pub ausente_por_su_nombre: bool,
}

impl Redaccion {
    /// What [`Cuerpo`] and [`decodificar`] say.
    pub const COMUN: Redaccion = Redaccion {
        json_roto: "invalid JSON",
        ausente_por_su_nombre: true,
    };
}

/// A JSON body, refused as the module says.
pub struct Cuerpo<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Cuerpo<T> {
    type Rejection = ErrorApi;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        leer_json(req, state, Redaccion::COMUN).await.map(Cuerpo)
    }
}

/// What [`Cuerpo`] does, worded as `redaccion`.
pub async fn leer_json<T: DeserializeOwned, S: Send + Sync>(
    req: Request,
    state: &S,
    redaccion: Redaccion,
) -> Result<T, ErrorApi> {
    let bytes = Bytes::from_request(req, state).await?;
    decodificar_con(&bytes, redaccion)
}

/// A body that could not be read: too large (413), or cut off.
impl From<BytesRejection> for ErrorApi {
    fn from(r: BytesRejection) -> Self {
        let status = r.status();
        let mensaje = if status == StatusCode::PAYLOAD_TOO_LARGE {
            "request body too large for this endpoint (length limit exceeded)".to_string()
        } else {
            r.body_text()
        };
        ErrorApi::Cliente(status, CuerpoError::new(mensaje))
    }
}

/// Decodes a JSON body as [`Cuerpo`] does.
pub fn decodificar<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ErrorApi> {
    decodificar_con(bytes, Redaccion::COMUN)
}

/// Decodes a JSON body, naming the path of the first field at fault; anything but whitespace
/// after the value is malformed JSON too. Every body of the cluster is a JSON object: an array
/// is refused (serde would read it as the fields in order, so `[[1]]` would cancel job 1).
pub fn decodificar_con<T: DeserializeOwned>(
    bytes: &[u8],
    redaccion: Redaccion,
) -> Result<T, ErrorApi> {
    if let Some(e) = array_en_lugar_de_objeto(bytes) {
        return Err(e);
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let valor =
        serde_path_to_error::deserialize(&mut *de).map_err(|e| rechazo_json(e, redaccion))?;
    de.end()
        .map_err(|e| ErrorApi::peticion(format!("{}: {e}", redaccion.json_roto)))?;
    Ok(valor)
}

/// The 422 of a body that is a JSON array, saying where it starts.
fn array_en_lugar_de_objeto(bytes: &[u8]) -> Option<ErrorApi> {
    let i = bytes.iter().position(|b| !b.is_ascii_whitespace())?;
    if bytes[i] != b'[' {
        return None;
    }
    let antes = &bytes[..i];
    let linea = antes.iter().filter(|&&b| b == b'\n').count() + 1;
    let columna = i - antes.iter().rposition(|&b| b == b'\n').map_or(0, |n| n + 1) + 1;
    Some(ErrorApi::Cliente(
        StatusCode::UNPROCESSABLE_ENTITY,
        CuerpoError::new(format!(
            "invalid type: the body is a JSON array (at line {linea} column {columna}); \
             it must be a JSON object"
        )),
    ))
}

/// A 400 for JSON that does not parse, a 422 for a well-formed body serde refused; both name
/// the path where it happened.
fn rechazo_json(e: serde_path_to_error::Error<serde_json::Error>, r: Redaccion) -> ErrorApi {
    let camino = e.path().to_string();
    let e = e.into_inner();
    let mut campo = (camino != ".").then_some(camino);
    if e.is_syntax() || e.is_eof() {
        // serde_json reports some wrong types (a number for an enum) as syntax: say where.
        let donde = campo
            .as_ref()
            .map(|c| format!(" at {c}"))
            .unwrap_or_default();
        let cuerpo = CuerpoError::new(format!("{}{donde}: {e}", r.json_roto));
        return ErrorApi::Cliente(StatusCode::BAD_REQUEST, CuerpoError { campo, ..cuerpo });
    }
    let mensaje = e.to_string();
    // serde reports a missing field at the object that lacks it.
    if let Some(ausente) = campo_ausente(&mensaje).filter(|_| r.ausente_por_su_nombre) {
        campo = Some(match campo {
            Some(padre) => format!("{padre}.{ausente}"),
            None => ausente.to_owned(),
        });
    }
    let mensaje = match &campo {
        Some(c) => format!("{c}: {mensaje}"),
        None => mensaje,
    };
    ErrorApi::Cliente(
        StatusCode::UNPROCESSABLE_ENTITY,
        CuerpoError {
            campo,
            ..CuerpoError::new(mensaje)
        },
    )
}

/// `x` in serde's "missing field `x`" message.
fn campo_ausente(mensaje: &str) -> Option<&str> {
    let resto = mensaje.strip_prefix("missing field `")?;
    resto.split_once('`').map(|(campo, _)| campo)
}

/// Path parameters; one that cannot be read (not UTF-8 once percent-decoded) is a 400 naming
/// it.
pub struct Ruta<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Ruta<T> {
    type Rejection = ErrorApi;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| Ruta(v))
            .map_err(|e| ErrorApi::peticion(e.body_text()))
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
            .map_err(|e| ErrorApi::peticion(e.body_text()))
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Lote {
        trabajos: Vec<Trabajo>,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Trabajo {
        id: u64,
    }

    fn rechazo(texto: &str, r: Redaccion) -> (StatusCode, CuerpoError) {
        match decodificar_con::<Lote>(texto.as_bytes(), r) {
            Err(ErrorApi::Cliente(status, cuerpo)) => (status, cuerpo),
            otro => panic!("{texto}: {otro:?}"),
        }
    }

    #[test]
    fn a_missing_field_is_named_by_itself_or_by_its_object() {
        let por_su_objeto = Redaccion {
            json_roto: "malformed JSON",
            ausente_por_su_nombre: false,
        };
        let texto = r#"{"trabajos": [{}]}"#;
        let (status, e) = rechazo(texto, Redaccion::COMUN);
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e.campo.as_deref(), Some("trabajos[0].id"));
        assert!(
            e.error.starts_with("trabajos[0].id: missing field `id`"),
            "{e:?}"
        );
        let (_, e) = rechazo(texto, por_su_objeto);
        assert_eq!(e.campo.as_deref(), Some("trabajos[0]"));
        assert_eq!(
            rechazo("{}", Redaccion::COMUN).1.campo.as_deref(),
            Some("trabajos")
        );
        assert_eq!(rechazo("{}", por_su_objeto).1.campo, None);
        let (status, e) = rechazo(r#"{"trabajos": [}"#, por_su_objeto);
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            e.error.starts_with("malformed JSON at trabajos[0]: "),
            "{e:?}"
        );
    }

    #[test]
    fn arrays_and_trailing_text_are_refused() {
        let (status, e) = rechazo(" \n [1]", Redaccion::COMUN);
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(e.error.contains("(at line 2 column 2)"), "{e:?}");
        let (status, e) = rechazo(r#"{"trabajos": []} x"#, Redaccion::COMUN);
        assert_eq!((status, e.campo), (StatusCode::BAD_REQUEST, None));
        assert!(
            e.error.starts_with("invalid JSON: trailing characters"),
            "{}",
            e.error
        );
    }
}
