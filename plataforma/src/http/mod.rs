//! The HTTP layer of the three services' APIs, so that a client gets the same JSON error body
//! from the maestro, an esclavo or a memoria node:
//!
//! - [`ErrorApi`] ([`error`]): what every handler answers a refusal with: its real status and
//!   a [`comun::CuerpoError`] naming the field, the line or the limit; internal errors logged
//!   with their cause chain and opaque to the client.
//! - [`Cuerpo`], [`Consulta`], [`Ruta`] ([`extraer`]): a JSON body, query and path parameters,
//!   each refused with an [`ErrorApi`] naming the field or position at fault; [`decodificar`]
//!   for a body read as bytes first.
//! - [`ruta_desconocida`], [`metodo_no_permitido`] ([`respaldo`]): the 404 and 405 of every
//!   router.
//! - [`openapi`]: the OpenAPI document of a service's API, built from its routes, and
//!   `GET /openapi.json`.

pub mod error;
pub mod extraer;
pub mod openapi;
pub mod respaldo;

pub use error::ErrorApi;
pub use extraer::{Consulta, Cuerpo, Redaccion, Ruta, decodificar, decodificar_con, leer_json};
pub use respaldo::{metodo_no_permitido, ruta_desconocida};
