//! Who may call a service: with a cluster token configured, every request must carry it as
//! `Authorization: Bearer <token>`, except `GET /ping` (liveness, for healthchecks) and, with
//! `--lecturas-abiertas`, reads (GET and HEAD). Without a token everything is open.
//!
//! [`proteger`] puts the check in front of a router; every refusal is a 401 with a JSON
//! [`CuerpoError`] naming the `Authorization` field, and a log line with the path and the peer.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use comun::CuerpoError;

/// The one route whose reads (GET, HEAD) never need the token: healthchecks and scripts ask
/// it.
pub const RUTA_LIBRE: &str = "/ping";

/// A service's access rule.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Acceso {
    /// The cluster token; `None`: every request passes.
    pub token: Option<String>,
    /// Whether reads (GET, HEAD) pass without the token.
    pub lecturas_abiertas: bool,
}

impl Acceso {
    /// The rule for `token` (an empty one counts as none).
    pub fn new(token: Option<String>, lecturas_abiertas: bool) -> Self {
        Self {
            token: token.filter(|t| !t.is_empty()),
            lecturas_abiertas,
        }
    }

    /// Whether a request with this method and path must carry the token.
    pub fn exige_token(&self, metodo: &Method, ruta: &str) -> bool {
        let lectura = metodo == Method::GET || metodo == Method::HEAD;
        let libre = lectura && (ruta == RUTA_LIBRE || self.lecturas_abiertas);
        self.token.is_some() && !libre
    }

    /// Checks a request: `Ok` if it may pass, else why not.
    pub fn comprobar(
        &self,
        metodo: &Method,
        ruta: &str,
        cabeceras: &HeaderMap,
    ) -> Result<(), Rechazo> {
        let Some(token) = self.token.as_deref() else {
            return Ok(());
        };
        if !self.exige_token(metodo, ruta) {
            return Ok(());
        }
        match presentado(cabeceras) {
            None => Err(Rechazo::SinToken),
            Some(t) if iguales_en_tiempo_constante(t.as_bytes(), token.as_bytes()) => Ok(()),
            Some(_) => Err(Rechazo::TokenErroneo),
        }
    }
}

/// Why a request was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rechazo {
    /// It carried no `Authorization: Bearer` header.
    SinToken,
    /// It carried a token other than the cluster's.
    TokenErroneo,
}

impl Rechazo {
    /// The message the client reads: what to send, and how with the cluster's own tools. A
    /// client that cannot send a header (the original `cliente_hpc.py`) learns how reads are
    /// opened to it.
    pub fn mensaje(self) -> &'static str {
        match self {
            Rechazo::SinToken => {
                "this service requires the cluster token (the HPC_TOKEN it was started with): \
                 send the header `Authorization: Bearer <token>` (cliente: --token or the \
                 HPC_TOKEN variable; curl: -H 'Authorization: Bearer <token>'). A client that \
                 cannot send it, such as the original cliente_hpc.py, can read (GET) when the \
                 services run with LECTURAS_ABIERTAS=true, which docker compose sets unless told \
                 otherwise (README, Security)"
            }
            Rechazo::TokenErroneo => {
                "wrong cluster token: send the HPC_TOKEN the services were started with, as \
                 `Authorization: Bearer <token>` (cliente: --token or the HPC_TOKEN variable)"
            }
        }
    }
}

impl IntoResponse for Rechazo {
    fn into_response(self) -> Response {
        let mut cuerpo = CuerpoError::new(self.mensaje());
        cuerpo.campo = Some("Authorization".into());
        (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            Json(cuerpo),
        )
            .into_response()
    }
}

/// `router` with every request checked against `acceso` first.
pub fn proteger<S>(router: Router<S>, acceso: Acceso) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    router.layer(middleware::from_fn_with_state(Arc::new(acceso), exigir))
}

async fn exigir(State(acceso): State<Arc<Acceso>>, req: Request, next: Next) -> Response {
    let Err(rechazo) = acceso.comprobar(req.method(), req.uri().path(), req.headers()) else {
        return next.run(req).await;
    };
    let par = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".to_owned(), |c| c.0.to_string());
    tracing::warn!(
        metodo = %req.method(),
        ruta = req.uri().path(),
        par,
        "{}; refused with 401",
        match rechazo {
            Rechazo::SinToken => "request without the cluster token",
            Rechazo::TokenErroneo => "request with a wrong cluster token",
        }
    );
    rechazo.into_response()
}

/// The token of `Authorization: Bearer <token>`, if the header says so.
fn presentado(cabeceras: &HeaderMap) -> Option<&str> {
    cabeceras
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

/// Compares without stopping at the first difference, so timing does not reveal the token.
pub fn iguales_en_tiempo_constante(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn con(token: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            format!("Bearer {token}").parse().unwrap(),
        );
        h
    }

    #[test]
    fn without_a_token_everything_passes() {
        let a = Acceso::new(Some(String::new()), false);
        assert_eq!(a, Acceso::default());
        assert_eq!(a.comprobar(&Method::POST, "/x", &HeaderMap::new()), Ok(()));
    }

    #[test]
    fn with_a_token_reads_and_changes_need_it_but_ping() {
        let a = Acceso::new(Some("s3creto".into()), false);
        let nada = HeaderMap::new();
        for (metodo, ruta) in [(Method::GET, "/estado"), (Method::POST, "/trabajos")] {
            assert_eq!(a.comprobar(&metodo, ruta, &nada), Err(Rechazo::SinToken));
            assert_eq!(
                a.comprobar(&metodo, ruta, &con("otro")),
                Err(Rechazo::TokenErroneo)
            );
            assert_eq!(a.comprobar(&metodo, ruta, &con("s3creto")), Ok(()));
        }
        assert_eq!(a.comprobar(&Method::GET, "/ping", &nada), Ok(()));
        assert_eq!(a.comprobar(&Method::HEAD, "/ping", &nada), Ok(()));
        for (metodo, ruta) in [(Method::POST, "/ping"), (Method::GET, "/ping/x")] {
            assert_eq!(
                a.comprobar(&metodo, ruta, &nada),
                Err(Rechazo::SinToken),
                "{metodo} {ruta}"
            );
        }
    }

    #[test]
    fn open_reads_pass_without_the_token_and_changes_still_need_it() {
        let a = Acceso::new(Some("s3creto".into()), true);
        let nada = HeaderMap::new();
        assert_eq!(a.comprobar(&Method::GET, "/estado", &nada), Ok(()));
        assert_eq!(a.comprobar(&Method::HEAD, "/estado", &nada), Ok(()));
        for metodo in [Method::POST, Method::DELETE, Method::PUT] {
            assert_eq!(
                a.comprobar(&metodo, "/trabajos/1", &nada),
                Err(Rechazo::SinToken)
            );
        }
    }

    /// A 401 tells how to pass the token, and how a client that cannot send it may read.
    #[tokio::test]
    async fn a_refusal_says_how_to_pass_the_token_and_how_reads_are_opened() {
        let cuerpo = |r: Rechazo| async move {
            let respuesta = r.into_response();
            assert_eq!(respuesta.status(), StatusCode::UNAUTHORIZED);
            assert_eq!(respuesta.headers()[header::WWW_AUTHENTICATE], "Bearer");
            let bytes = axum::body::to_bytes(respuesta.into_body(), 1 << 16)
                .await
                .unwrap();
            serde_json::from_slice::<CuerpoError>(&bytes).unwrap()
        };
        let sin = cuerpo(Rechazo::SinToken).await;
        assert_eq!(sin.campo.as_deref(), Some("Authorization"));
        for parte in [
            "Authorization: Bearer <token>",
            "cliente: --token or the HPC_TOKEN variable",
            "cliente_hpc.py",
            "LECTURAS_ABIERTAS=true",
        ] {
            assert!(sin.error.contains(parte), "{parte}: {}", sin.error);
        }
        let erroneo = cuerpo(Rechazo::TokenErroneo).await;
        assert!(
            erroneo
                .error
                .starts_with("wrong cluster token: send the HPC_TOKEN")
        );
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(iguales_en_tiempo_constante(b"abc", b"abc"));
        assert!(!iguales_en_tiempo_constante(b"abc", b"abd"));
        assert!(!iguales_en_tiempo_constante(b"abc", b"abcd"));
        assert!(!iguales_en_tiempo_constante(b"", b"a"));
    }
}
