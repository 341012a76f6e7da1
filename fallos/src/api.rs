//! The maestro's public API and an esclavo's `GET /estado`, as the scenarios call them.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use comun::api::{
    EsclavoInfo, EstadoMemoria, PeticionLote, PeticionTrabajo, RespuestaAgregar, RespuestaLote,
    Resumen, Trabajo,
};
use comun::{Estado, Prioridad, TrabajoId};
use serde::Deserialize;

use crate::Aceptados;
use serde::de::DeserializeOwned;

/// A client of one maestro. Cheap to clone (one connection pool).
#[derive(Debug, Clone)]
pub struct Api {
    http: reqwest::Client,
    /// `http://host:port`.
    pub url: String,
}

/// The HTTP client of the scenarios: short connect timeout, so an absent service is an error,
/// not a hang. (The workspace's reqwest has no TLS provider of its own: like
/// `plataforma::cliente_http`, this installs `ring` first, or building a client panics.)
pub fn cliente_http() -> reqwest::Client {
    static PROVEEDOR: std::sync::Once = std::sync::Once::new();
    PROVEEDOR.call_once(|| {
        // An error means a provider is installed already: that one serves.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(30))
        .build()
        .expect("building an HTTP client")
}

impl Api {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            http: cliente_http(),
            url: url.into(),
        }
    }

    async fn obtener<T: DeserializeOwned>(&self, ruta: &str) -> anyhow::Result<T> {
        leer(self.http.get(format!("{}{ruta}", self.url)).send().await?).await
    }

    async fn enviar<T: DeserializeOwned>(
        &self,
        ruta: &str,
        cuerpo: &impl serde::Serialize,
    ) -> anyhow::Result<T> {
        let r = self
            .http
            .post(format!("{}{ruta}", self.url))
            .json(cuerpo)
            .send()
            .await?;
        leer(r).await
    }

    /// `POST /trabajos`: the ids of the batch, once the maestro acknowledged it.
    pub async fn lote(&self, trabajos: Vec<PeticionTrabajo>) -> anyhow::Result<Vec<TrabajoId>> {
        let n = trabajos.len();
        let r: RespuestaLote = self.enviar("/trabajos", &PeticionLote { trabajos }).await?;
        anyhow::ensure!(r.ids.len() == n, "{n} jobs sent, {} ids back", r.ids.len());
        Ok(r.ids)
    }

    /// `POST /trabajos` of `n` `espera` jobs of `ms` each: the scenarios' usual batch, recorded
    /// as accepted once the maestro acknowledged it. Panics naming `que` if the submission fails.
    pub async fn esperas(
        &self,
        aceptados: &Aceptados,
        n: usize,
        ms: u64,
        prioridad: Prioridad,
        que: &str,
    ) -> Vec<TrabajoId> {
        let ids = self
            .lote(vec![PeticionTrabajo::espera(ms, prioridad); n])
            .await
            .unwrap_or_else(|e| panic!("submitting {que}: {e:#}"));
        aceptados.agregar(ids.iter().copied());
        ids
    }

    /// `POST /agregar_trabajo`.
    pub async fn agregar(&self, trabajo: &PeticionTrabajo) -> anyhow::Result<TrabajoId> {
        let r: RespuestaAgregar = self.enviar("/agregar_trabajo", trabajo).await?;
        Ok(r.id)
    }

    pub async fn resumen(&self) -> anyhow::Result<Resumen> {
        self.obtener("/resumen").await
    }

    pub async fn trabajo(&self, id: TrabajoId) -> anyhow::Result<Trabajo> {
        self.obtener(&format!("/trabajos/{id}")).await
    }

    pub async fn esclavos(&self) -> anyhow::Result<Vec<EsclavoInfo>> {
        self.obtener("/esclavos").await
    }

    pub async fn memoria(&self) -> anyhow::Result<EstadoMemoria> {
        self.obtener("/memoria").await
    }

    /// Whether `nombre` is registered and alive, as the maestro sees it.
    pub async fn esclavo_vivo(&self, nombre: &str) -> bool {
        self.esclavos()
            .await
            .is_ok_and(|l| l.iter().any(|e| e.nombre == nombre && e.vivo))
    }

    /// Waits until the job satisfies `cumple`; panics naming `que` after `plazo`.
    pub async fn esperar_trabajo(
        &self,
        id: TrabajoId,
        plazo: Duration,
        que: &str,
        cumple: impl Fn(&Trabajo) -> bool,
    ) -> Trabajo {
        let limite = Instant::now() + plazo;
        let mut ultimo = None;
        loop {
            if let Ok(t) = self.trabajo(id).await {
                if cumple(&t) {
                    return t;
                }
                ultimo = Some(t);
            }
            assert!(
                Instant::now() < limite,
                "timed out after {plazo:?} waiting until job {id} {que}; last seen: {ultimo:?}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Waits until the job is running on `esclavo`.
    pub async fn esperar_en(&self, id: TrabajoId, esclavo: &str, plazo: Duration) -> Trabajo {
        self.esperar_trabajo(id, plazo, &format!("runs on {esclavo}"), |t| {
            t.estado == Estado::Asignado && t.esclavo.as_deref() == Some(esclavo)
        })
        .await
    }

    /// Waits until the job is final (completado, fallido or cancelado).
    pub async fn esperar_final(&self, id: TrabajoId, plazo: Duration) -> Trabajo {
        self.esperar_trabajo(id, plazo, "is final", |t| t.estado.es_final())
            .await
    }

    /// Waits until nothing is pending or running; returns the counts.
    pub async fn esperar_vacia(&self, plazo: Duration) -> Resumen {
        let limite = Instant::now() + plazo;
        let mut ultimo = None;
        loop {
            if let Ok(r) = self.resumen().await {
                if r.activos() == 0 {
                    return r;
                }
                ultimo = Some(r);
            }
            assert!(
                Instant::now() < limite,
                "the queue did not drain within {plazo:?}; last counts: {ultimo:?}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

/// An answer's body as `T`, or an error with the status and body when it is not a success.
async fn leer<T: DeserializeOwned>(r: reqwest::Response) -> anyhow::Result<T> {
    let estado = r.status();
    if !estado.is_success() {
        let cuerpo = r.text().await.unwrap_or_default();
        anyhow::bail!("answered {estado}: {cuerpo}");
    }
    r.json().await.context("unreadable answer")
}

/// The fields of an esclavo's `GET /estado` the scenarios read (the type lives in the esclavo
/// crate; this mirror keeps the harness off its dependencies).
#[derive(Debug, Clone, Deserialize)]
pub struct VistaEsclavo {
    pub nombre: String,
    pub instancia: u64,
    pub ejecutando: Vec<EnCursoEsclavo>,
    pub historial: Vec<TerminadoEsclavo>,
    pub registrado: bool,
    pub resultados_por_enviar: u64,
}

/// A job an esclavo runs now.
#[derive(Debug, Clone, Deserialize)]
pub struct EnCursoEsclavo {
    pub id: TrabajoId,
    pub intento: u32,
}

/// An attempt an esclavo finished.
#[derive(Debug, Clone, Deserialize)]
pub struct TerminadoEsclavo {
    pub id: TrabajoId,
    pub intento: u32,
    pub estado: Estado,
    /// When it ended, by the esclavo's clock (ms since the Unix epoch).
    pub fin_ms: u64,
}

/// `GET {esclavo}/estado`.
pub async fn estado_esclavo(http: &reqwest::Client, url: &str) -> anyhow::Result<VistaEsclavo> {
    leer(http.get(format!("{url}/estado")).send().await?).await
}

/// What [`enviar_tareas`] went through to have a batch acknowledged.
#[derive(Debug, Default, Clone, Copy)]
pub struct Envio {
    /// Tries that failed (no connection, no answer, 5xx) before one went through.
    pub reintentos: u32,
    /// Whether a retry found the batch already queued (409: an earlier try whose answer was
    /// lost had gone through) and read its ids back by `task_id`.
    pub ya_estaba: bool,
}

/// What the replica at `url` says of who leads (`GET /estado`): the HTTP status, and the
/// leading replica's name and fencing epoch when the answer names one; `None` when nothing
/// answered.
pub async fn lider(http: &reqwest::Client, url: &str) -> Option<(u16, Option<(String, i64)>)> {
    let r = http.get(format!("{url}/estado")).send().await.ok()?;
    let codigo = r.status().as_u16();
    let e = r.json::<comun::api::EstadoCluster>().await.ok();
    let lider = e.and_then(|e| e.replicas.into_iter().find(|r| r.lider));
    Some((
        codigo,
        lider.map(|r| (r.nombre, r.epoca.unwrap_or_default())),
    ))
}

/// Whether the replica at `url` answers that `replica` leads.
pub async fn lidera(http: &reqwest::Client, url: &str, replica: &str) -> bool {
    lider(http, url)
        .await
        .and_then(|(_, l)| l)
        .is_some_and(|(nombre, _)| nombre == replica)
}

/// `POST /tasks` of `tareas` (each with a unique `task_id`), to the maestros of `urls` in turn
/// from `primero`, until one acknowledges the batch, within `plazo`: the batch's job ids, in
/// order. A batch is queued all or nothing, and a `task_id` only once, so a retry after an
/// answer that was lost cannot queue anything twice: its 409 says the batch is in, and the ids
/// are read back by `task_id`. This is how a client submits safely through a failover.
pub async fn enviar_tareas(
    http: &reqwest::Client,
    urls: &[String],
    primero: usize,
    tareas: &[serde_json::Value],
    plazo: Duration,
) -> anyhow::Result<(Vec<TrabajoId>, Envio)> {
    #[derive(Deserialize)]
    struct Vista {
        id: TrabajoId,
    }
    #[derive(Deserialize)]
    struct Creadas {
        tasks: Vec<Vista>,
    }
    let cuerpo = serde_json::json!({ "tasks": tareas });
    let inicio = Instant::now();
    let mut envio = Envio::default();
    for intento in 0.. {
        anyhow::ensure!(
            inicio.elapsed() < plazo,
            "no maestro of {urls:?} acknowledged the batch within {plazo:?} ({} tries)",
            envio.reintentos
        );
        let url = &urls[(primero + intento) % urls.len()];
        let r = http.post(format!("{url}/tasks")).json(&cuerpo).send().await;
        match r {
            Ok(r) if r.status() == 201 => {
                let c: Creadas = r.json().await.context("reading POST /tasks' answer")?;
                return Ok((c.tasks.into_iter().map(|t| t.id).collect(), envio));
            }
            Ok(r) if r.status() == 409 => {
                envio.ya_estaba = true;
                let releer = async {
                    let mut ids = Vec::with_capacity(tareas.len());
                    for t in tareas {
                        let task_id = t["task_id"].as_str().context("a task without task_id")?;
                        let r = http.get(format!("{url}/tasks/{task_id}")).send().await?;
                        ids.push(leer::<Vista>(r).await?.id);
                    }
                    anyhow::Ok(ids)
                };
                // A maestro going away meanwhile: the next try finds the batch again.
                if let Ok(ids) = releer.await {
                    return Ok((ids, envio));
                }
            }
            Ok(r) if r.status().is_server_error() => {}
            Ok(r) => {
                let estado = r.status();
                anyhow::bail!(
                    "POST /tasks: {estado}: {}",
                    r.text().await.unwrap_or_default()
                );
            }
            Err(_) => {}
        }
        envio.reintentos += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    unreachable!("the loop returns")
}
