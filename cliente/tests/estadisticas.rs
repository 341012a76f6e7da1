//! `cliente estadisticas` (alias `stats`): the real binary against an in-process maestro and
//! esclavo, after jobs it ran itself.

mod apoyo;

use apoyo::{Cluster, cliente};
use comun::api::Trabajo;
use comun::estadisticas::{Estadisticas, HistorialEsclavo};
use comun::{Estado, Tipo};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_prints_the_figures_of_the_jobs_that_ran_as_tables_or_json() {
    let c = Cluster::new(1).await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let s = cliente(&[
            "--maestro",
            c.url(),
            "trabajo",
            "--tipo",
            "espera",
            "--ms",
            "100",
            "--esperar",
            "--json",
        ])
        .await;
        let t: Trabajo = s.esperar_codigo(0).json();
        assert_eq!(t.estado, Estado::Completado);
        ids.push(t.id);
    }

    let s = cliente(&["--maestro", c.url(), "estadisticas"]).await;
    s.esperar_codigo(0);
    for texto in [
        "3 completados",
        "espera",
        "Paralelo",
        "esclavo1",
        "jobs/s",
        "p95",
    ] {
        assert!(s.stdout.contains(texto), "no {texto:?} in:\n{}", s.stdout);
    }

    let s = cliente(&["--maestro", c.url(), "--json", "stats"]).await;
    let e: Estadisticas = s.esperar_codigo(0).json();
    assert_eq!(e.trabajos.completados, 3);
    assert_eq!(e.rendimiento.tiempos.len(), 1);
    assert_eq!(e.rendimiento.tiempos[0].tipo, Tipo::Espera);
    assert_eq!(e.rendimiento.tiempos[0].ejecucion.muestras, 3);
    assert!(e.rendimiento.tiempos[0].ejecucion.p50_s >= 0.1);

    let s = cliente(&["--maestro", c.url(), "stats", "--esclavo", "esclavo1"]).await;
    s.esperar_codigo(0);
    for id in &ids {
        assert!(
            s.stdout.contains(&id.to_string()),
            "no job {id} in:\n{}",
            s.stdout
        );
    }
    let s = cliente(&[
        "--maestro",
        c.url(),
        "--json",
        "stats",
        "--esclavo",
        "esclavo1",
    ])
    .await;
    let h: HistorialEsclavo = s.esperar_codigo(0).json();
    assert_eq!(
        (h.esclavo.nombre.as_str(), h.uso.completados),
        ("esclavo1", 3)
    );

    let s = cliente(&["--maestro", c.url(), "stats", "--esclavo", "nadie"]).await;
    assert!(s.codigo.is_some_and(|c| c != 0), "{s:#?}");
    assert!(s.stderr.contains("nadie"), "{s:#?}");
    c.parar().await;
}
