//! Test support: a maestro and esclavos started in-process on port 0 ([`pruebas::Servicio`]),
//! real HTTP on loopback, the maestro's API as the tests call it, and waiting for conditions
//! with a deadline (never a bare sleep).
#![allow(dead_code)]

pub mod falso;

use std::path::Path;
use std::time::Duration;

use comun::api::{PeticionTrabajo, RespuestaAgregar, Resumen, Trabajo};
use comun::{Prioridad, TrabajoId};
use pruebas::sondas::{esclavo_vivo, responde_ping};
use pruebas::sondear;
pub use pruebas::{Servicio, esperar_hasta};

/// How long a started maestro or esclavo may take to be ready.
const ARRANQUE: Duration = Duration::from_secs(10);

/// A maestro on `puerto` (0: any) with the given config.
pub async fn maestro(config: maestro::Config, puerto: u16) -> Servicio {
    let m = Servicio::iniciar_en(puerto, |listener, parada| {
        maestro::run(config, listener, parada)
    })
    .await;
    esperar_hasta(ARRANQUE, "maestro answers /ping", || responde_ping(&m.url)).await;
    m
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
    let e = Servicio::iniciar(|listener, parada| esclavo::run(config, listener, parada)).await;
    esperar_hasta(ARRANQUE, "esclavo registered", || {
        esclavo_vivo(maestro, nombre)
    })
    .await;
    e
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
    let final_ = sondear(plazo, || async {
        let r = reqwest::get(format!("{url}/trabajos/{id}?esperar_ms=2000")).await;
        let t = r.ok()?.json::<Trabajo>().await.ok()?;
        t.estado.es_final().then_some(t)
    })
    .await;
    final_.unwrap_or_else(|| panic!("job {id} not finished within {plazo:?}"))
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
    let ultimo = std::cell::RefCell::new(None);
    let vacia = sondear(plazo, || async {
        let r = resumen(url).await;
        if r.activos() == 0 {
            return Some(r);
        }
        ultimo.replace(Some(r));
        None
    })
    .await;
    vacia.unwrap_or_else(|| {
        let r = ultimo.into_inner().unwrap();
        panic!("queue not drained within {plazo:?}: {r:?}")
    })
}
