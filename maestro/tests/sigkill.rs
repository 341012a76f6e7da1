//! Durability with the real binary: SIGKILL the maestro while jobs are being submitted and run,
//! start it again on the same data folder, and every job it acknowledged finishes, once.

mod apoyo;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use apoyo::*;
use comun::api::{ListaTrabajos, PeticionLote, PeticionTrabajo, RespuestaLote};
use comun::{Estado, Prioridad, TrabajoId};
use tokio::process::Child;

const PLAZO: Duration = Duration::from_secs(60);

/// Starts the maestro binary and waits for the address line it prints first.
async fn lanzar(datos: &std::path::Path, puerto: u16) -> Child {
    maestro_binario(datos, puerto, &["--plazo-esclavo-ms", "2000"]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_of_the_maestro_loses_no_acknowledged_job_and_records_each_result_once() {
    let datos = tempfile::tempdir().unwrap();
    let puerto = pruebas::direccion_libre().port();
    let url = format!("http://127.0.0.1:{puerto}");
    let mut m = lanzar(datos.path(), puerto).await;
    let e1 = esclavo(&url, "e1", 4).await;
    let e2 = esclavo(&url, "e2", 4).await;

    // Submitters keep going until the maestro dies; only acknowledged ids count as accepted.
    let aceptados: Arc<Mutex<HashSet<TrabajoId>>> = Arc::default();
    let http = reqwest::Client::new();
    let mut emisores = Vec::new();
    for _ in 0..4 {
        let (http, url, aceptados) = (http.clone(), url.clone(), aceptados.clone());
        emisores.push(tokio::spawn(async move {
            let lote = PeticionLote {
                trabajos: vec![PeticionTrabajo::espera(3, Prioridad::MEDIA); 50],
            };
            for _ in 0..25 {
                let r = http
                    .post(format!("{url}/trabajos"))
                    .json(&lote)
                    .send()
                    .await;
                let Ok(r) = r else { return };
                let Ok(r) = r.json::<RespuestaLote>().await else {
                    return;
                };
                aceptados.lock().unwrap().extend(r.ids);
            }
        }));
    }
    esperar_hasta(
        PLAZO,
        "jobs complete, run and wait before the kill",
        || async {
            let r = resumen(&url).await;
            r.completados >= 200 && r.activos() >= 100 && aceptados.lock().unwrap().len() >= 1500
        },
    )
    .await;
    m.start_kill().expect("SIGKILL");
    m.wait().await.unwrap();
    for e in emisores {
        e.await.unwrap();
    }
    let aceptados = aceptados.lock().unwrap().clone();

    let _m = lanzar(datos.path(), puerto).await;
    let r = esperar_vacia(&url, PLAZO).await;
    assert_eq!(r.fallidos + r.cancelados, 0, "{r:?}");
    assert_eq!(r.completados, r.total(), "{r:?}");
    let lista: ListaTrabajos =
        reqwest::get(format!("{url}/trabajos?estado=completado&limite=10000"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let completados: HashSet<TrabajoId> = lista.trabajos.iter().map(|t| t.id).collect();
    assert_eq!(completados.len() as u64, r.completados);
    let perdidos: Vec<_> = aceptados.difference(&completados).collect();
    assert!(
        perdidos.is_empty(),
        "{} acknowledged jobs lost: {perdidos:?}",
        perdidos.len()
    );
    assert!(
        lista
            .trabajos
            .iter()
            .all(|t| t.estado == Estado::Completado && t.resultado.is_some())
    );
    e1.parar().await;
    e2.parar().await;
}
