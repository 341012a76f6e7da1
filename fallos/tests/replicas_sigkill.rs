//! Two maestro replicas on one PostgreSQL database; 10,000 jobs submitted to both by four
//! clients while two esclavos (`--maestro a,b`) run them; the leader is SIGKILLed a third of
//! the way in. The follower takes over by itself; the clients go on through it (a batch whose
//! answer the kill lost is sent again and found queued, by its `task_id`s); every acknowledged
//! job finishes exactly once, and no other job is in the database.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use fallos::api::{enviar_tareas, lidera};
use fallos::{Aceptados, Escenario, Informe, OpcionesEsclavo, esperar_a, esperar_hasta, verificar};

const PLAZO: Duration = Duration::from_secs(120);
const TRABAJOS: usize = 10_000;
const LOTE: usize = 100;
const EMISORES: usize = 4;
const TRABAJO_MS: u64 = 2;
/// The leader dies once this many jobs are acknowledged.
const MATAR_TRAS: u64 = 3_000;
const PLAZO_LIDER_MS: u64 = 1500;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_leader_sigkilled_under_10000_submissions_to_two_replicas_loses_and_repeats_nothing() {
    if !pruebas::postgres::disponible() {
        return;
    }
    let pg = pruebas::postgres::Postgres::iniciar().expect("starting PostgreSQL");
    let base = pg.base("replicas").unwrap();
    let esc = Escenario::nuevo("replicas_sigkill");
    let opciones = |replica| esc.replica(&base, replica, PLAZO_LIDER_MS);
    let http = fallos::api::cliente_http();
    let mut a = esc.maestro(opciones("a")).await;
    esperar_hasta(PLAZO, "replica a leads", || lidera(&http, a.url(), "a")).await;
    let mut b = esc.maestro(opciones("b")).await;
    let urls = vec![a.url().to_string(), b.url().to_string()];
    let lista = urls.join(",");
    let e1 = esc.esclavo(OpcionesEsclavo::new(&lista, "e1", 16)).await;
    let e2 = esc.esclavo(OpcionesEsclavo::new(&lista, "e2", 16)).await;

    let aceptados = Aceptados::default();
    let reintentos = Arc::new(AtomicU32::new(0));
    let ya_estaban = Arc::new(AtomicU32::new(0));
    let inicio = Instant::now();
    let mut emisores = Vec::new();
    for k in 0..EMISORES {
        let (http, urls, aceptados) = (http.clone(), urls.clone(), aceptados.clone());
        let (reintentos, ya_estaban) = (reintentos.clone(), ya_estaban.clone());
        emisores.push(tokio::spawn(async move {
            for lote in 0..TRABAJOS / LOTE / EMISORES {
                let tareas: Vec<serde_json::Value> = (0..LOTE)
                    .map(|i| {
                        let prioridad = ["high", "medium", "low"][i % 3];
                        serde_json::json!({
                            "task_id": format!("c{k}-l{lote}-t{i}"),
                            "algorithm": "espera",
                            "priority": prioridad,
                            "parameters": { "ms": TRABAJO_MS },
                        })
                    })
                    .collect();
                let (ids, envio) = enviar_tareas(&http, &urls, k + lote, &tareas, PLAZO)
                    .await
                    .expect("a batch acknowledged by some replica");
                assert_eq!(ids.len(), LOTE);
                aceptados.agregar(ids);
                reintentos.fetch_add(envio.reintentos, Ordering::Relaxed);
                ya_estaban.fetch_add(u32::from(envio.ya_estaba), Ordering::Relaxed);
            }
        }));
    }
    esperar_hasta(PLAZO, "a third of the jobs acknowledged", || async {
        aceptados.len() >= MATAR_TRAS
    })
    .await;
    let al_matar = aceptados.len();
    a.matar().await;
    let muerte = Instant::now();
    println!("[fallos] leader a SIGKILLed with {al_matar} jobs acknowledged");
    esperar_hasta(PLAZO, "replica b leads", || lidera(&http, b.url(), "b")).await;
    let relevo_s = muerte.elapsed().as_secs_f64();
    println!("[fallos] replica b leads {relevo_s:.2} s after the SIGKILL");
    for e in emisores {
        e.await.expect("a submitter panicked");
    }
    let envio_s = inicio.elapsed().as_secs_f64();
    assert_eq!(aceptados.len(), TRABAJOS as u64);
    let r = esperar_a(PLAZO, "the queue drains", || async {
        let r = b.api.resumen().await.ok()?;
        (r.pendientes + r.asignados == 0).then_some(r)
    })
    .await;
    let total_s = inicio.elapsed().as_secs_f64();
    println!(
        "[fallos] {TRABAJOS} jobs submitted in {envio_s:.1} s, all finished at {total_s:.1} s: {r:?}"
    );
    let c = verificar(&mut b, &[&e1, &e2], &aceptados, PLAZO).await;
    Informe::new(&esc, &c, 1)
        .con("aceptados_al_matar", al_matar)
        .con("plazo_lider_ms", PLAZO_LIDER_MS)
        .con("relevo_s", fallos::informe::redondear(relevo_s))
        .con("reintentos_de_lotes", reintentos.load(Ordering::Relaxed))
        .con("lotes_ya_encolados", ya_estaban.load(Ordering::Relaxed))
        .con("envio_s", fallos::informe::redondear(envio_s))
        .con("total_s", fallos::informe::redondear(total_s))
        .escribir();
}
