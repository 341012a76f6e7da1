//! The statistics over real HTTP with real esclavos: `GET /estadisticas` (and `/stats`,
//! `/stats/performance`) after jobs of known duration, one esclavo's history
//! (`GET /esclavos/{nombre}`), and the time series (`GET /estadisticas/series`).

mod apoyo;

use std::collections::BTreeSet;
use std::time::Duration;

use apoyo::*;
use comun::api::PeticionTrabajo;
use comun::estadisticas::{
    Estadisticas, Fuente, HistorialEsclavo, Rendimiento, Series, TiemposGrupo,
};
use comun::{Algoritmo, CuerpoError, Estado, Prioridad, Tipo, TrabajoId};

const PLAZO: Duration = Duration::from_secs(30);
/// How long each `espera` job sleeps.
const MS: u64 = 200;

async fn leer<T: serde::de::DeserializeOwned>(url: &str) -> T {
    let r = reqwest::get(url).await.unwrap();
    assert_eq!(r.status(), 200, "GET {url}: {}", r.text().await.unwrap());
    r.json().await.unwrap()
}

/// Submits `n` `espera` jobs of [`MS`] and waits until each completed; their ids.
async fn correr(url: &str, n: usize) -> Vec<TrabajoId> {
    let mut ids = Vec::new();
    for _ in 0..n {
        ids.push(espera(url, MS, Prioridad::MEDIA).await);
    }
    for &id in &ids {
        let t = esperar_final(url, id, PLAZO).await;
        assert_eq!(t.estado, Estado::Completado);
    }
    ids
}

/// The one group of times the statistics hold, which must be `espera` on `Paralelo`.
fn grupo_espera(r: &Rendimiento) -> &TiemposGrupo {
    assert_eq!(r.tiempos.len(), 1, "{:?}", r.tiempos);
    let g = &r.tiempos[0];
    assert_eq!((g.tipo, g.algoritmo), (Tipo::Espera, Algoritmo::Paralelo));
    g
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_jobs_of_known_duration_the_figures_are_exact_and_within_bounds() {
    let datos = tempfile::tempdir().unwrap();
    let m = maestro(config_maestro(datos.path()), 0).await;
    let _e = esclavo(&m.url, "e1", 2).await;
    correr(&m.url, 6).await;

    let s: Estadisticas = leer(&format!("{}/estadisticas", m.url)).await;
    assert_eq!((s.trabajos.completados, s.trabajos.activos()), (6, 0));
    let c = &s.rendimiento.caudal;
    assert_eq!(
        (
            c.completados_desde_inicio,
            c.fallidos_desde_inicio,
            c.terminados_ultimo_minuto
        ),
        (6, 0, 6)
    );
    assert!(
        c.ultimo_minuto_por_s > 0.0 && c.desde_inicio_por_s > 0.0,
        "{c:?}"
    );
    let g = grupo_espera(&s.rendimiento);
    let segundos = MS as f64 / 1000.0;
    for (que, d) in [
        ("run", &g.ejecucion),
        ("kernel", &g.kernel),
        ("wait", &g.espera),
    ] {
        assert_eq!(d.muestras, 6, "{que}: {d:?}");
        assert!(d.p50_s <= d.p95_s && d.p95_s <= d.max_s, "{que}: {d:?}");
    }
    // Each job slept 200 ms: run and kernel time cannot be less, nor (here) seconds more.
    for (que, d) in [("run", &g.ejecucion), ("kernel", &g.kernel)] {
        assert!(d.p50_s >= segundos && d.media_s >= segundos, "{que}: {d:?}");
        assert!(d.max_s < segundos + 2.0, "{que}: {d:?}");
    }
    assert!(s.rendimiento.aceleracion.is_empty(), "no GPU ran anything");

    assert_eq!(s.esclavos.len(), 1);
    let u = &s.esclavos[0];
    assert_eq!(
        (u.nombre.as_str(), u.capacidad, u.completados, u.fallidos),
        ("e1", 2, 6, 0)
    );
    // 6 × 200 ms of busy slot-time at least, over 2 slots for the window.
    let minimo = 6.0 * segundos / (2.0 * u.ventana_s);
    assert!(
        u.utilizacion >= minimo * 0.99 && u.utilizacion <= 1.0,
        "utilisation {} below {minimo} (window {} s)",
        u.utilizacion,
        u.ventana_s
    );

    // The orchestrator's names answer the same figures.
    let stats: Estadisticas = leer(&format!("{}/stats", m.url)).await;
    assert_eq!(stats.trabajos.completados, 6);
    let rendimiento: Rendimiento = leer(&format!("{}/stats/performance", m.url)).await;
    assert_eq!(grupo_espera(&rendimiento).ejecucion.muestras, 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_esclavo_history_lists_the_attempts_it_ran_and_its_failures() {
    let datos = tempfile::tempdir().unwrap();
    let mut config = config_maestro(datos.path());
    config.max_intentos = 1;
    let m = maestro(config, 0).await;
    let _e = esclavo(&m.url, "e1", 2).await;
    let ids: BTreeSet<TrabajoId> = correr(&m.url, 4).await.into_iter().collect();
    // A job past its 1 s time limit: its only attempt fails, and so does the job.
    let largo = agregar(
        &m.url,
        &PeticionTrabajo {
            plazo_s: Some(1),
            ..PeticionTrabajo::espera(10_000, Prioridad::MEDIA)
        },
    )
    .await;
    assert_eq!(
        esperar_final(&m.url, largo, PLAZO).await.estado,
        Estado::Fallido
    );

    let h: HistorialEsclavo = leer(&format!("{}/esclavos/e1", m.url)).await;
    assert_eq!(h.esclavo.nombre, "e1");
    assert_eq!((h.uso.completados, h.uso.fallidos, h.perdidas), (4, 1, 0));
    assert_eq!(h.recientes.len(), 5);
    let fallido = &h.recientes[0];
    assert_eq!(
        (fallido.id, fallido.estado),
        (largo, Estado::Fallido),
        "newest first"
    );
    assert!(
        fallido.error.as_deref().unwrap().contains("time limit"),
        "{fallido:?}"
    );
    let completados: BTreeSet<TrabajoId> = h.recientes[1..]
        .iter()
        .inspect(|r| assert_eq!((r.estado, r.tipo), (Estado::Completado, Tipo::Espera)))
        .map(|r| r.id)
        .collect();
    assert_eq!(completados, ids);
    assert_eq!(h.promedios.len(), 1);
    let p = &h.promedios[0];
    assert_eq!(
        (p.tipo, p.algoritmo, p.trabajos),
        (Tipo::Espera, Algoritmo::Paralelo, 4)
    );
    assert!(p.media_s >= 0.2 && p.media_s <= p.max_s, "{p:?}");

    let s: Estadisticas = leer(&format!("{}/estadisticas", m.url)).await;
    assert_eq!(s.rendimiento.caudal.fallidos_desde_inicio, 1);
    assert_eq!(
        grupo_espera(&s.rendimiento).ejecucion.muestras,
        4,
        "failures have no times"
    );

    let r = reqwest::get(format!("{}/esclavos/nadie", m.url))
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let error: CuerpoError = r.json().await.unwrap();
    assert!(error.error.contains("nadie"), "{error:?}");
}

/// The series, once they satisfy `f`.
async fn series_cuando(url: &str, que: &str, f: impl Fn(&Series) -> bool) -> Series {
    pruebas::espera::esperar_a(PLAZO, que, || async {
        let s: Series = leer(&format!("{url}/estadisticas/series")).await;
        f(&s).then_some(s)
    })
    .await
}

/// Every list of the series is as long as its instants, and within its cap.
fn alineadas(s: &Series) {
    let n = s.instantes_ms.len();
    assert!(n <= s.capacidad as usize);
    for l in [s.cola.alta.len(), s.cola.media.len(), s.cola.baja.len()] {
        assert_eq!(l, n);
    }
    assert_eq!((s.terminados_por_s.len(), s.esclavos_vivos.len()), (n, n));
    for nodo in &s.nodos {
        assert_eq!(
            (nodo.cpu.len(), nodo.memoria.len(), nodo.gpu.len()),
            (n, n, n)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_series_show_the_queue_the_throughput_and_the_esclavos_load() {
    let datos = tempfile::tempdir().unwrap();
    let mut config = config_maestro(datos.path());
    config.paso_series = Duration::from_millis(100);
    let m = maestro(config, 0).await;
    // No esclavo yet: the jobs wait, by priority.
    for _ in 0..3 {
        espera(&m.url, MS, Prioridad::ALTA).await;
    }
    for _ in 0..2 {
        espera(&m.url, MS, Prioridad::BAJA).await;
    }
    let s = series_cuando(&m.url, "a sample with the five pending jobs", |s| {
        s.cola.alta.last() == Some(&3) && s.cola.baja.last() == Some(&2)
    })
    .await;
    alineadas(&s);
    assert_eq!((s.paso_s, s.capacidad), (0.1, 720));
    assert_eq!(s.esclavos_vivos.last(), Some(&0));
    assert_eq!(s.cola.media.last(), Some(&0));

    let _e = esclavo(&m.url, "e1", 5).await;
    esperar_vacia(&m.url, PLAZO).await;
    let vacia_ms = comun::ahora_ms();
    let s = series_cuando(&m.url, "a sample after the queue drained", |s| {
        s.instantes_ms.last().is_some_and(|&t| t > vacia_ms)
            && s.cola.alta.last() == Some(&0)
            && s.esclavos_vivos.last() == Some(&1)
            && s.nodos
                .iter()
                .any(|n| n.cpu.last().is_some_and(Option::is_some))
    })
    .await;
    alineadas(&s);
    // Rate × step summed over the samples: the jobs finished between the first and the last.
    let terminados: f64 = s
        .instantes_ms
        .windows(2)
        .zip(&s.terminados_por_s[1..])
        .map(|(t, r)| r * (t[1] - t[0]) as f64 / 1000.0)
        .sum();
    assert!(
        (terminados - 5.0).abs() < 1e-6,
        "{terminados} jobs in the series: {:?} at {:?}",
        s.terminados_por_s,
        s.instantes_ms
    );
    let nodo = s.nodos.iter().find(|n| n.nombre == "e1").unwrap();
    assert_eq!(nodo.fuente, Fuente::Esclavo);
    assert!(
        nodo.memoria
            .iter()
            .flatten()
            .all(|m| (0.0..=100.0).contains(m))
    );

    // The esclavo's history carries its load over the same instants.
    let h: HistorialEsclavo = leer(&format!("{}/esclavos/e1", m.url)).await;
    assert_eq!(h.carga.cpu.len(), h.carga.instantes_ms.len());
    assert!(h.carga.cpu.iter().any(Option::is_some), "{:?}", h.carga);
}
