//! Test support: a scripted source of samples, a fake maestro recording the reports it gets, and
//! a memoria started in-process on port 0 ([`pruebas::Servicio`]).

#![allow(dead_code)] // Each test file uses a different part of this module.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use comun::memoria::{Muestra, ReporteMemoria, RespuestaReporte};
use memoria::{Config, Fuente};
use pruebas::{Falso, Servicio};
use serde::de::DeserializeOwned;

/// How long any condition of these tests may take to become true.
pub const PLAZO: Duration = Duration::from_secs(20);

/// Logs to the test output when `TEST_LOG` is set (`TEST_LOG=1 cargo test -p memoria`).
pub fn iniciar_logs() {
    pruebas::registros::iniciar_logs("memoria=debug");
}

/// What the scripted source returns; tests change it while the memoria runs.
#[derive(Default)]
struct Libreto {
    /// The sample returned (its `nodo` and `instante_ms` are overwritten by the sampler).
    muestra: Mutex<Muestra>,
    /// When not empty, CPU values taken in turn, one per sample, overriding the sample's.
    ciclo_cpu: Mutex<Vec<f64>>,
    /// Samples taken so far.
    llamadas: AtomicU64,
}

/// A handle on a scripted source: set what it returns and count how often it was asked.
#[derive(Clone, Default)]
pub struct Guion(Arc<Libreto>);

impl Guion {
    /// A script whose samples are `muestra`.
    pub fn new(muestra: Muestra) -> Self {
        let guion = Self::default();
        *guion.0.muestra.lock().unwrap() = muestra;
        guion
    }

    /// The source to give the memoria.
    pub fn fuente(&self) -> FuenteGuionada {
        FuenteGuionada(self.clone())
    }

    /// From the next sample on, CPU use is `cpu`.
    pub fn fijar_cpu(&self, cpu: f64) {
        self.0.ciclo_cpu.lock().unwrap().clear();
        self.0.muestra.lock().unwrap().cpu_porcentaje = cpu;
    }

    /// From the next sample on, CPU use takes `valores` in turn, over and over.
    pub fn ciclar_cpu(&self, valores: Vec<f64>) {
        *self.0.ciclo_cpu.lock().unwrap() = valores;
    }

    /// Samples taken so far.
    pub fn llamadas(&self) -> u64 {
        self.0.llamadas.load(Ordering::SeqCst)
    }
}

/// A [`Fuente`] that returns what its [`Guion`] says.
pub struct FuenteGuionada(Guion);

impl Fuente for FuenteGuionada {
    fn muestrear(&mut self) -> Muestra {
        let libreto = &self.0.0;
        let n = libreto.llamadas.fetch_add(1, Ordering::SeqCst);
        let mut muestra = libreto.muestra.lock().unwrap().clone();
        let ciclo = libreto.ciclo_cpu.lock().unwrap();
        if !ciclo.is_empty() {
            muestra.cpu_porcentaje = ciclo[n as usize % ciclo.len()];
        }
        muestra
    }
}

/// A report as the fake maestro got it.
#[derive(Debug, Clone)]
pub struct Recibido {
    /// The body.
    pub reporte: ReporteMemoria,
    /// When it arrived.
    pub llegada: Instant,
    /// Its `Authorization` header, if any.
    pub autorizacion: Option<String>,
}

/// A maestro that only takes reports, and records them.
#[derive(Default)]
pub struct MaestroFalso {
    /// Every report answered 200, in order.
    recibidos: Mutex<Vec<Recibido>>,
    /// This many reports are answered 500 before any is taken.
    pub fallar: AtomicU32,
    /// Reports answered 500.
    pub rechazados: AtomicU32,
}

impl MaestroFalso {
    pub fn recibidos(&self) -> MutexGuard<'_, Vec<Recibido>> {
        self.recibidos.lock().unwrap()
    }

    /// The reports taken so far.
    pub fn reportes(&self) -> Vec<ReporteMemoria> {
        self.recibidos().iter().map(|r| r.reporte.clone()).collect()
    }
}

/// Serves `/reporte_memoria`.
impl Falso for MaestroFalso {
    fn router(self: &Arc<Self>) -> Router {
        Router::new()
            .route("/reporte_memoria", post(reporte))
            .with_state(Arc::clone(self))
    }
}

async fn reporte(
    State(m): State<Arc<MaestroFalso>>,
    cabeceras: HeaderMap,
    Json(reporte): Json<ReporteMemoria>,
) -> Response {
    let fallar = m
        .fallar
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    if fallar {
        m.rechazados.fetch_add(1, Ordering::SeqCst);
        return (StatusCode::INTERNAL_SERVER_ERROR, "database is locked").into_response();
    }
    let autorizacion = cabeceras
        .get("authorization")
        .map(|v| v.to_str().unwrap().to_owned());
    m.recibidos().push(Recibido {
        reporte,
        llegada: Instant::now(),
        autorizacion,
    });
    Json(RespuestaReporte { ok: true }).into_response()
}

/// A config for tests: node `nodo-prueba`, a sample every 20 ms, reports only on changes
/// (a one-hour period), the default thresholds.
pub fn config(maestro: Option<&str>) -> Config {
    let mut c = Config::new(maestro.map(Into::into));
    c.nodo = "nodo-prueba".into();
    c.intervalo = Duration::from_millis(20);
    c.intervalo_reporte = Duration::from_secs(3600);
    c
}

/// A memoria running in-process on a free loopback port.
pub struct MemoriaDePrueba {
    /// Its base URL.
    pub url: String,
    /// A client for talking to it.
    pub http: reqwest::Client,
    /// The task running [`memoria::run_con_fuente`], and its shutdown.
    servicio: Servicio,
}

impl MemoriaDePrueba {
    pub async fn iniciar(config: Config, guion: &Guion) -> Self {
        iniciar_logs();
        let fuente = guion.fuente();
        let servicio =
            Servicio::iniciar(|l, parada| memoria::run_con_fuente(config, l, fuente, parada)).await;
        Self {
            url: servicio.url.clone(),
            http: reqwest::Client::new(),
            servicio,
        }
    }

    /// Triggers shutdown and returns what `run_con_fuente` returned.
    pub async fn parar(self) -> anyhow::Result<()> {
        self.servicio.terminar().await
    }

    /// `GET ruta`: the status and the body as JSON (`Null` if it is not JSON).
    pub async fn get(&self, ruta: &str) -> (StatusCode, serde_json::Value) {
        let r = self
            .http
            .get(format!("{}{ruta}", self.url))
            .send()
            .await
            .unwrap();
        let estado = StatusCode::from_u16(r.status().as_u16()).unwrap();
        let texto = r.text().await.unwrap();
        (estado, serde_json::from_str(&texto).unwrap_or_default())
    }

    /// `GET ruta`, which must answer 200 with a `T`.
    pub async fn get_ok<T: DeserializeOwned>(&self, ruta: &str) -> T {
        let (estado, cuerpo) = self.get(ruta).await;
        assert_eq!(estado, StatusCode::OK, "GET {ruta}: {cuerpo}");
        serde_json::from_value(cuerpo).unwrap()
    }
}
