//! Time limits, cancellation of running jobs and retries with backoff, over real HTTP: against
//! real esclavos (the kernel must really stop) and against a scripted esclavo
//! ([`apoyo::falso`]) where a test must decide exactly how and when each attempt ends.

mod apoyo;

use std::time::Duration;

use apoyo::falso::{self, EsclavoFalso};
use apoyo::*;
use comun::api::{PeticionTrabajo, RespuestaLimpiar, Resumen, Trabajo};
use comun::{Estado, Prioridad, TrabajoId};

const PLAZO: Duration = Duration::from_secs(30);
/// The cluster token of the tests that check it travels.
const TOKEN: &str = "secreto";

/// An `espera` job of `ms` with its own time limit.
fn espera_con_plazo(ms: u64, plazo_s: u64) -> PeticionTrabajo {
    PeticionTrabajo {
        plazo_s: Some(plazo_s),
        ..PeticionTrabajo::espera(ms, Prioridad::MEDIA)
    }
}

async fn cancelar(url: &str, id: TrabajoId) -> reqwest::Response {
    reqwest::Client::new()
        .delete(format!("{url}/trabajos/{id}"))
        .send()
        .await
        .unwrap()
}

/// The ids a real esclavo says it runs now.
async fn ejecutando_en(esclavo: &str) -> Vec<TrabajoId> {
    let e: esclavo::EstadoEsclavo = reqwest::get(format!("{esclavo}/estado"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    e.ejecutando.iter().map(|t| t.id).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_running_job_stops_it_on_its_esclavo_and_frees_the_slot() {
    let datos = tempfile::tempdir().unwrap();
    let m = maestro(config_maestro(datos.path()), 0).await;
    let e = esclavo(&m.url, "e", 1).await;
    let largo = espera(&m.url, 30_000, Prioridad::MEDIA).await;
    esperar_hasta(PLAZO, "the long job runs on the esclavo", || async {
        ejecutando_en(&e.url).await == vec![largo]
    })
    .await;
    let r = cancelar(&m.url, largo).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    esperar_hasta(
        Duration::from_secs(5),
        "the esclavo no longer runs it",
        || async { ejecutando_en(&e.url).await.is_empty() },
    )
    .await;
    let t = trabajo(&m.url, largo).await;
    assert_eq!(t.estado, Estado::Cancelado, "{t:?}");
    assert!(t.resultado.is_none(), "{t:?}");
    // The slot is free again: a new job runs now, not after the 30 s the cancelled one asked.
    let corto = espera(&m.url, 0, Prioridad::MEDIA).await;
    let t = esperar_final(&m.url, corto, Duration::from_secs(10)).await;
    assert_eq!(t.estado, Estado::Completado, "{t:?}");
    let r = esperar_vacia(&m.url, PLAZO).await;
    assert_eq!(
        (r.cancelados, r.completados, r.asignados),
        (1, 1, 0),
        "{r:?}"
    );
    assert_eq!(
        trabajo(&m.url, largo).await.estado,
        Estado::Cancelado,
        "its stopped attempt's report changed nothing"
    );
    e.parar().await;
    m.parar().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_past_its_time_limit_is_stopped_retried_and_fails_after_max_intentos() {
    let datos = tempfile::tempdir().unwrap();
    let mut config = config_maestro(datos.path());
    config.max_intentos = 2;
    config.reintento_base = Duration::from_millis(200);
    config.latido = Duration::from_millis(500);
    let m = maestro(config, 0).await;
    let e = esclavo(&m.url, "e", 2).await;
    let id = agregar(&m.url, &espera_con_plazo(30_000, 1)).await;
    let t = esperar_final(&m.url, id, PLAZO).await;
    assert_eq!(t.estado, Estado::Fallido, "{t:?}");
    assert_eq!(t.plazo_s, Some(1));
    assert_eq!(t.intentos.len(), 2, "{:?}", t.intentos);
    // The esclavo words it (`time limit of 1 s exceeded`, `… of 1.0 s exceeded after 1.002 s`),
    // or the maestro does if the esclavo never answers.
    let por_plazo = |e: &str| e.starts_with("time limit of 1") && e.contains(" s exceeded");
    for i in &t.intentos {
        let error = i.error.as_deref().unwrap_or_default();
        assert!(por_plazo(error), "{i:?}");
        let duracion = i.fin_ms.unwrap() - i.inicio_ms;
        assert!(duracion >= 1_000, "stopped before its limit: {i:?}");
    }
    let motivo = t.motivo.unwrap_or_default();
    let ultimo = motivo
        .strip_prefix("failed 2 times; last: ")
        .unwrap_or_default();
    assert!(por_plazo(ultimo), "{motivo}");
    esperar_hasta(
        Duration::from_secs(5),
        "the esclavo runs nothing",
        || async { ejecutando_en(&e.url).await.is_empty() },
    )
    .await;
    e.parar().await;
    m.parar().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_maestro_fails_an_attempt_its_esclavo_never_answers_and_a_late_result_still_wins() {
    let datos = tempfile::tempdir().unwrap();
    let mut config = config_maestro(datos.path());
    config.token = Some(TOKEN.into());
    config.latido = Duration::from_millis(200);
    config.reintento_base = Duration::from_millis(100);
    let m = maestro(config, 0).await;
    let mut f = EsclavoFalso::iniciar(&m.url, "falso", 2, Some(TOKEN)).await;
    let id = agregar_con_token(&m.url, &espera_con_plazo(10, 1), TOKEN).await;
    let a1 = f.recibir().await;
    assert_eq!((a1.id, a1.intento, a1.plazo_ms), (id, 1, 1_000));
    f.ejecutando.lock().unwrap().push(id);
    // No answer: past 1 s and the grace (2 heartbeat periods + 2 s) the maestro gives up on it,
    // and tells the esclavo to stop it.
    let c = f.cancelacion(Duration::from_secs(10)).await;
    assert_eq!(c.peticion.trabajos, vec![id]);
    assert_eq!(
        c.peticion.motivo.as_deref(),
        Some("time limit of 1 s exceeded")
    );
    assert_eq!(
        c.autorizacion.as_deref(),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    let a2 = f.recibir().await;
    assert_eq!((a2.id, a2.intento), (id, 2), "retried after the backoff");
    let t = leer::<Trabajo>(&m.url, &format!("/trabajos/{id}"), TOKEN).await;
    let i1 = &t.intentos[0];
    assert_eq!(
        i1.error.as_deref(),
        Some("time limit of 1 s exceeded (no answer from esclavo falso)")
    );
    let vivido = i1.fin_ms.unwrap() - i1.inicio_ms;
    assert!(
        vivido + 2 >= 1_000 + 2_400,
        "failed before its limit and grace: {vivido} ms"
    );
    assert!(
        t.intentos[1].inicio_ms >= i1.fin_ms.unwrap() + 100,
        "{:?}",
        t.intentos
    );
    // Attempt 1 was still running after all, and ends first: its result counts, and the
    // esclavo is told to stop attempt 2.
    let r = f.informar(&a1, falso::completado(10)).await;
    assert_eq!((r.registrados, r.ignorados), (1, 0));
    let t = leer::<Trabajo>(&m.url, &format!("/trabajos/{id}"), TOKEN).await;
    assert_eq!(t.estado, Estado::Completado, "{t:?}");
    let c = f.cancelacion(Duration::from_secs(5)).await;
    assert_eq!(c.peticion.trabajos, vec![id]);
    assert_eq!(
        c.peticion.motivo.as_deref(),
        Some("attempt 1 finished the job first")
    );
    let r = f
        .informar(
            &a2,
            falso::fallido("cancelled: attempt 1 finished the job first"),
        )
        .await;
    assert_eq!((r.registrados, r.ignorados), (0, 1));
    assert_eq!(
        leer::<Trabajo>(&m.url, &format!("/trabajos/{id}"), TOKEN)
            .await
            .estado,
        Estado::Completado
    );
    f.parar();
    m.parar().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_attempts_are_retried_after_a_doubling_delay_and_each_keeps_its_error() {
    let datos = tempfile::tempdir().unwrap();
    let mut config = config_maestro(datos.path());
    let base = 200;
    config.reintento_base = Duration::from_millis(base);
    config.max_intentos = 3;
    let m = maestro(config, 0).await;
    let mut f = EsclavoFalso::iniciar(&m.url, "falso", 1, None).await;
    let id = espera(&m.url, 10, Prioridad::MEDIA).await;
    let a1 = f.recibir().await;
    f.informar(&a1, falso::fallido("first error")).await;
    let a2 = f.recibir().await;
    f.informar(&a2, falso::fallido("second error")).await;
    let a3 = f.recibir().await;
    assert_eq!((a1.intento, a2.intento, a3.intento), (1, 2, 3));
    f.informar(&a3, falso::completado(10)).await;
    let t = esperar_final(&m.url, id, PLAZO).await;
    assert_eq!(t.estado, Estado::Completado, "{t:?}");
    let errores: Vec<Option<&str>> = t.intentos.iter().map(|i| i.error.as_deref()).collect();
    assert_eq!(
        errores,
        vec![Some("first error"), Some("second error"), None]
    );
    assert!(
        t.intentos
            .iter()
            .all(|i| i.esclavo == "falso" && i.fin_ms.is_some())
    );
    // Each retry started no earlier than the backoff allows: base, then twice the base; and
    // not much later either (the dispatcher wakes when a retry is due, it does not poll).
    for (n, par) in t.intentos.windows(2).enumerate() {
        let espera = par[1].inicio_ms - par[0].fin_ms.unwrap();
        let minimo = base << n;
        assert!(
            espera + 2 >= minimo && espera < minimo + 1_500,
            "retry {} started {espera} ms after the failure; backoff {minimo} ms",
            n + 1
        );
    }
    f.parar();
    m.parar().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_waiting_for_its_retry_is_pending_says_why_and_can_be_cancelled_or_cleared() {
    let datos = tempfile::tempdir().unwrap();
    let mut config = config_maestro(datos.path());
    config.reintento_base = Duration::from_secs(30);
    let m = maestro(config, 0).await;
    let mut f = EsclavoFalso::iniciar(&m.url, "falso", 2, None).await;
    let uno = espera(&m.url, 10, Prioridad::MEDIA).await;
    let dos = espera(&m.url, 10, Prioridad::MEDIA).await;
    for _ in 0..2 {
        let a = f.recibir().await;
        f.informar(&a, falso::fallido("boom")).await;
    }
    let r = resumen(&m.url).await;
    assert_eq!((r.pendientes, r.asignados, r.fallidos), (2, 0, 0), "{r:?}");
    let t: Trabajo = trabajo(&m.url, uno).await;
    assert_eq!(t.estado, Estado::Pendiente);
    let motivo = t.motivo.unwrap_or_default();
    let segundos: f64 = motivo
        .strip_prefix("retry 1 after an error, in ")
        .and_then(|r| r.strip_suffix(" s (last error: boom)"))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{motivo}"));
    assert!((20.0..=30.0).contains(&segundos), "{motivo}");
    assert_eq!(cancelar(&m.url, uno).await.status(), 200);
    assert_eq!(trabajo(&m.url, uno).await.estado, Estado::Cancelado);
    let r: RespuestaLimpiar = limpiar_cola(&m.url).await;
    assert_eq!(r.eliminados, 1);
    assert_eq!(trabajo(&m.url, dos).await.estado, Estado::Cancelado);
    let r = resumen(&m.url).await;
    assert_eq!((r.pendientes, r.cancelados), (0, 2), "{r:?}");
    assert!(f.recibido().is_none(), "nothing retried a cancelled job");
    f.parar();
    m.parar().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_running_job_tells_its_esclavo_at_once_and_in_the_heartbeat_answer() {
    let datos = tempfile::tempdir().unwrap();
    let mut config = config_maestro(datos.path());
    config.token = Some(TOKEN.into());
    let m = maestro(config, 0).await;
    let mut f = EsclavoFalso::iniciar(&m.url, "falso", 2, Some(TOKEN)).await;
    let id = agregar_con_token(
        &m.url,
        &PeticionTrabajo::espera(10, Prioridad::MEDIA),
        TOKEN,
    )
    .await;
    let otro = agregar_con_token(
        &m.url,
        &PeticionTrabajo::espera(10, Prioridad::MEDIA),
        TOKEN,
    )
    .await;
    let a = f.recibir().await;
    let b = f.recibir().await;
    assert_eq!((a.id, b.id), (id, otro));
    f.ejecutando.lock().unwrap().extend([id, otro]);
    assert!(f.latir().await.cancelar.is_empty(), "both are wanted");
    let r = reqwest::Client::new()
        .delete(format!("{}/trabajos/{id}", m.url))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let c = f.cancelacion(Duration::from_secs(5)).await;
    assert_eq!(c.peticion.trabajos, vec![id]);
    assert_eq!(c.peticion.motivo.as_deref(), Some("cancelled by a user"));
    assert_eq!(
        c.autorizacion.as_deref(),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    // An esclavo that missed the request hears it in the answer to its heartbeat.
    assert_eq!(f.latir().await.cancelar, vec![id]);
    let r = f
        .informar(&a, falso::fallido("cancelled: cancelled by a user"))
        .await;
    assert_eq!((r.registrados, r.ignorados), (0, 1));
    f.ejecutando.lock().unwrap().retain(|&i| i != id);
    assert!(f.latir().await.cancelar.is_empty());
    f.informar(&b, falso::completado(10)).await;
    let r = leer::<Resumen>(&m.url, "/resumen", TOKEN).await;
    assert_eq!(
        (r.cancelados, r.completados, r.asignados),
        (1, 1, 0),
        "{r:?}"
    );
    // A finished job the esclavo still lists is one to stop too.
    assert_eq!(f.latir().await.cancelar, vec![otro]);
    f.parar();
    m.parar().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_s_own_limit_is_stored_shown_and_sent_across_restarts_and_the_default_otherwise() {
    let datos = tempfile::tempdir().unwrap();
    let mut config = config_maestro(datos.path());
    config.plazo_trabajo = Duration::from_secs(42);
    let m = maestro(config.clone(), 0).await;
    let propio = agregar(&m.url, &espera_con_plazo(10, 7)).await;
    let defecto = espera(&m.url, 10, Prioridad::BAJA).await;
    let r = reqwest::Client::new()
        .post(format!("{}/cargar_trabajos", m.url))
        .json(&serde_json::json!({"contenido": "espera,ms=10,prioridad=3,plazo_s=5\n"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let fuera = reqwest::Client::new()
        .post(format!("{}/agregar_trabajo", m.url))
        .json(&espera_con_plazo(10, 604_801))
        .send()
        .await
        .unwrap();
    assert_eq!(fuera.status(), 422);
    assert_eq!(trabajo(&m.url, propio).await.plazo_s, Some(7));
    assert_eq!(trabajo(&m.url, defecto).await.plazo_s, None);
    m.parar().await;

    let m = maestro(config, 0).await;
    let mut f = EsclavoFalso::iniciar(&m.url, "falso", 3, None).await;
    let mut plazos = Vec::new();
    for _ in 0..3 {
        let a = f.recibir().await;
        plazos.push((a.id.0, a.plazo_ms));
    }
    plazos.sort();
    let cargado = defecto.0 + 1;
    assert_eq!(
        plazos,
        vec![(propio.0, 7_000), (defecto.0, 42_000), (cargado, 5_000)]
    );
    assert_eq!(trabajo(&m.url, TrabajoId(cargado)).await.plazo_s, Some(5));
    f.parar();
    m.parar().await;
}

async fn agregar_con_token(url: &str, p: &PeticionTrabajo, token: &str) -> TrabajoId {
    let r = reqwest::Client::new()
        .post(format!("{url}/agregar_trabajo"))
        .bearer_auth(token)
        .json(p)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    r.json::<comun::api::RespuestaAgregar>().await.unwrap().id
}

/// A GET of the maestro with the cluster token.
async fn leer<T: serde::de::DeserializeOwned>(url: &str, ruta: &str, token: &str) -> T {
    let r = reqwest::Client::new()
        .get(format!("{url}{ruta}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    r.json().await.unwrap()
}
