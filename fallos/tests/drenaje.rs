//! Scale-down, as an autoscaler or `docker stop` does it: SIGTERM, not SIGKILL.
//!
//! 1. SIGTERM to esclavo `a` while it runs a short job and a long one (`--gracia-s 3`): it
//!    drains. The maestro sees it draining and sends it nothing more (a job submitted now runs
//!    on `b`); the short job finishes on `a`; the long one, still running when the grace period
//!    ends, is handed back and runs again on `b` at once — long before the heartbeat limit (60
//!    s here) — without counting as a failure: the maestro allows one failure per job, so a
//!    hand-back counted as one would fail it. `a` exits 0.
//! 2. SIGTERM to the maestro while three clients submit batches: it stops accepting, answers
//!    what it read, commits it, and exits 0. Started again on its folder, it finishes every
//!    job a client heard "accepted"; the database holds no job nobody heard of.

use std::time::{Duration, Instant};

use comun::api::PeticionTrabajo;
use comun::{Estado, Prioridad};
use fallos::{
    Aceptados, Escenario, Informe, OpcionesEsclavo, OpcionesMaestro, esperar_hasta, verificar,
};

const PLAZO: Duration = Duration::from_secs(60);
const PLAZO_ESCLAVO_MS: u64 = 60_000;
const GRACIA_S: f64 = 3.0;
const CORTO_MS: u64 = 1_500;
const LARGO_MS: u64 = 8_000;
const EMISORES: usize = 3;
const LOTE: usize = 50;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_an_esclavo_and_stops_the_maestro_losing_nothing() {
    let esc = Escenario::nuevo("drenaje");
    let mut m = esc
        .maestro(OpcionesMaestro {
            plazo_esclavo_ms: PLAZO_ESCLAVO_MS,
            max_intentos: 1,
            ..OpcionesMaestro::default()
        })
        .await;
    let api = m.api.clone();
    let mut a = esc
        .esclavo(OpcionesEsclavo {
            gracia_s: Some(GRACIA_S),
            ..OpcionesEsclavo::new(m.url(), "a", 2)
        })
        .await;
    let aceptados = Aceptados::default();
    let espera = |ms| PeticionTrabajo::espera(ms, Prioridad::MEDIA);
    let corto = api.agregar(&espera(CORTO_MS)).await.expect("short job");
    let largo = api.agregar(&espera(LARGO_MS)).await.expect("long job");
    aceptados.agregar([corto, largo]);
    api.esperar_en(corto, "a", PLAZO).await;
    api.esperar_en(largo, "a", PLAZO).await;
    let b = esc.esclavo(OpcionesEsclavo::new(m.url(), "b", 2)).await;

    // 1. SIGTERM to a; meanwhile, watch the maestro see it drain and send a new job to b.
    let sigterm_ms = comun::ahora_ms();
    let inicio = Instant::now();
    let (salida, nuevo) = tokio::join!(a.terminar(PLAZO), async {
        esperar_hasta(PLAZO, "the maestro lists a as draining", || async {
            api.esclavos()
                .await
                .is_ok_and(|l| l.iter().any(|e| e.nombre == "a" && e.drenando))
        })
        .await;
        let nuevo = api
            .agregar(&espera(200))
            .await
            .expect("a job during the drain");
        aceptados.agregar([nuevo]);
        nuevo
    });
    let drenaje_s = inicio.elapsed().as_secs_f64();
    let salida = salida.expect("a exits by itself within the limit");
    assert!(salida.success(), "a exited with {salida}");
    println!("[fallos] a drained and exited ({salida}) {drenaje_s:.1} s after SIGTERM");
    assert!(
        drenaje_s >= GRACIA_S,
        "a had a job running for longer than its grace period, yet exited after {drenaje_s:.1} s"
    );

    let t = api.esperar_final(corto, PLAZO).await;
    assert_eq!(t.estado, Estado::Completado, "{t:?}");
    assert_eq!(
        (t.esclavo.as_deref(), t.intentos.len()),
        (Some("a"), 1),
        "the short job finishes on a during the drain: {t:?}"
    );
    let t = api.esperar_final(nuevo, PLAZO).await;
    assert_eq!(
        (t.estado, t.esclavo.as_deref(), t.intentos.len()),
        (Estado::Completado, Some("b"), 1),
        "nothing new goes to a draining esclavo: {t:?}"
    );
    let t = api.esperar_final(largo, PLAZO).await;
    assert_eq!(
        t.estado,
        Estado::Completado,
        "the handed-back job must not count as a failure (max one): {t:?}"
    );
    assert_eq!(t.intentos.len(), 2, "{:?}", t.intentos);
    let (primero, segundo) = (&t.intentos[0], &t.intentos[1]);
    assert_eq!(primero.esclavo, "a");
    let error = primero.error.as_deref().unwrap_or_default();
    assert!(
        error.contains("handed back by esclavo a") && error.contains("grace period"),
        "{primero:?}"
    );
    assert_eq!((segundo.esclavo.as_str(), &segundo.error), ("b", &None));
    let redespacho_ms = segundo.inicio_ms.saturating_sub(sigterm_ms);
    println!("[fallos] the long job ran again on b {redespacho_ms} ms after a's SIGTERM");
    assert!(
        redespacho_ms < PLAZO_ESCLAVO_MS / 2,
        "handed back at the end of the grace period, not found lost: {redespacho_ms} ms"
    );
    assert!(
        !api.esclavos()
            .await
            .expect("/esclavos")
            .iter()
            .any(|e| e.nombre == "a"),
        "a left the cluster"
    );

    // 2. SIGTERM to the maestro while clients submit.
    let mut emisores = Vec::new();
    for _ in 0..EMISORES {
        let (api, aceptados) = (api.clone(), aceptados.clone());
        emisores.push(tokio::spawn(async move {
            let mut errores = 0u32;
            while errores == 0 {
                match api.lote(vec![espera(5); LOTE]).await {
                    Ok(ids) => aceptados.agregar(ids),
                    Err(_) => errores += 1,
                }
            }
        }));
    }
    let antes = aceptados.len();
    esperar_hasta(PLAZO, "the clients have batches accepted", || async {
        aceptados.len() >= antes + 20 * LOTE as u64
    })
    .await;
    let salida = m.terminar().await.expect("the maestro exits by itself");
    assert!(salida.success(), "the maestro exited with {salida}");
    for e in emisores {
        e.await.expect("a submitter panicked");
    }
    let en_la_parada = aceptados.len();
    println!("[fallos] the maestro stopped ({salida}) with {en_la_parada} jobs acknowledged");
    m.reiniciar(&esc).await;
    b.esperar_registro().await;
    let r = verificar(&mut m, &[&b], &aceptados, PLAZO).await;
    Informe::new(&esc, &r, 2)
        .con("gracia_s", GRACIA_S)
        .con("drenaje_s", fallos::informe::redondear(drenaje_s))
        .con("redespacho_tras_sigterm_ms", redespacho_ms)
        .con("aceptados_al_parar_el_maestro", en_la_parada)
        .escribir();
}
