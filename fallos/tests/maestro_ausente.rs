//! The maestro is away for 20 s (SIGKILL, started again later on the same port and data
//! folder) while the esclavos run 8 s jobs. The esclavos keep the results that finish while it
//! is away, register again by themselves when the new maestro answers their heartbeat with 404,
//! and deliver the results: each job's recorded result is the one its esclavo finished before
//! the maestro came back.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use comun::{Estado, Prioridad, TrabajoId};
use fallos::{
    Aceptados, Escenario, Esclavo, Informe, OpcionesEsclavo, OpcionesMaestro, esperar_hasta,
    verificar,
};

const PLAZO: Duration = Duration::from_secs(40);
const AUSENCIA: Duration = Duration::from_secs(20);
const TRABAJO_MS: u64 = 8000;
const CORTO_MS: u64 = 1000;

/// What an esclavo says it finished: job → (attempt, end by its clock).
async fn terminados(e: &Esclavo) -> BTreeMap<TrabajoId, (u32, u64)> {
    let v = e.estado().await.expect("an esclavo's /estado");
    v.historial
        .iter()
        .filter(|t| t.estado == Estado::Completado)
        .map(|t| (t.id, (t.intento, t.fin_ms)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn esclavos_keep_results_while_the_maestro_is_away_and_deliver_them_when_it_returns() {
    let esc = Escenario::nuevo("maestro_ausente");
    let mut m = esc
        .maestro(OpcionesMaestro {
            plazo_esclavo_ms: 3000,
            ..OpcionesMaestro::default()
        })
        .await;
    let api = m.api.clone();
    let mut x = esc.esclavo(OpcionesEsclavo::new(m.url(), "x", 2)).await;
    let mut y = esc.esclavo(OpcionesEsclavo::new(m.url(), "y", 2)).await;
    let instancias = (
        x.estado().await.unwrap().instancia,
        y.estado().await.unwrap().instancia,
    );

    // Four long jobs fill the four slots; two short ones wait behind them.
    let aceptados = Aceptados::default();
    let largos = api
        .esperas(&aceptados, 4, TRABAJO_MS, Prioridad::ALTA, "the long jobs")
        .await;
    api.esperas(&aceptados, 2, CORTO_MS, Prioridad::BAJA, "the short jobs")
        .await;
    let mut donde: BTreeMap<TrabajoId, String> = BTreeMap::new();
    for id in &largos {
        let t = api
            .esperar_trabajo(*id, PLAZO, "runs", |t| t.estado == Estado::Asignado)
            .await;
        donde.insert(*id, t.esclavo.expect("a running job names its esclavo"));
    }

    m.matar().await;
    let muerte = Instant::now();
    // While it is away, every long job finishes on its esclavo, which keeps the result.
    let mut fin_en_esclavo: BTreeMap<TrabajoId, (String, u64)> = BTreeMap::new();
    esperar_hasta(
        Duration::from_millis(TRABAJO_MS) + Duration::from_secs(10),
        "the esclavos finish the long jobs and hold their results",
        || async {
            let (tx, ty) = (terminados(&x).await, terminados(&y).await);
            let (vx, vy) = (x.estado().await.unwrap(), y.estado().await.unwrap());
            let todos = largos.iter().all(|id| {
                let fin = if donde[id] == "x" { &tx } else { &ty };
                fin.get(id).is_some_and(|(intento, _)| *intento == 1)
            });
            let retenidos = vx.resultados_por_enviar + vy.resultados_por_enviar;
            todos && retenidos == largos.len() as u64
        },
    )
    .await;
    for id in &largos {
        let e = if donde[id] == "x" { &x } else { &y };
        let (_, fin) = terminados(e).await[id];
        fin_en_esclavo.insert(*id, (donde[id].clone(), fin));
    }
    let terminados_s = muerte.elapsed().as_secs_f64();
    assert!(
        muerte.elapsed() < AUSENCIA,
        "the jobs should finish while the maestro is away"
    );
    println!(
        "[fallos] the esclavos hold {} results; the maestro stays away",
        largos.len()
    );
    // The fault itself: the maestro stays away for AUSENCIA.
    tokio::time::sleep(AUSENCIA.saturating_sub(muerte.elapsed())).await;

    let vuelta_ms = comun::ahora_ms();
    let vuelta = Instant::now();
    m.reiniciar(&esc).await;
    esperar_hasta(
        Duration::from_secs(15),
        "x and y register again by themselves",
        || async { api.esclavo_vivo("x").await && api.esclavo_vivo("y").await },
    )
    .await;
    let reregistro_ms = vuelta.elapsed().as_millis() as u64;

    let mut entrega_ms = 0;
    for id in &largos {
        let t = api.esperar_final(*id, PLAZO).await;
        let (esclavo, fin) = &fin_en_esclavo[id];
        assert_eq!(t.estado, Estado::Completado, "{t:?}");
        assert_eq!(
            t.esclavo.as_ref(),
            Some(esclavo),
            "the result should be the one {esclavo} kept: {t:?}"
        );
        assert!(*fin < vuelta_ms, "{esclavo} finished job {id} at {fin}");
        let exitoso: Vec<_> = t
            .intentos
            .iter()
            .filter(|i| i.error.is_none() && i.fin_ms.is_some())
            .collect();
        assert_eq!(exitoso.len(), 1, "{:?}", t.intentos);
        assert_eq!(
            (exitoso[0].numero, &exitoso[0].esclavo),
            (1, esclavo),
            "the recorded result is attempt 1, the one {esclavo} ran before the maestro died: {:?}",
            t.intentos
        );
        let terminado = t.terminado_ms.expect("a completed job has an end");
        assert!(terminado >= vuelta_ms, "{t:?}");
        entrega_ms = entrega_ms.max(terminado - vuelta_ms);
    }
    esperar_hasta(PLAZO, "the esclavos have nothing left to send", || async {
        let (vx, vy) = (x.estado().await.unwrap(), y.estado().await.unwrap());
        vx.resultados_por_enviar + vy.resultados_por_enviar == 0
    })
    .await;
    // The same processes all along: they registered again, they were not restarted.
    assert_eq!(x.estado().await.unwrap().instancia, instancias.0);
    assert_eq!(y.estado().await.unwrap().instancia, instancias.1);

    x.proceso().exigir_vivo();
    y.proceso().exigir_vivo();
    let c = verificar(&mut m, &[&x, &y], &aceptados, PLAZO).await;
    Informe::new(&esc, &c, 1)
        .con("ausencia_s", AUSENCIA.as_secs())
        .con("trabajo_ms", TRABAJO_MS)
        .con("resultados_retenidos", largos.len())
        .con(
            "retenidos_tras_sigkill_s",
            fallos::informe::redondear(terminados_s),
        )
        .con("reregistro_tras_vuelta_ms", reregistro_ms)
        .con("entrega_tras_vuelta_ms", entrega_ms)
        .escribir();
}
