//! Failures in-process: a stopped esclavo's job runs again elsewhere (handed back by its drain),
//! and so does a crashed one's (found lost); a maestro restart on the same data folder keeps
//! pending jobs and results and dispatches running jobs again.

mod apoyo;

use std::time::Duration;

use apoyo::*;
use comun::{Estado, Prioridad};

const PLAZO: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_or_crashed_esclavos_job_is_queued_again_and_completes_on_another() {
    // Stopped: it drains with no grace, handing the job back. Crashed: found lost.
    for (parado, se_espera) in [(true, "handed back by esclavo a"), (false, "lost")] {
        let datos = tempfile::tempdir().unwrap();
        let m = maestro(config_maestro(datos.path()), 0).await;
        let a = esclavo(&m.url, "a", 1).await;
        let id = espera(&m.url, 1500, Prioridad::MEDIA).await;
        esperar_hasta(PLAZO, "the job runs on a", || async {
            let t = trabajo(&m.url, id).await;
            t.estado == Estado::Asignado && t.esclavo.as_deref() == Some("a")
        })
        .await;
        let b = esclavo(&m.url, "b", 1).await;
        if parado {
            a.parar().await;
        } else {
            a.abortar().await;
        }
        let t = esperar_final(&m.url, id, PLAZO).await;
        assert_eq!(t.estado, Estado::Completado, "{t:?}");
        assert_eq!(t.esclavo.as_deref(), Some("b"));
        assert_eq!(t.intentos.len(), 2, "{:?}", t.intentos);
        assert_eq!(t.intentos[0].esclavo, "a");
        let error = t.intentos[0].error.as_deref().unwrap_or("");
        assert!(error.contains(se_espera), "first attempt's error: {error}");
        assert!(t.intentos[1].error.is_none());
        let metricas = reqwest::get(format!("{}/metrics", m.url))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let cedidos = format!(
            "hpc_maestro_attempts_handed_back_total {}",
            u8::from(parado)
        );
        assert!(metricas.contains(&cedidos), "{cedidos} in:\n{metricas}");
        b.parar().await;
        m.parar().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_maestro_restart_keeps_everything_and_dispatches_running_jobs_again() {
    let datos = tempfile::tempdir().unwrap();
    let config = config_maestro(datos.path());
    let m = maestro(config.clone(), 0).await;
    let puerto = m.puerto();
    let lento = esclavo(&m.url, "lento", 1).await;
    let hecho = espera(&m.url, 0, Prioridad::ALTA).await;
    let hecho_antes = esperar_final(&m.url, hecho, PLAZO).await;
    assert_eq!(hecho_antes.estado, Estado::Completado);
    let corriendo = espera(&m.url, 2500, Prioridad::ALTA).await;
    esperar_hasta(PLAZO, "the long job runs", || async {
        trabajo(&m.url, corriendo).await.estado == Estado::Asignado
    })
    .await;
    let pendiente = espera(&m.url, 0, Prioridad::BAJA).await;
    assert_eq!(trabajo(&m.url, pendiente).await.estado, Estado::Pendiente);
    m.parar().await;

    // Same data folder, same port: the esclavo finds it again by itself.
    let m = maestro(config, puerto).await;
    let r = resumen(&m.url).await;
    assert_eq!((r.completados, r.pendientes + r.asignados), (1, 2), "{r:?}");
    let rapido = esclavo(&m.url, "rapido", 1).await;
    let t = esperar_final(&m.url, corriendo, PLAZO).await;
    assert_eq!(t.estado, Estado::Completado);
    assert!(
        t.intentos.len() >= 2,
        "dispatched again after the restart: {:?}",
        t.intentos
    );
    // Whichever attempt finished first holds the result; the restart is on record either way.
    let exitos = t
        .intentos
        .iter()
        .filter(|i| i.error.is_none() && i.fin_ms.is_some())
        .count();
    assert!(exitos >= 1, "{:?}", t.intentos);
    let t = esperar_final(&m.url, pendiente, PLAZO).await;
    assert_eq!(t.estado, Estado::Completado);
    let despues = trabajo(&m.url, hecho).await;
    assert_eq!(
        despues.resultado, hecho_antes.resultado,
        "a recorded result survives"
    );
    let r = esperar_vacia(&m.url, PLAZO).await;
    assert_eq!((r.completados, r.fallidos, r.total()), (3, 0, 3), "{r:?}");
    rapido.parar().await;
    lento.parar().await;
    m.parar().await;
}
