//! Test support: a maestro and esclavos started in-process on port 0, real HTTP on loopback,
//! and waiting for conditions with a deadline (never a bare sleep).
#![allow(dead_code)]

pub mod falso;

use std::future::Future;
use std::path::Path;
use std::time::{Duration, Instant};

use comun::api::{PeticionTrabajo, RespuestaAgregar, Resumen, Trabajo};
use comun::{Prioridad, TrabajoId};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A running service and the means to stop it.
pub struct Servicio {
    pub url: String,
    pub puerto: u16,
    parar: Option<oneshot::Sender<()>>,
    tarea: Option<JoinHandle<anyhow::Result<()>>>,
}

impl Servicio {
    /// Stops it and waits until it has stopped.
    pub async fn parar(mut self) {
        if let Some(p) = self.parar.take() {
            let _ = p.send(());
        }
        if let Some(t) = self.tarea.take() {
            tokio::time::timeout(Duration::from_secs(20), t)
                .await
                .expect("service did not stop within 20 s")
                .expect("service task panicked")
                .expect("service returned an error");
        }
    }
}

fn iniciar<F>(
    puerto: u16,
    f: impl FnOnce(oneshot::Receiver<()>) -> F,
) -> (oneshot::Sender<()>, JoinHandle<anyhow::Result<()>>, u16)
where
    F: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let (tx, rx) = oneshot::channel();
    let tarea = tokio::spawn(f(rx));
    (tx, tarea, puerto)
}

async fn escuchar(puerto: u16) -> (TcpListener, u16) {
    let l = TcpListener::bind(("127.0.0.1", puerto))
        .await
        .expect("binding a port");
    let p = l.local_addr().unwrap().port();
    (l, p)
}

/// A maestro on `puerto` (0: any) with the given config.
pub async fn maestro(config: maestro::Config, puerto: u16) -> Servicio {
    let (listener, puerto) = escuchar(puerto).await;
    let (tx, tarea, puerto) = iniciar(puerto, |rx| {
        maestro::run(config, listener, async move {
            let _ = rx.await;
        })
    });
    let url = format!("http://127.0.0.1:{puerto}");
    esperar_hasta(Duration::from_secs(10), "maestro answers /ping", || async {
        reqwest::get(format!("{url}/ping"))
            .await
            .is_ok_and(|r| r.status().is_success())
    })
    .await;
    Servicio {
        url,
        puerto,
        parar: Some(tx),
        tarea: Some(tarea),
    }
}

/// A maestro config for tests: quick to declare esclavos lost.
pub fn config_maestro(datos: &Path) -> maestro::Config {
    let mut c = maestro::Config::new(datos);
    c.plazo_esclavo = Duration::from_millis(1500);
    c.sondeo_archivo = Duration::from_millis(500);
    c
}

/// An esclavo registered with `maestro`, with `capacidad` slots.
pub async fn esclavo(maestro: &str, nombre: &str, capacidad: u32) -> Servicio {
    esclavo_en(maestro, nombre, capacidad, "local").await
}

/// An esclavo on node `nodo`.
pub async fn esclavo_en(maestro: &str, nombre: &str, capacidad: u32, nodo: &str) -> Servicio {
    let mut config = esclavo::Config::new(maestro, nombre);
    config.capacidad = capacidad;
    config.nodo = nodo.into();
    config.latido = Duration::from_millis(250);
    let (listener, puerto) = escuchar(0).await;
    let (tx, tarea, puerto) = iniciar(puerto, |rx| {
        esclavo::run(config, listener, async move {
            let _ = rx.await;
        })
    });
    let m = maestro.to_string();
    let n = nombre.to_string();
    esperar_hasta(Duration::from_secs(10), "esclavo registered", || {
        let (m, n) = (m.clone(), n.clone());
        async move {
            let r: Vec<comun::api::EsclavoInfo> = match reqwest::get(format!("{m}/esclavos")).await
            {
                Ok(r) => r.json().await.unwrap_or_default(),
                Err(_) => return false,
            };
            r.iter().any(|e| e.nombre == n && e.vivo)
        }
    })
    .await;
    Servicio {
        url: format!("http://127.0.0.1:{puerto}"),
        puerto,
        parar: Some(tx),
        tarea: Some(tarea),
    }
}

/// Polls `f` every 20 ms until it holds; panics naming `que` after `plazo`.
pub async fn esperar_hasta<F, Fut>(plazo: Duration, que: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let limite = Instant::now() + plazo;
    loop {
        if f().await {
            return;
        }
        assert!(
            Instant::now() < limite,
            "timed out after {plazo:?} waiting until {que}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub async fn agregar(url: &str, p: &PeticionTrabajo) -> TrabajoId {
    let r = reqwest::Client::new()
        .post(format!("{url}/agregar_trabajo"))
        .json(p)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    r.json::<RespuestaAgregar>().await.unwrap().id
}

pub async fn espera(url: &str, ms: u64, prioridad: Prioridad) -> TrabajoId {
    agregar(url, &PeticionTrabajo::espera(ms, prioridad)).await
}

pub async fn trabajo(url: &str, id: TrabajoId) -> Trabajo {
    let r = reqwest::get(format!("{url}/trabajos/{id}")).await.unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    r.json().await.unwrap()
}

/// Waits (long-polling the maestro) until the job is final, and returns it.
pub async fn esperar_final(url: &str, id: TrabajoId, plazo: Duration) -> Trabajo {
    let limite = Instant::now() + plazo;
    loop {
        let r = reqwest::get(format!("{url}/trabajos/{id}?esperar_ms=2000")).await;
        if let Ok(r) = r
            && let Ok(t) = r.json::<Trabajo>().await
            && t.estado.es_final()
        {
            return t;
        }
        assert!(
            Instant::now() < limite,
            "job {id} not finished within {plazo:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub async fn resumen(url: &str) -> Resumen {
    reqwest::get(format!("{url}/resumen"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Waits until no job is pending or running and returns the counts.
pub async fn esperar_vacia(url: &str, plazo: Duration) -> Resumen {
    let limite = Instant::now() + plazo;
    loop {
        let r = resumen(url).await;
        if r.activos() == 0 {
            return r;
        }
        assert!(
            Instant::now() < limite,
            "queue not drained within {plazo:?}: {r:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
