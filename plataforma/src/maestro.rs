//! The maestro's node API as the esclavos and memoria nodes call it: one keep-alive HTTP client,
//! typed calls, and an error that says whether trying again can help.
//!
//! **Several maestros.** The base may be a comma-separated list (`http://a:5001,http://b:5001`):
//! the replicas of one cluster sharing a PostgreSQL database. Calls go to one of them; when it
//! does not answer, or answers 502, 503 or 504 (a follower while no replica leads), the same
//! call goes to the next, and the one that answered is used from then on.
//!
//! | call | route |
//! |---|---|
//! | [`ClienteMaestro::registrar`] | `POST /registrar_esclavo` |
//! | [`ClienteMaestro::latido`] | `POST /latido` (404: the maestro does not know this instance) |
//! | [`ClienteMaestro::resultados`] | `POST /resultado` |
//! | [`ClienteMaestro::reportar_memoria`] | `POST /reporte_memoria` |
//! | [`ClienteMaestro::imagen`] | `GET /imagenes/{id}` (an uploaded PNG an `imagen` job names) |

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use comun::memoria::ReporteMemoria;
use comun::nodo::{
    Baja, Latido, LoteResultados, Registro, RespuestaBaja, RespuestaLatido, RespuestaRegistro,
    RespuestaResultados,
};
use reqwest::StatusCode;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Ca;

/// How long to wait for a TCP connection to the maestro.
const TIEMPO_CONEXION: Duration = Duration::from_secs(2);

/// Why a call to the maestro did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum ErrorMaestro {
    /// No answer: refused, timed out, connection reset. The maestro may be restarting.
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
    /// A 2xx whose body is not what the API promises.
    #[error("unreadable answer from the maestro")]
    Respuesta(#[source] reqwest::Error),
}

impl ErrorMaestro {
    /// The maestro does not know this esclavo (or this instance of it): register again.
    pub fn es_desconocido(&self) -> bool {
        matches!(self, ErrorMaestro::Estado { estado, .. } if *estado == StatusCode::NOT_FOUND)
    }

    /// The request itself is wrong and will be refused however often it is sent: a 4xx other
    /// than 401 (a token being fixed), 404 (a maestro still starting), 408 and 429 (transient).
    pub fn es_definitivo(&self) -> bool {
        match self {
            ErrorMaestro::Estado { estado, .. } => {
                estado.is_client_error()
                    && ![
                        StatusCode::UNAUTHORIZED,
                        StatusCode::NOT_FOUND,
                        StatusCode::REQUEST_TIMEOUT,
                        StatusCode::TOO_MANY_REQUESTS,
                    ]
                    .contains(estado)
            }
            _ => false,
        }
    }

    /// Another replica may answer: this one did not, or had no leader to forward to.
    pub fn es_relevable(&self) -> bool {
        match self {
            ErrorMaestro::Red(_) => true,
            ErrorMaestro::Estado { estado, .. } => [
                StatusCode::BAD_GATEWAY,
                StatusCode::SERVICE_UNAVAILABLE,
                StatusCode::GATEWAY_TIMEOUT,
            ]
            .contains(estado),
            ErrorMaestro::Respuesta(_) => false,
        }
    }

    /// The maestro refused the body as too large: a smaller batch may pass.
    pub fn es_demasiado_grande(&self) -> bool {
        matches!(self, ErrorMaestro::Estado { estado, .. } if *estado == StatusCode::PAYLOAD_TOO_LARGE)
    }
}

/// The maestro's node API. Cheap to clone: clones share one connection pool.
#[derive(Debug, Clone)]
pub struct ClienteMaestro {
    /// The one HTTP client of the process, so connections are kept alive and reused.
    http: reqwest::Client,
    /// The maestros' base URLs (replicas of one cluster), without trailing slashes.
    bases: Arc<[String]>,
    /// Which of `bases` answered last: calls start there.
    actual: Arc<AtomicUsize>,
    /// Sent as `Authorization: Bearer …` when configured.
    token: Option<String>,
}

impl ClienteMaestro {
    /// A client for the maestro at `base` (`http://host:5001`, or `https://` trusting `ca`; a
    /// comma-separated list for several replicas) whose calls give up after `plazo` without a
    /// whole answer.
    pub fn new(
        base: &str,
        token: Option<String>,
        ca: Option<&Ca>,
        plazo: Duration,
    ) -> anyhow::Result<Self> {
        let http = crate::cliente_http(ca)
            .connect_timeout(TIEMPO_CONEXION)
            .timeout(plazo)
            .build()?;
        let bases: Arc<[String]> = base
            .split(',')
            .map(|b| b.trim().trim_end_matches('/').to_owned())
            .filter(|b| !b.is_empty())
            .collect();
        anyhow::ensure!(!bases.is_empty(), "no maestro URL in {base:?}");
        Ok(Self {
            http,
            bases,
            actual: Arc::new(AtomicUsize::new(0)),
            token,
        })
    }

    /// The base URL of the maestro that answered last (the first one given, at start).
    pub fn base(&self) -> &str {
        &self.bases[self.actual.load(Ordering::Relaxed) % self.bases.len()]
    }

    /// Every base URL given.
    pub fn bases(&self) -> &[String] {
        &self.bases
    }

    /// Runs `llamada` against the maestro that answered last and, while it fails in a way
    /// another replica may not ([`ErrorMaestro::es_relevable`]), against the next ones, each once.
    async fn con_relevo<T, F, R>(&self, llamada: F) -> Result<T, ErrorMaestro>
    where
        F: Fn(String) -> R,
        R: std::future::Future<Output = Result<T, ErrorMaestro>>,
    {
        let n = self.bases.len();
        let inicio = self.actual.load(Ordering::Relaxed);
        let mut i = 0;
        loop {
            let k = (inicio + i) % n;
            match llamada(self.bases[k].clone()).await {
                Ok(v) => {
                    if i > 0 {
                        self.actual.store(k, Ordering::Relaxed);
                        tracing::info!(maestro = %self.bases[k], "moved on to another maestro replica");
                    }
                    return Ok(v);
                }
                Err(e) if i + 1 < n && e.es_relevable() => i += 1,
                Err(e) => return Err(e),
            }
        }
    }

    /// `POST /registrar_esclavo`.
    pub async fn registrar(&self, r: &Registro) -> Result<RespuestaRegistro, ErrorMaestro> {
        self.post("/registrar_esclavo", r).await
    }

    /// `POST /latido`; 404 means the maestro does not know this instance.
    pub async fn latido(&self, l: &Latido) -> Result<RespuestaLatido, ErrorMaestro> {
        self.post("/latido", l).await
    }

    /// `POST /esclavos/{nombre}/baja`: the esclavo process leaves; what it still runs is
    /// handed back. 404 means that process is not registered (nothing to hand back there).
    pub async fn baja(&self, nombre: &str, b: &Baja) -> Result<RespuestaBaja, ErrorMaestro> {
        self.post(&ruta_con(&["esclavos", nombre, "baja"]), b).await
    }

    /// `POST /resultado`; a 2xx means every report in the batch is durably handled.
    pub async fn resultados(
        &self,
        lote: &LoteResultados,
    ) -> Result<RespuestaResultados, ErrorMaestro> {
        self.post("/resultado", lote).await
    }

    /// `POST /reporte_memoria`; any 2xx means the report was taken (its body is not read).
    pub async fn reportar_memoria(&self, reporte: &ReporteMemoria) -> Result<(), ErrorMaestro> {
        self.enviar("/reporte_memoria", reporte).await.map(drop)
    }

    /// `GET /imagenes/{id}`: the PNG uploaded as `id`, as it was uploaded.
    pub async fn imagen(&self, id: u64) -> Result<Vec<u8>, ErrorMaestro> {
        let respuesta = self
            .con_relevo(|base| {
                let mut peticion = self.http.get(format!("{base}/imagenes/{id}"));
                if let Some(token) = &self.token {
                    peticion = peticion.bearer_auth(token);
                }
                async move { comprobar(peticion.send().await.map_err(ErrorMaestro::Red)?).await }
            })
            .await?;
        let png = respuesta.bytes().await.map_err(ErrorMaestro::Respuesta)?;
        Ok(png.to_vec())
    }

    /// POSTs `cuerpo` and reads the answer as `R`.
    async fn post<C: Serialize, R: DeserializeOwned>(
        &self,
        ruta: &str,
        cuerpo: &C,
    ) -> Result<R, ErrorMaestro> {
        let respuesta = self.enviar(ruta, cuerpo).await?;
        respuesta.json().await.map_err(ErrorMaestro::Respuesta)
    }

    /// POSTs `cuerpo` with the token; an answer other than 2xx is an error with its text.
    async fn enviar<C: Serialize>(
        &self,
        ruta: &str,
        cuerpo: &C,
    ) -> Result<reqwest::Response, ErrorMaestro> {
        self.con_relevo(|base| {
            let mut peticion = self.http.post(format!("{base}{ruta}")).json(cuerpo);
            if let Some(token) = &self.token {
                peticion = peticion.bearer_auth(token);
            }
            async move { comprobar(peticion.send().await.map_err(ErrorMaestro::Red)?).await }
        })
        .await
    }
}

/// The path made of `segmentos`, each percent-encoded (`["esclavos", "a b"]` →
/// `/esclavos/a%20b`).
pub fn ruta_con(segmentos: &[&str]) -> String {
    let mut url = reqwest::Url::parse("http://x/").expect("a valid URL");
    url.path_segments_mut()
        .expect("an http URL has a path")
        .pop_if_empty()
        .extend(segmentos);
    url.path().to_owned()
}

/// `respuesta` if it is a 2xx; otherwise the error with its status and text.
async fn comprobar(respuesta: reqwest::Response) -> Result<reqwest::Response, ErrorMaestro> {
    let estado = respuesta.status();
    if !estado.is_success() {
        let cuerpo = respuesta.text().await.unwrap_or_default();
        let cuerpo = cuerpo.chars().take(500).collect();
        return Err(ErrorMaestro::Estado { estado, cuerpo });
    }
    Ok(respuesta)
}

/// An error and its causes on one line (`maestro unreachable: error sending request: …`), for
/// log lines.
pub fn en_una_linea(error: &(dyn std::error::Error + 'static)) -> String {
    let mut texto = error.to_string();
    let mut causa = error.source();
    while let Some(c) = causa {
        texto.push_str(": ");
        texto.push_str(&c.to_string());
        causa = c.source();
    }
    texto
}

#[cfg(test)]
mod tests {
    #[test]
    fn path_segments_are_percent_encoded() {
        assert_eq!(
            super::ruta_con(&["esclavos", "nodo 1/x", "baja"]),
            "/esclavos/nodo%201%2Fx/baja"
        );
        assert_eq!(super::ruta_con(&["esclavos", "a-1"]), "/esclavos/a-1");
    }
}
