//! The whole loop with real services: a memoria node (with scripted readings) reports to a real
//! maestro, which steers real esclavos away from its node while it is in critical alert, back
//! when the alert ends, and stops listening to it once it dies and its report goes stale.

mod apoyo;

use std::time::Duration;

use apoyo::{Guion, MemoriaDePrueba};
use comun::memoria::{Muestra, Nivel};
use pruebas::api::{correr_esperas, memoria as memoria_del_maestro};
use pruebas::{Servicio, esperar_hasta};

const PLAZO: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memoria_alerts_steer_jobs_away_and_back_and_go_stale_when_it_dies() {
    let datos = tempfile::tempdir().unwrap();
    let mut config = maestro::Config::new(datos.path());
    config.plazo_memoria = Duration::from_millis(1000);
    let maestro = Servicio::iniciar(|l, parada| maestro::run(config, l, parada)).await;
    let m = maestro.url.clone();
    let mut servicios = vec![maestro];
    for (nombre, nodo) in [("a", "n1"), ("b", "n2")] {
        let mut c = esclavo::Config::new(&m, nombre);
        c.capacidad = 2;
        c.nodo = nodo.into();
        c.latido = Duration::from_millis(200);
        servicios.push(Servicio::iniciar(|l, parada| esclavo::run(c, l, parada)).await);
    }
    esperar_hasta(PLAZO, "both esclavos register", || async {
        let e: Vec<comun::api::EsclavoInfo> = reqwest::get(format!("{m}/esclavos"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        e.len() == 2
    })
    .await;

    let guion = Guion::new(Muestra {
        cpu_porcentaje: 10.0,
        ..Muestra::default()
    });
    let mut config_memoria = memoria::Config::new(Some(m.clone()));
    config_memoria.nodo = "n1".into();
    config_memoria.intervalo = Duration::from_millis(20);
    config_memoria.intervalo_reporte = Duration::from_millis(200);
    let sonda = MemoriaDePrueba::iniciar(config_memoria, &guion).await;
    esperar_hasta(PLAZO, "the maestro hears from n1", || async {
        memoria_del_maestro(&m)
            .await
            .nodos
            .iter()
            .any(|n| n.nodo == "n1")
    })
    .await;

    guion.fijar_cpu(99.0);
    esperar_hasta(PLAZO, "n1's critical alert reaches the maestro", || async {
        let v = memoria_del_maestro(&m).await;
        v.alertas
            .iter()
            .any(|a| a.nodo == "n1" && a.alerta.nivel == Nivel::Critico)
    })
    .await;
    let quienes = correr_esperas(&m, 6, 30, PLAZO).await;
    assert!(
        quienes.iter().all(|e| e == "b"),
        "critical n1 got jobs: {quienes:?}"
    );

    guion.fijar_cpu(10.0);
    esperar_hasta(PLAZO, "the alert's end reaches the maestro", || async {
        memoria_del_maestro(&m).await.alertas.is_empty()
    })
    .await;
    let quienes = correr_esperas(&m, 8, 150, PLAZO).await;
    assert!(
        quienes.iter().any(|e| e == "a"),
        "healthy n1 got nothing: {quienes:?}"
    );

    // Critical again, then the memoria dies: once its report is stale, n1 gets jobs again.
    guion.fijar_cpu(99.0);
    esperar_hasta(PLAZO, "the new alert reaches the maestro", || async {
        !memoria_del_maestro(&m).await.alertas.is_empty()
    })
    .await;
    sonda.parar().await.unwrap();
    esperar_hasta(PLAZO, "the dead memoria's report goes stale", || async {
        let v = memoria_del_maestro(&m).await;
        v.alertas.is_empty() && v.nodos.iter().all(|n| n.obsoleto)
    })
    .await;
    let quienes = correr_esperas(&m, 8, 150, PLAZO).await;
    assert!(
        quienes.iter().any(|e| e == "a"),
        "a stale alert still blocks n1: {quienes:?}"
    );

    // The verdict is in: stop everything without waiting for it.
    for mut s in servicios {
        s.empezar_a_parar();
    }
}
