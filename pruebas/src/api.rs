//! The maestro's HTTP API as the tests call it: submit a job, read one, wait until it is final
//! or the queue is drained, read the counts and the memoria view. Each call asserts it was
//! answered as a working maestro answers (a test of bad answers sends its own requests).

use std::cell::RefCell;
use std::time::Duration;

use comun::api::{EstadoMemoria, PeticionTrabajo, RespuestaAgregar, Resumen, Trabajo};
use comun::{Estado, Prioridad, TrabajoId};
use serde::de::DeserializeOwned;

use crate::espera::sondear;

/// `POST /agregar_trabajo`, which must answer 200; the new job's id.
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

/// Submits an `espera` job of `ms`.
pub async fn espera(url: &str, ms: u64, prioridad: Prioridad) -> TrabajoId {
    agregar(url, &PeticionTrabajo::espera(ms, prioridad)).await
}

/// `GET /trabajos/{id}`, which must answer 200.
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

/// Submits `n` `espera` jobs of `ms` (priority media), waits until each is final, which must be
/// `completado`, and returns the esclavo that ran each, in order.
pub async fn correr_esperas(url: &str, n: usize, ms: u64, plazo: Duration) -> Vec<String> {
    let mut ids = Vec::new();
    for _ in 0..n {
        ids.push(espera(url, ms, Prioridad::MEDIA).await);
    }
    let mut esclavos = Vec::new();
    for id in ids {
        let t = esperar_final(url, id, plazo).await;
        assert_eq!(t.estado, Estado::Completado);
        esclavos.push(t.esclavo.unwrap());
    }
    esclavos
}

/// `GET /resumen`.
pub async fn resumen(url: &str) -> Resumen {
    leer(&format!("{url}/resumen")).await
}

/// Waits until no job is pending or running and returns the counts.
pub async fn esperar_vacia(url: &str, plazo: Duration) -> Resumen {
    let ultimo = RefCell::new(None);
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

/// `GET /memoria`: the maestro's view of the memoria nodes and their alerts.
pub async fn memoria(url: &str) -> EstadoMemoria {
    leer(&format!("{url}/memoria")).await
}

/// `POST /limpiar_cola` without a body, its answer read as a `T`.
pub async fn limpiar_cola<T: DeserializeOwned>(url: &str) -> T {
    respuesta(reqwest::Client::new().post(format!("{url}/limpiar_cola"))).await
}

/// Sends `peticion` and reads its answer, whatever the status, as a `T`.
pub async fn respuesta<T: DeserializeOwned>(peticion: reqwest::RequestBuilder) -> T {
    peticion.send().await.unwrap().json().await.unwrap()
}

/// `GET direccion`, its body read as a `T`.
async fn leer<T: DeserializeOwned>(direccion: &str) -> T {
    reqwest::get(direccion).await.unwrap().json().await.unwrap()
}
