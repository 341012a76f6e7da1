//! A network partition: maestro and esclavos each in a network namespace, linked through a
//! bridge. Esclavo A's link is cut while it runs jobs: the maestro declares it lost and runs
//! them again on B. When the link heals, A delivers the results it kept; the maestro answers
//! them `ignorados`, and each job keeps the one result it has. Needs root and iproute2
//! (`HPC_SIN_NETNS=1` excludes it, loudly).

use std::time::{Duration, Instant};

use comun::{Estado, Prioridad};
use fallos::red::{Red, excluida};
use fallos::{
    Aceptados, Escenario, Informe, OpcionesEsclavo, OpcionesMaestro, esperar_a, esperar_hasta,
    verificar,
};

const PLAZO: Duration = Duration::from_secs(40);
const PLAZO_ESCLAVO_MS: u64 = 2000;
const TRABAJO_MS: u64 = 4000;
const TRABAJOS: usize = 2;

/// The sum of `ignorados=N` over the result deliveries an esclavo logged.
fn ignorados_en_registro(registro: &std::path::Path) -> u64 {
    let texto = std::fs::read_to_string(registro).unwrap_or_default();
    texto
        .lines()
        .filter(|l| l.contains("results delivered"))
        .filter_map(|l| l.split("ignorados=").nth(1))
        .filter_map(|r| {
            r.split(|c: char| !c.is_ascii_digit())
                .next()
                .and_then(|n| n.parse::<u64>().ok())
        })
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_off_esclavos_late_results_are_ignored_and_each_job_keeps_one() {
    if excluida("particion") {
        return;
    }
    let red = Red::crear(&["m", "a", "b"]);
    let esc = Escenario::nuevo("particion");
    let mut m = esc
        .maestro(OpcionesMaestro {
            plazo_esclavo_ms: PLAZO_ESCLAVO_MS,
            red: Some(red.en("m")),
            ..OpcionesMaestro::default()
        })
        .await;
    let api = m.api.clone();
    let en_red = |nombre: &str| OpcionesEsclavo {
        red: Some(red.en(nombre)),
        // A's deliveries are logged with what the maestro made of them.
        rust_log: "info,esclavo::envio=debug".into(),
        ..OpcionesEsclavo::new(m.url(), nombre, TRABAJOS as u32)
    };
    // A alone first, so the jobs land on it.
    let mut a = esc.esclavo(en_red("a")).await;
    let aceptados = Aceptados::default();
    let ids = api
        .esperas(
            &aceptados,
            TRABAJOS,
            TRABAJO_MS,
            Prioridad::MEDIA,
            "the jobs",
        )
        .await;
    for id in &ids {
        api.esperar_en(*id, "a", PLAZO).await;
    }
    let mut b = esc.esclavo(en_red("b")).await;

    red.cortar("a");
    let corte = Instant::now();
    esperar_hasta(
        Duration::from_millis(PLAZO_ESCLAVO_MS) + Duration::from_secs(10),
        "the maestro declares a lost",
        || async { !api.esclavo_vivo("a").await },
    )
    .await;
    let perdida_ms = corte.elapsed().as_millis() as u64;
    for id in &ids {
        let t = api.esperar_final(*id, PLAZO).await;
        assert_eq!(t.estado, Estado::Completado, "{t:?}");
        assert_eq!(t.esclavo.as_deref(), Some("b"), "{t:?}");
    }
    // A finished too (its jobs ran out while it was cut off) and still holds the results.
    assert!(
        corte.elapsed() > Duration::from_millis(TRABAJO_MS),
        "a's jobs should be over"
    );
    let antes = api.resumen().await.expect("/resumen");
    assert_eq!(antes.completados, TRABAJOS as u64, "{antes:?}");

    red.curar("a");
    let curacion = Instant::now();
    let vista = esperar_a(
        Duration::from_secs(60),
        "a delivers its late results after the link heals",
        || async {
            let v = a.estado().await.ok()?;
            let suyos = ids.iter().all(|id| {
                v.historial
                    .iter()
                    .any(|t| t.id == *id && t.intento == 1 && t.estado == Estado::Completado)
            });
            (suyos && v.resultados_por_enviar == 0).then_some(v)
        },
    )
    .await;
    let entrega_ms = curacion.elapsed().as_millis() as u64;
    println!(
        "[fallos] a delivered its late results {entrega_ms} ms after the link healed: {vista:?}"
    );
    esperar_hasta(
        Duration::from_secs(60),
        "a is alive again for the maestro",
        || async { api.esclavo_vivo("a").await },
    )
    .await;
    let ignorados = ignorados_en_registro(&a.proceso().registro);
    assert_eq!(
        ignorados,
        TRABAJOS as u64,
        "the maestro should answer a's late results as ignorados (a's log: {})",
        a.proceso().registro.display()
    );
    for id in &ids {
        let t = api.trabajo(*id).await.expect("the job");
        assert_eq!(t.estado, Estado::Completado, "{t:?}");
        assert_eq!(
            t.esclavo.as_deref(),
            Some("b"),
            "the result stays b's: {t:?}"
        );
        let primero = &t.intentos[0];
        assert_eq!(primero.esclavo, "a", "{:?}", t.intentos);
        assert!(
            primero.error.as_deref().is_some_and(|e| e.contains("lost")),
            "a's attempt keeps its lost error: {:?}",
            t.intentos
        );
    }
    let despues = api.resumen().await.expect("/resumen");
    assert_eq!(despues.completados, antes.completados, "{despues:?}");

    a.proceso().exigir_vivo();
    b.proceso().exigir_vivo();
    let c = verificar(&mut m, &[&a, &b], &aceptados, PLAZO).await;
    Informe::new(&esc, &c, 1)
        .con("plazo_esclavo_ms", PLAZO_ESCLAVO_MS)
        .con("trabajo_ms", TRABAJO_MS)
        .con("perdido_tras_corte_ms", perdida_ms)
        .con("entrega_tras_curar_ms", entrega_ms)
        .con("resultados_tardios_ignorados", ignorados)
        .escribir();
}
