//! SIGKILL of the maestro with thousands of jobs pending and some running; started again on
//! the same port and data folder, it finishes every acknowledged job, once. (Submitters that
//! are cut mid-request by the kill are maestro/tests/sigkill.rs's subject; here every job is
//! acknowledged before the kill, so the database must hold exactly those.)

use std::time::{Duration, Instant};

use comun::Prioridad;
use comun::api::PeticionTrabajo;
use fallos::{
    Aceptados, Escenario, Informe, OpcionesEsclavo, OpcionesMaestro, esperar_a, verificar,
};

const PLAZO: Duration = Duration::from_secs(60);
const TRABAJOS: usize = 3000;
const LOTE: usize = 200;
const EMISORES: usize = 3;
const TRABAJO_MS: u64 = 30;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_maestro_restarted_on_its_folder_finishes_every_job_once() {
    let esc = Escenario::nuevo("maestro_sigkill");
    let mut m = esc
        .maestro(OpcionesMaestro {
            plazo_esclavo_ms: 2000,
            ..OpcionesMaestro::default()
        })
        .await;
    let api = m.api.clone();
    let mut e1 = esc.esclavo(OpcionesEsclavo::new(m.url(), "e1", 4)).await;
    let mut e2 = esc.esclavo(OpcionesEsclavo::new(m.url(), "e2", 4)).await;

    let aceptados = Aceptados::default();
    let mut emisores = Vec::new();
    for k in 0..EMISORES {
        let (api, aceptados) = (api.clone(), aceptados.clone());
        emisores.push(tokio::spawn(async move {
            let prioridad = Prioridad::TODAS[k % 3];
            for _ in 0..TRABAJOS / LOTE / EMISORES {
                let lote = vec![PeticionTrabajo::espera(TRABAJO_MS, prioridad); LOTE];
                let ids = api.lote(lote).await.expect("submitting a batch");
                aceptados.agregar(ids);
            }
        }));
    }
    for e in emisores {
        e.await.expect("a submitter panicked");
    }
    assert_eq!(aceptados.len(), TRABAJOS as u64);
    let antes = esperar_a(PLAZO, "jobs complete and run", || async {
        let r = api.resumen().await.ok()?;
        (r.completados >= 100 && r.asignados > 0).then_some(r)
    })
    .await;
    m.matar().await;
    println!("[fallos] killed with {antes:?}");
    assert!(
        antes.pendientes >= 1000,
        "the kill should find thousands of jobs pending: {antes:?}"
    );

    let reinicio = Instant::now();
    m.reiniciar(&esc).await;
    let r = m.api.esperar_vacia(PLAZO).await;
    let vaciado_s = reinicio.elapsed().as_secs_f64();
    println!("[fallos] drained {vaciado_s:.1} s after the restart: {r:?}");

    e1.proceso().exigir_vivo();
    e2.proceso().exigir_vivo();
    let c = verificar(&mut m, &[&e1, &e2], &aceptados, PLAZO).await;
    Informe::new(&esc, &c, 1)
        .con("pendientes_al_matar", antes.pendientes)
        .con("asignados_al_matar", antes.asignados)
        .con("completados_al_matar", antes.completados)
        .con("trabajo_ms", TRABAJO_MS)
        .con(
            "vaciado_tras_reinicio_s",
            fallos::informe::redondear(vaciado_s),
        )
        .escribir();
}
