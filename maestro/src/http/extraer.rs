//! The maestro's extractors: those of every service ([`plataforma::http`]), with the maestro's
//! own wording of a refused body, which its clients and tests already know: `malformed JSON`,
//! and a missing field named by the object that lacks it (`resultados[0]`, none at the top).

use axum::extract::{FromRequest, Request};
use plataforma::http::{Redaccion, decodificar_con, leer_json};
use serde::de::DeserializeOwned;

use plataforma::http::ErrorApi;
pub use plataforma::http::{Consulta, Ruta};

/// How the maestro words a refused body.
const REDACCION: Redaccion = Redaccion {
    json_roto: "malformed JSON",
    ausente_por_su_nombre: false,
};

/// A JSON body ([`plataforma::http::Cuerpo`], worded as the maestro words it).
pub struct Cuerpo<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Cuerpo<T> {
    type Rejection = ErrorApi;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        leer_json(req, state, REDACCION).await.map(Cuerpo)
    }
}

/// Decodes a JSON body as every handler does ([`Cuerpo`]).
pub fn decodificar<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ErrorApi> {
    decodificar_con(bytes, REDACCION)
}
