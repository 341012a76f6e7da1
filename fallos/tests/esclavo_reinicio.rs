//! An esclavo killed while it runs jobs and started again under the same name: the new
//! instance's registration makes the maestro run those jobs again at once. The heartbeat limit
//! is 60 s, so jobs finishing within a few seconds prove it was the registration, not the
//! watchdog.

use std::time::{Duration, Instant};

use comun::{Estado, Prioridad, TrabajoId};
use fallos::{Aceptados, Escenario, Informe, OpcionesEsclavo, OpcionesMaestro, verificar};

const PLAZO: Duration = Duration::from_secs(40);
const PLAZO_ESCLAVO_MS: u64 = 60_000;
const TRABAJO_MS: u64 = 3000;
const CAPACIDAD: u32 = 3;
const TRABAJOS: usize = 6;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_esclavo_restarted_under_its_name_gets_its_jobs_again_at_once() {
    let esc = Escenario::nuevo("esclavo_reinicio");
    let mut m = esc
        .maestro(OpcionesMaestro {
            plazo_esclavo_ms: PLAZO_ESCLAVO_MS,
            ..OpcionesMaestro::default()
        })
        .await;
    let api = m.api.clone();
    let mut r = esc
        .esclavo(OpcionesEsclavo::new(m.url(), "r", CAPACIDAD))
        .await;
    let aceptados = Aceptados::default();
    // Three run (its three slots), three wait.
    let ids = api
        .esperas(
            &aceptados,
            TRABAJOS,
            TRABAJO_MS,
            Prioridad::MEDIA,
            "the jobs",
        )
        .await;
    let en_curso: Vec<TrabajoId> = ids[..CAPACIDAD as usize].to_vec();
    for id in &en_curso {
        api.esperar_en(*id, "r", PLAZO).await;
    }
    let instancia_vieja = r.estado().await.expect("r's /estado").instancia;

    r.matar().await;
    let muerte = Instant::now();
    let muerte_ms = comun::ahora_ms();
    r.reiniciar(&esc).await;
    let instancia_nueva = r.estado().await.expect("r's /estado").instancia;
    assert_ne!(instancia_vieja, instancia_nueva);

    let mut redespacho_ms = 0;
    for id in &en_curso {
        let t = api.esperar_final(*id, PLAZO).await;
        assert_eq!(t.estado, Estado::Completado, "{t:?}");
        assert_eq!(t.intentos.len(), 2, "{:?}", t.intentos);
        let error = t.intentos[0].error.as_deref().unwrap_or_default();
        assert!(
            error.contains("restarted"),
            "the killed instance's attempt should say the esclavo restarted: {:?}",
            t.intentos[0]
        );
        assert_eq!(t.intentos[1].error, None, "{:?}", t.intentos);
        assert_eq!(t.esclavo.as_deref(), Some("r"));
        redespacho_ms = redespacho_ms.max(t.intentos[1].inicio_ms.saturating_sub(muerte_ms));
    }
    let tras_muerte = muerte.elapsed();
    println!(
        "[fallos] the killed instance's jobs ran again within {redespacho_ms} ms of the kill and \
         completed {tras_muerte:?} after it"
    );
    assert!(
        tras_muerte < Duration::from_millis(PLAZO_ESCLAVO_MS / 3),
        "the jobs took {tras_muerte:?}: the restart should trigger them, not the {PLAZO_ESCLAVO_MS} \
         ms heartbeat limit"
    );

    r.proceso().exigir_vivo();
    let c = verificar(&mut m, &[&r], &aceptados, PLAZO).await;
    Informe::new(&esc, &c, 1)
        .con("plazo_esclavo_ms", PLAZO_ESCLAVO_MS)
        .con("trabajo_ms", TRABAJO_MS)
        .con("redespacho_tras_sigkill_ms", redespacho_ms)
        .con(
            "completados_tras_sigkill_s",
            fallos::informe::redondear(tras_muerte.as_secs_f64()),
        )
        .escribir();
}
