//! The esclavos' API as the maestro calls it: one keep-alive HTTP client for every esclavo,
//! typed calls, and an error that says what went wrong in words the maestro logs and stores.
//!
//! | call | route |
//! |---|---|
//! | [`ClienteEsclavo::ejecutar`] | `POST {esclavo}/ejecutar` (503: it took none, the answer says why) |
//! | [`ClienteEsclavo::cancelar`] | `POST {esclavo}/cancelar` |

use std::time::Duration;

use comun::nodo::{PeticionCancelar, PeticionEjecutar, RespuestaCancelar, RespuestaEjecutar};
use reqwest::StatusCode;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Ca;

/// How long to wait for a TCP connection to an esclavo.
const TIEMPO_CONEXION: Duration = Duration::from_secs(2);
/// How long to wait for a whole answer.
const TIEMPO_RESPUESTA: Duration = Duration::from_secs(15);
/// Idle connections kept per esclavo.
const CONEXIONES_POR_ESCLAVO: usize = 64;

/// Why a call to an esclavo did not succeed. Its text follows the esclavo's name in the
/// maestro's messages: `esclavo e1 unreachable: …`.
#[derive(Debug, thiserror::Error)]
pub enum ErrorEsclavo {
    /// No answer: refused, timed out, connection reset.
    #[error("unreachable: {0}")]
    Red(reqwest::Error),
    /// An answer with a status the call does not take; `cuerpo` is its text.
    #[error("answered {estado}: {cuerpo}")]
    Estado {
        /// The HTTP status the esclavo answered with.
        estado: StatusCode,
        /// The body of the answer, trimmed.
        cuerpo: String,
    },
    /// An answer whose body is not what the API promises.
    #[error("sent an unreadable answer: {0}")]
    Respuesta(reqwest::Error),
}

impl ErrorEsclavo {
    /// The esclavo answered, and refuses the request itself (a 4xx): it is alive, and sending
    /// the same again will not help.
    pub fn es_rechazo(&self) -> bool {
        matches!(self, ErrorEsclavo::Estado { estado, .. } if estado.is_client_error())
    }
}

/// The esclavos' API. Cheap to clone: clones share one connection pool.
#[derive(Debug, Clone)]
pub struct ClienteEsclavo {
    /// One client for every esclavo, so connections are kept alive and reused.
    http: reqwest::Client,
    /// Sent as `Authorization: Bearer …` when configured.
    token: Option<String>,
}

impl ClienteEsclavo {
    /// A client sending `token` to every esclavo, trusting `ca` for `https://` ones.
    pub fn new(token: Option<String>, ca: Option<&Ca>) -> anyhow::Result<Self> {
        let http = crate::cliente_http(ca)
            .connect_timeout(TIEMPO_CONEXION)
            .timeout(TIEMPO_RESPUESTA)
            .pool_max_idle_per_host(CONEXIONES_POR_ESCLAVO)
            .build()?;
        Ok(Self { http, token })
    }

    /// `POST {url}/ejecutar`. A 503 is an answer too: the esclavo took none of the jobs, and
    /// its body says which it refused.
    pub async fn ejecutar(
        &self,
        url: &str,
        peticion: &PeticionEjecutar,
    ) -> Result<RespuestaEjecutar, ErrorEsclavo> {
        let tomadas = |s: StatusCode| s == StatusCode::OK || s == StatusCode::SERVICE_UNAVAILABLE;
        self.post(url, "/ejecutar", peticion, tomadas).await
    }

    /// `POST {url}/cancelar`.
    pub async fn cancelar(
        &self,
        url: &str,
        peticion: &PeticionCancelar,
    ) -> Result<RespuestaCancelar, ErrorEsclavo> {
        self.post(url, "/cancelar", peticion, |s| s.is_success())
            .await
    }

    /// POSTs `cuerpo` with the token and reads an answer whose status passes `valida` as `R`.
    async fn post<C: Serialize, R: DeserializeOwned>(
        &self,
        url: &str,
        ruta: &str,
        cuerpo: &C,
        valida: impl Fn(StatusCode) -> bool,
    ) -> Result<R, ErrorEsclavo> {
        let mut peticion = self.http.post(format!("{url}{ruta}")).json(cuerpo);
        if let Some(token) = &self.token {
            peticion = peticion.bearer_auth(token);
        }
        let respuesta = peticion.send().await.map_err(ErrorEsclavo::Red)?;
        let estado = respuesta.status();
        if !valida(estado) {
            let cuerpo = respuesta.text().await.unwrap_or_default();
            let cuerpo = cuerpo.trim().to_owned();
            return Err(ErrorEsclavo::Estado { estado, cuerpo });
        }
        respuesta.json().await.map_err(ErrorEsclavo::Respuesta)
    }
}
