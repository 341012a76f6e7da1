//! Two maestro replicas on one PostgreSQL database, against what else can die:
//!
//! - PostgreSQL itself, SIGKILLed under a steady stream of submissions and started again
//!   after longer than a lease: the clients see errors for what was refused meanwhile (never an
//!   acknowledgement), the replicas reconnect and one leads again by themselves, and every
//!   acknowledged job finishes once;
//! - the follower, SIGKILLed while its esclavos talk to it first: nothing happens to the jobs
//!   (no attempt fails, the leader keeps its lease), the esclavos and clients move on.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use fallos::api::{enviar_tareas, lidera};
use fallos::{Aceptados, Escenario, Informe, Maestro, OpcionesEsclavo, esperar_hasta, verificar};

const PLAZO: Duration = Duration::from_secs(120);
const LOTE: usize = 50;
const PLAZO_LIDER_MS: u64 = 1500;

/// The leading replica and its epoch, as `url` tells, when it answered one.
async fn lider(http: &reqwest::Client, url: &str) -> Option<(String, i64)> {
    fallos::api::lider(http, url).await.and_then(|(_, l)| l)
}

/// Replicas `a` (leading) and `b` (following) on a new database of `pg`.
async fn replicas(
    esc: &Escenario,
    pg: &pruebas::postgres::Postgres,
    http: &reqwest::Client,
) -> (Maestro, Maestro) {
    let base = pg.base("replicas").unwrap();
    let opciones = |replica| esc.replica(&base, replica, PLAZO_LIDER_MS);
    let a = esc.maestro(opciones("a")).await;
    esperar_hasta(PLAZO, "replica a leads", || lidera(http, a.url(), "a")).await;
    let b = esc.maestro(opciones("b")).await;
    (a, b)
}

/// Submitters sending batches of `espera` tasks through `urls` (in turn) until `parar`, each
/// batch retried until acknowledged: how many tries failed.
fn emisores(
    http: &reqwest::Client,
    urls: &[String],
    n: usize,
    aceptados: &Aceptados,
    parar: &Arc<AtomicBool>,
) -> (Vec<tokio::task::JoinHandle<()>>, Arc<AtomicU32>) {
    let fallidos = Arc::new(AtomicU32::new(0));
    let tareas = (0..n)
        .map(|k| {
            let (http, urls, aceptados) = (http.clone(), urls.to_vec(), aceptados.clone());
            let (parar, fallidos) = (parar.clone(), fallidos.clone());
            tokio::spawn(async move {
                let mut lote = 0;
                while !parar.load(Ordering::Relaxed) {
                    let tareas: Vec<serde_json::Value> = (0..LOTE)
                        .map(|i| {
                            serde_json::json!({
                                "task_id": format!("c{k}-l{lote}-t{i}"),
                                "algorithm": "espera",
                                "parameters": { "ms": 20 },
                            })
                        })
                        .collect();
                    let (ids, envio) = enviar_tareas(&http, &urls, k + lote, &tareas, PLAZO)
                        .await
                        .expect("a batch acknowledged by some replica");
                    aceptados.agregar(ids);
                    fallidos.fetch_add(envio.reintentos, Ordering::Relaxed);
                    lote += 1;
                }
            })
        })
        .collect();
    (tareas, fallidos)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgresql_killed_and_restarted_under_load_loses_nothing_and_the_replicas_recover() {
    if !pruebas::postgres::disponible() {
        return;
    }
    let mut pg = pruebas::postgres::Postgres::iniciar().expect("starting PostgreSQL");
    let esc = Escenario::nuevo("replicas_postgres_reinicio");
    let http = fallos::api::cliente_http();
    let (mut a, mut b) = replicas(&esc, &pg, &http).await;
    let urls = vec![a.url().to_string(), b.url().to_string()];
    let lista = urls.join(",");
    let e1 = esc.esclavo(OpcionesEsclavo::new(&lista, "e1", 8)).await;
    let e2 = esc.esclavo(OpcionesEsclavo::new(&lista, "e2", 8)).await;
    let (_, epoca_antes) = lider(&http, a.url()).await.expect("a leads");

    let aceptados = Aceptados::default();
    let parar = Arc::new(AtomicBool::new(false));
    let (tareas, fallidos) = emisores(&http, &urls, 3, &aceptados, &parar);
    esperar_hasta(PLAZO, "1,000 jobs acknowledged", || async {
        aceptados.len() >= 1000
    })
    .await;
    pg.matar();
    let al_matar = aceptados.len();
    println!("[fallos] PostgreSQL SIGKILLed with {al_matar} jobs acknowledged");
    // Longer than the lease: the leader steps down, nobody leads, both replicas refuse.
    esperar_hasta(PLAZO, "no replica leads", || async {
        for url in &urls {
            let r = http.get(format!("{url}/estado")).send().await;
            if r.is_ok_and(|r| r.status() == 200) {
                return false;
            }
        }
        true
    })
    .await;
    tokio::time::sleep(Duration::from_millis(PLAZO_LIDER_MS)).await;
    let durante = aceptados.len();
    pg.arrancar().expect("starting PostgreSQL again");
    println!("[fallos] PostgreSQL started again");
    esperar_hasta(PLAZO, "1,000 more jobs acknowledged", || async {
        aceptados.len() >= durante + 1000
    })
    .await;
    parar.store(true, Ordering::Relaxed);
    for t in tareas {
        t.await.expect("a submitter panicked");
    }
    let (quien, epoca_despues) = lider(&http, b.url()).await.expect("a replica leads");
    println!("[fallos] {quien} leads under epoch {epoca_despues} (was {epoca_antes})");
    assert!(
        epoca_despues > epoca_antes,
        "the leadership was taken again"
    );
    let fallidos = fallidos.load(Ordering::Relaxed);
    assert!(fallidos > 0, "the clients were told of the outage");
    let lider_actual = if quien == "a" { &mut a } else { &mut b };
    let c = verificar(lider_actual, &[&e1, &e2], &aceptados, PLAZO).await;
    Informe::new(&esc, &c, 1)
        .con("aceptados_al_matar_postgresql", al_matar)
        .con("aceptados_sin_postgresql", durante - al_matar)
        .con("envios_rechazados", fallidos)
        .con("lider_despues", quien)
        .escribir();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_follower_sigkilled_costs_no_attempt_and_its_esclavos_move_on() {
    if !pruebas::postgres::disponible() {
        return;
    }
    let pg = pruebas::postgres::Postgres::iniciar().expect("starting PostgreSQL");
    let esc = Escenario::nuevo("replicas_seguidor_sigkill");
    let http = fallos::api::cliente_http();
    let (mut a, mut b) = replicas(&esc, &pg, &http).await;
    // The esclavos talk to the follower first: registration, heartbeats, results.
    let lista = format!("{},{}", b.url(), a.url());
    let e1 = esc.esclavo(OpcionesEsclavo::new(&lista, "e1", 8)).await;
    let e2 = esc.esclavo(OpcionesEsclavo::new(&lista, "e2", 8)).await;
    let (_, epoca) = lider(&http, a.url()).await.expect("a leads");

    let aceptados = Aceptados::default();
    let parar = Arc::new(AtomicBool::new(false));
    let urls = vec![b.url().to_string(), a.url().to_string()];
    let (tareas, fallidos) = emisores(&http, &urls, 3, &aceptados, &parar);
    esperar_hasta(PLAZO, "1,000 jobs acknowledged", || async {
        aceptados.len() >= 1000
    })
    .await;
    b.matar().await;
    let al_matar = aceptados.len();
    println!("[fallos] follower b SIGKILLed with {al_matar} jobs acknowledged");
    esperar_hasta(PLAZO, "1,000 more jobs acknowledged", || async {
        aceptados.len() >= al_matar + 1000
    })
    .await;
    parar.store(true, Ordering::Relaxed);
    for t in tareas {
        t.await.expect("a submitter panicked");
    }
    assert_eq!(
        lider(&http, a.url()).await,
        Some(("a".to_string(), epoca)),
        "a leads still, under the same epoch"
    );
    let c = verificar(&mut a, &[&e1, &e2], &aceptados, PLAZO).await;
    assert_eq!(
        c.intentos_fallidos, 0,
        "the follower's death cost no attempt: {c:?}"
    );
    Informe::new(&esc, &c, 1)
        .con("aceptados_al_matar", al_matar)
        .con("envios_reintentados", fallidos.load(Ordering::Relaxed))
        .escribir();
}
