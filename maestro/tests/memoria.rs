//! memoria reports steer where jobs go: a node in critical alert gets no new job while a
//! healthy eligible esclavo exists, gets jobs again when the alert ends, and a report that
//! stops arriving goes stale and steers nothing.

mod apoyo;

use std::time::Duration;

use apoyo::*;
use comun::memoria::{Alerta, Muestra, Nivel, Recurso, ReporteMemoria};
use comun::{Estado, Prioridad};

const PLAZO: Duration = Duration::from_secs(30);

fn reporte(nodo: &str, critico: bool) -> ReporteMemoria {
    let alertas = if critico {
        vec![Alerta {
            recurso: Recurso::Memoria,
            nivel: Nivel::Critico,
            valor: 97.0,
            umbral: 95.0,
            desde_ms: comun::ahora_ms(),
        }]
    } else {
        vec![]
    };
    ReporteMemoria {
        nodo: nodo.into(),
        instancia: 1,
        muestra: Muestra {
            nodo: nodo.into(),
            ..Muestra::default()
        },
        alertas,
        intervalo_ms: 1000,
    }
}

async fn reportar(url: &str, r: &ReporteMemoria) {
    let s = reqwest::Client::new()
        .post(format!("{url}/reporte_memoria"))
        .json(r)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(s, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_in_critical_alert_gets_no_job_until_the_alert_ends() {
    let datos = tempfile::tempdir().unwrap();
    let m = maestro(config_maestro(datos.path()), 0).await;
    let a = esclavo_en(&m.url, "a", 2, "n1").await;
    let b = esclavo_en(&m.url, "b", 2, "n2").await;
    reportar(&m.url, &reporte("n1", true)).await;
    let vista = memoria(&m.url).await;
    assert_eq!(vista.alertas.len(), 1);
    assert_eq!(vista.alertas[0].nodo, "n1");

    let corrieron = correr_esperas(&m.url, 6, 30, PLAZO).await;
    assert!(
        corrieron.iter().all(|e| e == "b"),
        "a critical node got jobs: {corrieron:?}"
    );

    reportar(&m.url, &reporte("n1", false)).await;
    let corrieron = correr_esperas(&m.url, 8, 150, PLAZO).await;
    assert!(
        corrieron.iter().any(|e| e == "a"),
        "a healthy node got nothing: {corrieron:?}"
    );
    a.parar().await;
    b.parar().await;
    m.parar().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_memoria_goes_stale_and_stops_steering() {
    let datos = tempfile::tempdir().unwrap();
    let mut config = config_maestro(datos.path());
    config.plazo_memoria = Duration::from_millis(800);
    let m = maestro(config, 0).await;
    let a = esclavo_en(&m.url, "a", 1, "n1").await;
    let b = esclavo_en(&m.url, "b", 1, "n2").await;
    reportar(&m.url, &reporte("n1", true)).await;
    let ocupa_b = espera(&m.url, 1500, Prioridad::ALTA).await;
    let espera_sano = espera(&m.url, 0, Prioridad::BAJA).await;
    esperar_hasta(PLAZO, "b runs the long job", || async {
        trabajo(&m.url, ocupa_b).await.estado == Estado::Asignado
    })
    .await;
    // While the alert is fresh, the job waits for b rather than go to the critical node; the
    // reason says so.
    let t = trabajo(&m.url, espera_sano).await;
    assert_eq!(t.estado, Estado::Pendiente, "{t:?}");
    let motivo = t.motivo.unwrap_or_default();
    assert!(motivo.contains("critical alert"), "{motivo}");
    // The report goes stale: the alert is no longer listed, and the job runs on a, before b is
    // free again.
    esperar_hasta(PLAZO, "the report goes stale", || async {
        let v = memoria(&m.url).await;
        v.nodos.iter().any(|n| n.nodo == "n1" && n.obsoleto) && v.alertas.is_empty()
    })
    .await;
    let t = esperar_final(&m.url, espera_sano, PLAZO).await;
    assert_eq!(t.esclavo.as_deref(), Some("a"), "{t:?}");
    let largo = trabajo(&m.url, ocupa_b).await;
    assert!(
        largo
            .terminado_ms
            .is_none_or(|fin| fin >= t.terminado_ms.unwrap()),
        "the stale alert should have let a take the job before b was free"
    );
    a.parar().await;
    b.parar().await;
    m.parar().await;
}
