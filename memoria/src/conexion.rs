//! The memoria's side of the maestro's API: one keep-alive HTTP client and `POST
//! /reporte_memoria`.

use std::time::Duration;

use comun::memoria::ReporteMemoria;
use reqwest::StatusCode;

/// How long to wait for a TCP connection to the maestro.
const TIEMPO_CONEXION: Duration = Duration::from_secs(2);
/// How long to wait for a whole answer.
const TIEMPO_PETICION: Duration = Duration::from_secs(10);

/// Why a report was not taken.
#[derive(Debug, thiserror::Error)]
pub enum ErrorMaestro {
    /// No answer: refused, timed out, connection reset. The maestro may be away.
    #[error("maestro unreachable")]
    Red(#[source] reqwest::Error),
    /// An answer with an error status; `cuerpo` is its text, for the log.
    #[error("maestro answered {estado}: {cuerpo}")]
    Estado {
        /// The HTTP status the maestro answered with.
        estado: StatusCode,
        /// The body of the answer (usually a `CuerpoError`), cut to a readable length.
        cuerpo: String,
    },
}

/// The maestro's API as a memoria calls it. Cheap to clone: clones share one connection pool.
#[derive(Debug, Clone)]
pub struct ClienteMaestro {
    /// The one HTTP client of the process, so the connection is kept alive and reused.
    http: reqwest::Client,
    /// The maestro's base URL, without a trailing slash.
    base: String,
    /// Sent as `Authorization: Bearer …` when configured.
    token: Option<String>,
}

impl ClienteMaestro {
    /// A client for the maestro at `base` (`http://host:5001`).
    pub fn new(
        base: &str,
        token: Option<String>,
        ca: Option<&arranque::Ca>,
    ) -> anyhow::Result<Self> {
        let http = arranque::cliente_http(ca)
            .connect_timeout(TIEMPO_CONEXION)
            .timeout(TIEMPO_PETICION)
            .build()?;
        Ok(Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            token,
        })
    }

    /// The maestro's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// `POST /reporte_memoria`; any 2xx means the report was taken (the body is not needed).
    pub async fn reportar(&self, reporte: &ReporteMemoria) -> Result<(), ErrorMaestro> {
        let mut peticion = self
            .http
            .post(format!("{}/reporte_memoria", self.base))
            .json(reporte);
        if let Some(token) = &self.token {
            peticion = peticion.bearer_auth(token);
        }
        let respuesta = peticion.send().await.map_err(ErrorMaestro::Red)?;
        let estado = respuesta.status();
        if estado.is_success() {
            return Ok(());
        }
        let cuerpo = respuesta.text().await.unwrap_or_default();
        Err(ErrorMaestro::Estado {
            estado,
            cuerpo: cuerpo.chars().take(500).collect(),
        })
    }
}

/// An error and its causes on one line (`maestro unreachable: error sending request: …`).
pub(crate) fn en_una_linea(error: &(dyn std::error::Error + 'static)) -> String {
    let mut texto = error.to_string();
    let mut causa = error.source();
    while let Some(c) = causa {
        texto.push_str(": ");
        texto.push_str(&c.to_string());
        causa = c.source();
    }
    texto
}
