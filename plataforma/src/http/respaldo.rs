//! The answers to a path no route serves (404) and to a method a route does not take (405):
//! JSON [`ErrorApi`]s like every other refusal, not axum's empty bodies.

use std::future::{Ready, ready};

use axum::http::{Method, StatusCode, Uri};
use comun::CuerpoError;

use super::ErrorApi;

/// The 404 handler of a service whose routes `guia` lists (`an esclavo serves /ping, …`).
pub fn ruta_desconocida(
    guia: &'static str,
) -> impl Fn(Method, Uri) -> Ready<ErrorApi> + Clone + Send + Sync + 'static {
    move |metodo: Method, uri: Uri| {
        ready(ErrorApi::no_encontrado(format!(
            "no endpoint {metodo} {uri}; {guia}"
        )))
    }
}

/// The 405 handler: a known path with a method it does not take (axum adds the `Allow`
/// header).
pub async fn metodo_no_permitido(metodo: Method, uri: Uri) -> ErrorApi {
    ErrorApi::Cliente(
        StatusCode::METHOD_NOT_ALLOWED,
        CuerpoError::new(format!(
            "{metodo} {} is not allowed; the Allow header lists the methods this path takes",
            uri.path()
        )),
    )
}
