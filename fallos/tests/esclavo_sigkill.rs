//! SIGKILL of an esclavo in the middle of a long job: the maestro declares it lost after its
//! heartbeat limit and the job runs again, once, on the other esclavo.

use std::time::Duration;

use comun::api::PeticionTrabajo;
use comun::{Estado, Prioridad};
use fallos::{Aceptados, Escenario, Informe, OpcionesEsclavo, OpcionesMaestro, verificar};

const PLAZO: Duration = Duration::from_secs(40);
const PLAZO_ESCLAVO_MS: u64 = 1500;
const TRABAJO_MS: u64 = 6000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_esclavos_job_runs_again_on_another_and_completes_once() {
    let esc = Escenario::nuevo("esclavo_sigkill");
    let mut m = esc
        .maestro(OpcionesMaestro {
            plazo_esclavo_ms: PLAZO_ESCLAVO_MS,
            ..OpcionesMaestro::default()
        })
        .await;
    let api = m.api.clone();
    // A alone first, so the job lands on it; then B, idle, to take it over.
    let mut a = esc.esclavo(OpcionesEsclavo::new(m.url(), "a", 1)).await;
    let aceptados = Aceptados::default();
    let id = api
        .agregar(&PeticionTrabajo::espera(TRABAJO_MS, Prioridad::MEDIA))
        .await
        .expect("submitting the job");
    aceptados.agregar([id]);
    api.esperar_en(id, "a", PLAZO).await;
    let mut b = esc.esclavo(OpcionesEsclavo::new(m.url(), "b", 1)).await;
    // Let it run a while, so the kill lands in the middle of it.
    let en_a = a.estado().await.expect("a's /estado");
    assert_eq!(en_a.ejecutando.len(), 1, "{en_a:?}");

    a.matar().await;
    let muerte_ms = comun::ahora_ms();
    let t = api.esperar_final(id, PLAZO).await;

    assert_eq!(t.estado, Estado::Completado, "{t:?}");
    assert_eq!(t.esclavo.as_deref(), Some("b"), "{t:?}");
    assert_eq!(t.intentos.len(), 2, "{:?}", t.intentos);
    let (primero, segundo) = (&t.intentos[0], &t.intentos[1]);
    assert_eq!(primero.esclavo, "a");
    let error = primero.error.as_deref().unwrap_or_default();
    assert!(
        error.contains("lost"),
        "a's attempt should say it was lost: {primero:?}"
    );
    assert_eq!(segundo.esclavo, "b");
    assert_eq!(segundo.error, None, "{segundo:?}");
    let redespacho_ms = segundo.inicio_ms.saturating_sub(muerte_ms);
    println!("[fallos] the job ran again on b {redespacho_ms} ms after the kill");

    b.proceso().exigir_vivo();
    let r = verificar(&mut m, &[&a, &b], &aceptados, PLAZO).await;
    Informe::new(&esc, &r, 1)
        .con("plazo_esclavo_ms", PLAZO_ESCLAVO_MS)
        .con("trabajo_ms", TRABAJO_MS)
        .con("redespacho_tras_sigkill_ms", redespacho_ms)
        .escribir();
}
