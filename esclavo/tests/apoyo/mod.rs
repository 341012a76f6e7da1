//! Test support: a fake maestro recording what esclavos send it, an esclavo started in-process
//! on port 0 ([`pruebas::Servicio`]), and waiting for a condition with a deadline.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use comun::nodo::{
    InformeResultado, Latido, LoteResultados, Registro, RespuestaLatido, RespuestaRegistro,
    RespuestaResultados,
};
use esclavo::{Config, EstadoEsclavo};
use pruebas::{Falso, Servicio};

/// How long any condition of these tests may take to become true.
pub const PLAZO: Duration = Duration::from_secs(10);

/// Logs to the test output when `TEST_LOG` is set (`TEST_LOG=1 cargo test -p esclavo`).
pub fn iniciar_logs() {
    pruebas::registros::iniciar_logs("esclavo=debug");
}

/// What the fake maestro has received.
#[derive(Debug, Default)]
pub struct Recibido {
    /// Every registration, in order.
    pub registros: Vec<Registro>,
    /// Every heartbeat it answered 200.
    pub latidos: Vec<Latido>,
    /// Every result of every batch it answered 200.
    pub resultados: Vec<InformeResultado>,
    /// `POST /resultado` calls, successful or not.
    pub envios_de_resultados: u32,
    /// The `Authorization` header of every request, `None` when absent.
    pub autorizaciones: Vec<Option<String>>,
}

/// A maestro that only records: registration, heartbeat and results endpoints.
#[derive(Default)]
pub struct MaestroFalso {
    recibido: Mutex<Recibido>,
    /// When set, the next heartbeat is answered 404 (and the flag cleared).
    pub olvidar: AtomicBool,
    /// This many `POST /resultado` calls are answered 500 before any is accepted.
    pub fallar_resultados: AtomicU32,
    /// Jobs the maestro no longer wants: a heartbeat that lists one as running is answered
    /// with it in `cancelar`.
    pub no_deseados: Mutex<Vec<comun::TrabajoId>>,
}

impl MaestroFalso {
    pub fn recibido(&self) -> MutexGuard<'_, Recibido> {
        self.recibido.lock().unwrap()
    }

    fn anotar_autorizacion(&self, cabeceras: &HeaderMap) {
        let valor = cabeceras
            .get("authorization")
            .map(|v| v.to_str().unwrap().to_owned());
        self.recibido().autorizaciones.push(valor);
    }
}

/// Serves `/registrar_esclavo`, `/latido` and `/resultado`.
impl Falso for MaestroFalso {
    fn router(self: &Arc<Self>) -> Router {
        Router::new()
            .route("/registrar_esclavo", post(registrar))
            .route("/latido", post(latido))
            .route("/resultado", post(resultado))
            .with_state(Arc::clone(self))
    }
}

async fn registrar(
    State(m): State<Arc<MaestroFalso>>,
    cabeceras: HeaderMap,
    Json(r): Json<Registro>,
) -> Json<RespuestaRegistro> {
    m.anotar_autorizacion(&cabeceras);
    m.recibido().registros.push(r);
    Json(RespuestaRegistro {
        latido_ms: 2000,
        mensaje: "ok".into(),
    })
}

async fn latido(
    State(m): State<Arc<MaestroFalso>>,
    cabeceras: HeaderMap,
    Json(l): Json<Latido>,
) -> Response {
    m.anotar_autorizacion(&cabeceras);
    if m.olvidar.swap(false, Ordering::SeqCst) {
        return (StatusCode::NOT_FOUND, "unknown esclavo").into_response();
    }
    let cancelar = {
        let no_deseados = m.no_deseados.lock().unwrap();
        l.ejecutando
            .iter()
            .filter(|id| no_deseados.contains(id))
            .copied()
            .collect()
    };
    m.recibido().latidos.push(l);
    Json(RespuestaLatido { ok: true, cancelar }).into_response()
}

async fn resultado(
    State(m): State<Arc<MaestroFalso>>,
    cabeceras: HeaderMap,
    Json(lote): Json<LoteResultados>,
) -> Response {
    m.anotar_autorizacion(&cabeceras);
    m.recibido().envios_de_resultados += 1;
    let fallar = m
        .fallar_resultados
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    if fallar {
        return (StatusCode::INTERNAL_SERVER_ERROR, "database is locked").into_response();
    }
    let registrados = lote.resultados.len() as u32;
    m.recibido().resultados.extend(lote.resultados);
    Json(RespuestaResultados {
        registrados,
        ignorados: 0,
    })
    .into_response()
}

/// An esclavo running in-process on a free loopback port.
pub struct EsclavoDePrueba {
    /// Its base URL.
    pub url: String,
    /// A client for talking to it.
    pub http: reqwest::Client,
    /// The task running [`esclavo::run`], and its shutdown.
    servicio: Servicio,
}

/// A config for tests: fast heartbeats, two slots.
pub fn config(maestro: &str) -> Config {
    let mut c = Config::new(maestro, "e-prueba");
    c.capacidad = 2;
    c.latido = Duration::from_millis(50);
    c.gracia = Duration::ZERO;
    c
}

impl EsclavoDePrueba {
    pub async fn iniciar(config: Config) -> Self {
        iniciar_logs();
        let servicio = Servicio::iniciar(|l, parada| esclavo::run(config, l, parada)).await;
        Self {
            url: servicio.url.clone(),
            http: reqwest::Client::new(),
            servicio,
        }
    }

    /// Triggers shutdown and returns what `run` returned.
    pub async fn parar(self) -> anyhow::Result<()> {
        self.servicio.terminar().await
    }

    pub async fn estado(&self) -> EstadoEsclavo {
        pruebas::api::respuesta(self.http.get(format!("{}/estado", self.url))).await
    }

    /// `POST /ejecutar` with a raw JSON body; the status and the JSON answer.
    pub async fn ejecutar(&self, cuerpo: serde_json::Value) -> (StatusCode, serde_json::Value) {
        self.ejecutar_con(cuerpo, None).await
    }

    /// `POST /cancelar` of the jobs `ids`, without a token; asserts it was answered 200.
    pub async fn cancelar(&self, ids: &[u64]) {
        let r = self
            .http
            .post(format!("{}/cancelar", self.url))
            .json(&serde_json::json!({ "trabajos": ids }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "POST /cancelar {ids:?}");
    }

    pub async fn ejecutar_con(
        &self,
        cuerpo: serde_json::Value,
        token: Option<&str>,
    ) -> (StatusCode, serde_json::Value) {
        let mut peticion = self
            .http
            .post(format!("{}/ejecutar", self.url))
            .json(&cuerpo);
        if let Some(t) = token {
            peticion = peticion.bearer_auth(t);
        }
        let r = peticion.send().await.unwrap();
        let estado = StatusCode::from_u16(r.status().as_u16()).unwrap();
        (estado, r.json().await.unwrap())
    }
}

/// Runs `f` and fails if it takes longer than [`PLAZO`].
pub async fn a_tiempo<T>(que: &str, f: impl Future<Output = T>) -> T {
    tokio::time::timeout(PLAZO, f)
        .await
        .unwrap_or_else(|_| panic!("timed out after {PLAZO:?}: {que}"))
}
