//! A typed client of the maestro's HTTP API: one keep-alive `reqwest::Client`, one method per
//! endpoint, answers decoded into `comun` types, failures into [`Error`].

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use comun::api::{
    Cursor, EsclavoInfo, EstadoCluster, FiltroTrabajos, ListaTrabajos, MAX_ESPERA, PeticionCarga,
    PeticionLote, PeticionPrioridad, PeticionTrabajo, Ping, RespuestaAccion, RespuestaAgregar,
    RespuestaCarga, RespuestaLimpiar, RespuestaLote, Resumen, Trabajo,
};
use comun::{CuerpoError, Estado, Prioridad, TrabajoId};
use reqwest::{Method, RequestBuilder, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::Error;

/// How long an ordinary request may take.
const PLAZO: Duration = Duration::from_secs(30);
/// Extra time a long poll gets beyond the wait it asks the maestro for.
const MARGEN_ESPERA: Duration = Duration::from_secs(30);

/// The maestro's API.
#[derive(Debug, Clone)]
pub struct Maestro {
    /// One client for every request: connections are kept alive and reused.
    http: reqwest::Client,
    /// Base URLs without trailing slashes: one maestro, or the replicas of one cluster.
    bases: Arc<[String]>,
    /// Which of `bases` answered last: requests start there.
    actual: Arc<AtomicUsize>,
    /// Sent as `Authorization: Bearer` on every request.
    token: Option<String>,
}

impl Maestro {
    /// A client of the maestro at `base` (`http://host:port`).
    pub fn new(base: &str, token: Option<String>) -> Result<Self, Error> {
        Self::con_ca(base, token, None)
    }

    /// A client of the maestro at `base` (`http://` or `https://host:port`; a comma-separated
    /// list for the replicas of one cluster), trusting `ca` besides the system's roots.
    pub fn con_ca(
        base: &str,
        token: Option<String>,
        ca: Option<&plataforma::Ca>,
    ) -> Result<Self, Error> {
        let bases: Arc<[String]> = base
            .split(',')
            .map(|b| b.trim().trim_end_matches('/').to_string())
            .filter(|b| !b.is_empty())
            .collect();
        if bases.is_empty() {
            return Err(Error::local(format!(
                "--maestro '{base}' names no URL; expected e.g. http://127.0.0.1:5001"
            )));
        }
        for b in bases.iter() {
            reqwest::Url::parse(b).map_err(|e| {
                Error::local(format!(
                    "--maestro '{b}' is not a URL ({e}); expected e.g. http://127.0.0.1:5001"
                ))
            })?;
        }
        let http = plataforma::cliente_http(ca)
            .connect_timeout(Duration::from_secs(5))
            .pool_max_idle_per_host(usize::MAX)
            .tcp_nodelay(true)
            .build()
            .map_err(|e| Error::local(format!("cannot build the HTTP client: {e}")))?;
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

    /// `GET /ping`.
    pub async fn ping(&self) -> Result<Ping, Error> {
        self.get("/ping").await
    }

    /// `GET /estado`: the whole cluster.
    pub async fn estado(&self) -> Result<EstadoCluster, Error> {
        self.get("/estado").await
    }

    /// `GET /estadisticas`: the statistics since the maestro started.
    pub async fn estadisticas(&self) -> Result<comun::estadisticas::Estadisticas, Error> {
        self.get("/estadisticas").await
    }

    /// `GET /esclavos/{nombre}`: one esclavo's history.
    pub async fn esclavo(
        &self,
        nombre: &str,
    ) -> Result<comun::estadisticas::HistorialEsclavo, Error> {
        self.get(&format!("/esclavos/{}", segmento(nombre))).await
    }

    /// `GET /resumen`: job counts now.
    pub async fn resumen(&self) -> Result<Resumen, Error> {
        self.get("/resumen").await
    }

    /// `GET /resumen?version=V&espera_ms=T`: the counts as soon as their version is not
    /// `version`, or after `espera`.
    pub async fn esperar_resumen(&self, version: u64, espera: Duration) -> Result<Resumen, Error> {
        let espera = espera.min(MAX_ESPERA);
        let ruta = format!(
            "/resumen?version={version}&espera_ms={}",
            espera.as_millis()
        );
        self.pedir(Method::GET, &ruta, None::<&()>, espera + MARGEN_ESPERA)
            .await
    }

    /// `POST /agregar_trabajo`: queues one job.
    pub async fn agregar(&self, p: &PeticionTrabajo) -> Result<RespuestaAgregar, Error> {
        self.post("/agregar_trabajo", p).await
    }

    /// `POST /trabajos`: queues many jobs, all or none.
    pub async fn agregar_lote(&self, p: &PeticionLote) -> Result<RespuestaLote, Error> {
        self.post("/trabajos", p).await
    }

    /// `POST /cargar_trabajos`: queues the lines of an uploaded or named jobs file.
    pub async fn cargar(&self, p: &PeticionCarga) -> Result<RespuestaCarga, Error> {
        self.post("/cargar_trabajos", p).await
    }

    /// `POST /limpiar_cola`: cancels every pending job.
    pub async fn limpiar(&self) -> Result<RespuestaLimpiar, Error> {
        self.post("/limpiar_cola", &serde_json::json!({})).await
    }

    /// `GET /trabajos?estado=E&limite=N`: the newest jobs.
    pub async fn trabajos(
        &self,
        estado: Option<Estado>,
        limite: u32,
    ) -> Result<ListaTrabajos, Error> {
        self.pagina(&FiltroTrabajos::de_estado(estado), None, limite)
            .await
    }

    /// `GET /trabajos?...&cursor=C&limite=N`: a page of the jobs `filtro` takes, after
    /// `cursor` (from the newest without one).
    pub async fn pagina(
        &self,
        filtro: &FiltroTrabajos,
        cursor: Option<Cursor>,
        limite: u32,
    ) -> Result<ListaTrabajos, Error> {
        let cursor = cursor.map(|c| format!("&cursor={c}")).unwrap_or_default();
        let filtro = filtro.consulta();
        self.get(&format!("/trabajos?limite={limite}{filtro}{cursor}"))
            .await
    }

    /// `POST /trabajos/{id}/reintentar`: queues a fallido or cancelado job again.
    pub async fn reintentar(&self, id: TrabajoId) -> Result<RespuestaAccion, Error> {
        self.post(
            &format!("/trabajos/{id}/reintentar"),
            &serde_json::json!({}),
        )
        .await
    }

    /// `POST /esclavos/{nombre}/drenar`: no new job goes to that esclavo.
    pub async fn drenar(&self, nombre: &str) -> Result<EsclavoInfo, Error> {
        let ruta = plataforma::maestro::ruta_con(&["esclavos", nombre, "drenar"]);
        self.post(&ruta, &serde_json::json!({})).await
    }

    /// `PATCH /trabajos/{id}`: a pending job's new priority.
    pub async fn priorizar(
        &self,
        id: TrabajoId,
        prioridad: Prioridad,
    ) -> Result<RespuestaAccion, Error> {
        let cuerpo = PeticionPrioridad { prioridad };
        let ruta = format!("/trabajos/{id}");
        self.pedir(Method::PATCH, &ruta, Some(&cuerpo), PLAZO).await
    }

    /// `GET /trabajos/{id}`.
    pub async fn trabajo(&self, id: TrabajoId) -> Result<Trabajo, Error> {
        self.get(&format!("/trabajos/{id}")).await
    }

    /// `GET /trabajos/{id}?esperar_ms=T`: the job once it is final, or after `espera`.
    pub async fn esperar_trabajo(&self, id: TrabajoId, espera: Duration) -> Result<Trabajo, Error> {
        let espera = espera.min(MAX_ESPERA);
        let ruta = format!("/trabajos/{id}?esperar_ms={}", espera.as_millis());
        self.pedir(Method::GET, &ruta, None::<&()>, espera + MARGEN_ESPERA)
            .await
    }

    /// `DELETE /trabajos/{id}`: cancels a pending or running job.
    pub async fn cancelar(&self, id: TrabajoId) -> Result<serde_json::Value, Error> {
        self.pedir(
            Method::DELETE,
            &format!("/trabajos/{id}"),
            None::<&()>,
            PLAZO,
        )
        .await
    }

    /// `GET /trabajos/{id}/imagen`: the PNG of a completed Julia job.
    pub async fn imagen(&self, id: TrabajoId) -> Result<Vec<u8>, Error> {
        let url = format!("{}/trabajos/{id}/imagen", self.base());
        let r = self
            .enviar(self.autorizar(self.http.get(&url).timeout(PLAZO)))
            .await?;
        let r = self.comprobar(r).await?;
        let bytes = r.bytes().await.map_err(|e| self.fallo(&url, e))?;
        Ok(bytes.to_vec())
    }

    /// `POST /imagenes`: uploads a PNG for `imagen` jobs; its id.
    pub async fn subir_imagen(&self, png: Vec<u8>) -> Result<comun::imagenes::ImagenSubida, Error> {
        let url = format!("{}/imagenes", self.base());
        let peticion = self.http.post(&url).timeout(PLAZO);
        let peticion = peticion.header(reqwest::header::CONTENT_TYPE, "image/png");
        let r = self.enviar(self.autorizar(peticion.body(png))).await?;
        let r = self.comprobar(r).await?;
        let bytes = r.bytes().await.map_err(|e| self.fallo(&url, e))?;
        serde_json::from_slice(&bytes).map_err(|e| Error::Respuesta {
            url,
            detalle: format!("{e}"),
        })
    }

    async fn get<T: DeserializeOwned>(&self, ruta: &str) -> Result<T, Error> {
        self.pedir(Method::GET, ruta, None::<&()>, PLAZO).await
    }

    async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        ruta: &str,
        cuerpo: &B,
    ) -> Result<T, Error> {
        self.pedir(Method::POST, ruta, Some(cuerpo), PLAZO).await
    }

    /// Sends the request to the maestro that answered last and, with several replicas, on to
    /// the next ones while it could not have been handled: no connection could be made, or
    /// (for a read, which may be repeated) no answer came or a follower had no leader (502, 503,
    /// 504). A change whose answer was lost is not sent twice: its error is returned.
    async fn pedir<B: Serialize, T: DeserializeOwned>(
        &self,
        metodo: Method,
        ruta: &str,
        cuerpo: Option<&B>,
        plazo: Duration,
    ) -> Result<T, Error> {
        let n = self.bases.len();
        let inicio = self.actual.load(Ordering::Relaxed);
        let mut i = 0;
        loop {
            let k = (inicio + i) % n;
            let lectura = metodo == Method::GET;
            match self.pedir_a(k, metodo.clone(), ruta, cuerpo, plazo).await {
                Ok(v) => {
                    if i > 0 {
                        self.actual.store(k, Ordering::Relaxed);
                    }
                    return Ok(v);
                }
                Err((e, sin_conexion)) => {
                    let sin_lider = matches!(
                        &e,
                        Error::Maestro {
                            status: 502..=504,
                            ..
                        }
                    );
                    let otra = sin_conexion
                        || (lectura && (sin_lider || matches!(&e, Error::Conexion { .. })));
                    if i + 1 < n && otra {
                        i += 1;
                        continue;
                    }
                    return Err(e);
                }
            }
        }
    }

    /// One try of [`Maestro::pedir`] against `bases[k]`: the error, and whether no connection
    /// was made at all.
    async fn pedir_a<B: Serialize, T: DeserializeOwned>(
        &self,
        k: usize,
        metodo: Method,
        ruta: &str,
        cuerpo: Option<&B>,
        plazo: Duration,
    ) -> Result<T, (Error, bool)> {
        let url = format!("{}{ruta}", self.bases[k]);
        let mut peticion = self.autorizar(self.http.request(metodo, &url).timeout(plazo));
        if let Some(c) = cuerpo {
            peticion = peticion.json(c);
        }
        let r = match peticion.send().await {
            Ok(r) => r,
            Err(e) => {
                let sin_conexion = e.is_connect();
                return Err((self.fallo(&url, e), sin_conexion));
            }
        };
        let r = self.comprobar(r).await.map_err(|e| (e, false))?;
        let bytes = r.bytes().await.map_err(|e| (self.fallo(&url, e), false))?;
        serde_json::from_slice(&bytes).map_err(|e| {
            let error = Error::Respuesta {
                url,
                detalle: format!("{e}"),
            };
            (error, false)
        })
    }

    /// Adds the token, when there is one.
    fn autorizar(&self, peticion: RequestBuilder) -> RequestBuilder {
        match &self.token {
            Some(t) => peticion.bearer_auth(t),
            None => peticion,
        }
    }

    async fn enviar(&self, peticion: RequestBuilder) -> Result<Response, Error> {
        peticion.send().await.map_err(|e| {
            let url = e.url().map(|u| u.to_string()).unwrap_or_default();
            self.fallo(&url, e)
        })
    }

    /// An error status becomes [`Error::Maestro`] with the maestro's JSON body.
    async fn comprobar(&self, r: Response) -> Result<Response, Error> {
        let status = r.status();
        if status.is_success() {
            return Ok(r);
        }
        let texto = r.text().await.unwrap_or_default();
        let cuerpo = serde_json::from_str::<CuerpoError>(&texto).unwrap_or_else(|_| {
            let t = texto.trim();
            CuerpoError::new(if t.is_empty() {
                status.canonical_reason().unwrap_or("error").to_string()
            } else {
                t.chars().take(500).collect()
            })
        });
        Err(Error::Maestro {
            status: status.as_u16(),
            cuerpo,
        })
    }

    fn fallo(&self, url: &str, e: reqwest::Error) -> Error {
        if e.is_connect() || e.is_timeout() || e.is_request() {
            let mut detalle = e.to_string();
            let mut fuente = std::error::Error::source(&e);
            while let Some(f) = fuente {
                detalle = format!("{detalle}: {f}");
                fuente = f.source();
            }
            if detalle.contains("invalid peer certificate") {
                detalle.push_str(
                    "\nhint: the maestro's TLS certificate is not trusted here; pass the \
                     cluster's CA certificate with --ca PEM (or HPC_CA)",
                );
            }
            Error::Conexion {
                url: url
                    .find("://")
                    .and_then(|i| url[i + 3..].find('/').map(|j| url[..i + 3 + j].to_string()))
                    .unwrap_or_else(|| self.base().to_string()),
                detalle,
            }
        } else {
            Error::Respuesta {
                url: url.to_string(),
                detalle: e.to_string(),
            }
        }
    }
}
/// `nombre` as one URL path segment: every byte but the unreserved ones percent-encoded.
fn segmento(nombre: &str) -> String {
    nombre
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
