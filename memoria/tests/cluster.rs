//! The whole loop with real services: a memoria node (with scripted readings) reports to a real
//! maestro, which steers real esclavos away from its node while it is in critical alert, back
//! when the alert ends, and stops listening to it once it dies and its report goes stale.

mod apoyo;

use std::future::Future;
use std::time::{Duration, Instant};

use apoyo::{Guion, MemoriaDePrueba};
use comun::api::{EstadoMemoria, PeticionTrabajo, RespuestaAgregar, Trabajo};
use comun::memoria::{Muestra, Nivel};
use comun::{Estado, Prioridad, TrabajoId};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

const PLAZO: Duration = Duration::from_secs(30);

async fn hasta<F, Fut>(que: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let limite = Instant::now() + PLAZO;
    while !f().await {
        assert!(Instant::now() < limite, "timed out waiting until {que}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn servicio<F>(
    f: impl FnOnce(TcpListener, oneshot::Receiver<()>) -> F,
) -> (String, oneshot::Sender<()>)
where
    F: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = oneshot::channel();
    tokio::spawn(f(listener, rx));
    (url, tx)
}

async fn memoria_del_maestro(url: &str) -> EstadoMemoria {
    reqwest::get(format!("{url}/memoria"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Submits `n` espera jobs of `ms` and returns the esclavo that ran each.
async fn correr(url: &str, n: usize, ms: u64) -> Vec<String> {
    let http = reqwest::Client::new();
    let mut ids: Vec<TrabajoId> = Vec::new();
    for _ in 0..n {
        let r: RespuestaAgregar = http
            .post(format!("{url}/agregar_trabajo"))
            .json(&PeticionTrabajo::espera(ms, Prioridad::MEDIA))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.push(r.id);
    }
    let mut quienes = Vec::new();
    for id in ids {
        let limite = Instant::now() + PLAZO;
        loop {
            let t: Trabajo = http
                .get(format!("{url}/trabajos/{id}?esperar_ms=2000"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if t.estado.es_final() {
                assert_eq!(t.estado, Estado::Completado);
                quienes.push(t.esclavo.unwrap());
                break;
            }
            assert!(Instant::now() < limite, "job {id} did not finish");
        }
    }
    quienes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memoria_alerts_steer_jobs_away_and_back_and_go_stale_when_it_dies() {
    let datos = tempfile::tempdir().unwrap();
    let mut config = maestro::Config::new(datos.path());
    config.plazo_memoria = Duration::from_millis(1000);
    let (m, parar_m) = servicio(|l, rx| {
        maestro::run(config, l, async move {
            let _ = rx.await;
        })
    })
    .await;
    let mut paradas = Vec::new();
    for (nombre, nodo) in [("a", "n1"), ("b", "n2")] {
        let mut c = esclavo::Config::new(&m, nombre);
        c.capacidad = 2;
        c.nodo = nodo.into();
        c.latido = Duration::from_millis(200);
        let (_, p) = servicio(|l, rx| {
            esclavo::run(c, l, async move {
                let _ = rx.await;
            })
        })
        .await;
        paradas.push(p);
    }
    hasta("both esclavos register", || async {
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
    hasta("the maestro hears from n1", || async {
        memoria_del_maestro(&m)
            .await
            .nodos
            .iter()
            .any(|n| n.nodo == "n1")
    })
    .await;

    guion.fijar_cpu(99.0);
    hasta("n1's critical alert reaches the maestro", || async {
        let v = memoria_del_maestro(&m).await;
        v.alertas
            .iter()
            .any(|a| a.nodo == "n1" && a.alerta.nivel == Nivel::Critico)
    })
    .await;
    let quienes = correr(&m, 6, 30).await;
    assert!(
        quienes.iter().all(|e| e == "b"),
        "critical n1 got jobs: {quienes:?}"
    );

    guion.fijar_cpu(10.0);
    hasta("the alert's end reaches the maestro", || async {
        memoria_del_maestro(&m).await.alertas.is_empty()
    })
    .await;
    let quienes = correr(&m, 8, 150).await;
    assert!(
        quienes.iter().any(|e| e == "a"),
        "healthy n1 got nothing: {quienes:?}"
    );

    // Critical again, then the memoria dies: once its report is stale, n1 gets jobs again.
    guion.fijar_cpu(99.0);
    hasta("the new alert reaches the maestro", || async {
        !memoria_del_maestro(&m).await.alertas.is_empty()
    })
    .await;
    sonda.parar().await.unwrap();
    hasta("the dead memoria's report goes stale", || async {
        let v = memoria_del_maestro(&m).await;
        v.alertas.is_empty() && v.nodos.iter().all(|n| n.obsoleto)
    })
    .await;
    let quienes = correr(&m, 8, 150).await;
    assert!(
        quienes.iter().any(|e| e == "a"),
        "a stale alert still blocks n1: {quienes:?}"
    );

    for p in paradas {
        let _ = p.send(());
    }
    let _ = parar_m.send(());
}
