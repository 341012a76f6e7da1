//! `GET /metrics` of a running maestro: its counters move by exactly what was done (jobs
//! through the API and through jobs files, a cancel, a job that fails after a retry), its
//! gauges read the state, its exposition parses with bounded label sets, and it follows the
//! token rules of reads.

mod apoyo;

use std::time::Duration;

use apoyo::*;
use comun::api::{PeticionTrabajo, RespuestaCarga};
use comun::{Estado, Prioridad};
use pruebas::metricas::{Exposicion, raspar};

const PLAZO: Duration = Duration::from_secs(30);

/// Every label name a maestro metric may carry.
const ETIQUETAS: [&str; 9] = [
    "origen",
    "estado",
    "prioridad",
    "tipo",
    "backend",
    "route",
    "method",
    "status",
    "le",
];

/// What changed in `nombre` (with those labels) from `antes` to `despues`.
fn delta(antes: &Exposicion, despues: &Exposicion, nombre: &str, et: &[(&str, &str)]) -> f64 {
    despues.valor(nombre, et) - antes.valor(nombre, et)
}

/// Every series is `hpc_maestro_*` with bounded labels.
fn acotada(e: &Exposicion) {
    e.comprobar_etiquetas("hpc_maestro_", &ETIQUETAS, None);
}

async fn cargar(url: &str, cuerpo: serde_json::Value) -> RespuestaCarga {
    let peticion = reqwest::Client::new().post(format!("{url}/cargar_trabajos"));
    respuesta(peticion.json(&cuerpo)).await
}

async fn cancelar(url: &str, id: comun::TrabajoId) {
    let r = reqwest::Client::new()
        .delete(format!("{url}/trabajos/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counters_move_by_exactly_what_was_done_and_gauges_read_the_state() {
    let datos = tempfile::tempdir().unwrap();
    let mut config = config_maestro(datos.path());
    config.max_intentos = 2;
    config.reintento_base = Duration::from_millis(50);
    let m = maestro(config, 0).await;
    let antes = raspar(&m.url, None).await;
    acotada(&antes);

    // Without an esclavo everything waits: 3 jobs through the API at alta, 2 uploaded and 1
    // from a named file at media, one at baja that is cancelled, and one that will fail.
    for _ in 0..3 {
        espera(&m.url, 0, Prioridad::ALTA).await;
    }
    let subido = cargar(
        &m.url,
        serde_json::json!({ "contenido": "espera,0\nespera,0\n" }),
    )
    .await;
    std::fs::write(datos.path().join("trabajos/uno.txt"), "espera,0\n").unwrap();
    let nombrado = cargar(&m.url, serde_json::json!({ "archivo": "uno.txt" })).await;
    assert_eq!((subido.cargados, nombrado.cargados), (2, 1));
    let cancelado = espera(&m.url, 60_000, Prioridad::BAJA).await;
    cancelar(&m.url, cancelado).await;
    let falla = PeticionTrabajo {
        plazo_s: Some(1),
        ..PeticionTrabajo::espera(60_000, Prioridad::BAJA)
    };
    let fallido = agregar(&m.url, &falla).await;
    let r = reqwest::get(format!("{}/nada/123", m.url)).await.unwrap();
    assert_eq!(r.status(), 404);

    let cola = raspar(&m.url, None).await;
    acotada(&cola);
    let jobs = "hpc_maestro_jobs";
    for (prioridad, n) in [("alta", 3.0), ("media", 3.0), ("baja", 1.0)] {
        let et = [("estado", "pendiente"), ("prioridad", prioridad)];
        assert_eq!(cola.valor(jobs, &et), n, "pending at {prioridad}");
    }
    assert_eq!(cola.valor(jobs, &[("estado", "asignado")]), 0.0);
    let edad = cola.valor("hpc_maestro_oldest_pending_job_age_seconds", &[]);
    assert!((0.0..PLAZO.as_secs_f64()).contains(&edad), "{edad}");
    assert_eq!(cola.valor("hpc_maestro_slots", &[]), 0.0);
    assert_eq!(
        cola.valor("hpc_maestro_esclavos", &[("estado", "vivo")]),
        0.0
    );

    let e = esclavo(&m.url, "e1", 4).await;
    esperar_hasta(PLAZO, "6 jobs completed and 1 failed", || async {
        let r = resumen(&m.url).await;
        r.completados == 6 && r.fallidos == 1 && r.pendientes == 0 && r.asignados == 0
    })
    .await;
    assert_eq!(trabajo(&m.url, fallido).await.estado, Estado::Fallido);
    let despues = raspar(&m.url, None).await;
    acotada(&despues);
    pruebas::metricas::comprobar_documentacion(&despues, "hpc_maestro_");

    let enviados = "hpc_maestro_jobs_submitted_total";
    for (origen, n) in [("api", 5.0), ("subido", 2.0), ("archivo", 1.0)] {
        assert_eq!(
            delta(&antes, &despues, enviados, &[("origen", origen)]),
            n,
            "{origen}"
        );
    }
    let finales = "hpc_maestro_jobs_finished_total";
    for (estado, n) in [("completado", 6.0), ("fallido", 1.0), ("cancelado", 1.0)] {
        assert_eq!(
            delta(&antes, &despues, finales, &[("estado", estado)]),
            n,
            "{estado}"
        );
    }
    assert_eq!(
        delta(&antes, &despues, "hpc_maestro_retries_total", &[]),
        1.0
    );
    // Every job ran once but the failing one, twice; refusals are sent again.
    let lanzados = delta(&antes, &despues, "hpc_maestro_attempts_started_total", &[])
        - delta(&antes, &despues, "hpc_maestro_attempts_refused_total", &[]);
    assert_eq!(lanzados, 8.0);
    assert_eq!(despues.valor(jobs, &[]), 0.0, "nothing pending or running");
    assert_eq!(
        despues.valor("hpc_maestro_oldest_pending_job_age_seconds", &[]),
        0.0
    );
    assert_eq!(
        despues.valor("hpc_maestro_esclavos", &[("estado", "vivo")]),
        1.0
    );
    assert_eq!(despues.valor("hpc_maestro_slots", &[]), 4.0);
    assert_eq!(despues.valor("hpc_maestro_slots_free", &[]), 4.0);
    assert_eq!(despues.valor("hpc_maestro_gpus", &[]), 0.0);
    assert!(despues.valor("hpc_maestro_store_commit_seconds_count", &[]) > 0.0);
    for nombre in [
        "hpc_maestro_job_wait_seconds",
        "hpc_maestro_job_run_seconds",
    ] {
        let cuenta = format!("{nombre}_count");
        assert_eq!(
            despues.valor(&cuenta, &[("tipo", "espera")]),
            6.0,
            "{nombre}"
        );
        let infinito = [("tipo", "espera"), ("le", "+Inf")];
        assert_eq!(despues.valor(&format!("{nombre}_bucket"), &infinito), 6.0);
        let hora = [("tipo", "espera"), ("le", "4294.967296")];
        assert_eq!(despues.valor(&format!("{nombre}_bucket"), &hora), 6.0);
    }
    assert!(despues.valor("hpc_maestro_store_batch_changes_sum", &[]) >= 8.0);

    let http = "hpc_maestro_http_requests_total";
    let agregar = [
        ("route", "/agregar_trabajo"),
        ("method", "POST"),
        ("status", "200"),
    ];
    assert_eq!(delta(&antes, &despues, http, &agregar), 5.0);
    let borrar = [
        ("route", "/trabajos/{id}"),
        ("method", "DELETE"),
        ("status", "200"),
    ];
    assert_eq!(delta(&antes, &despues, http, &borrar), 1.0);
    let perdida = [("route", "(desconocida)"), ("status", "404")];
    assert_eq!(delta(&antes, &despues, http, &perdida), 1.0);
    let scrapes = [("route", "/metrics"), ("status", "200")];
    assert_eq!(
        delta(&antes, &despues, http, &scrapes),
        2.0,
        "the scrapes before"
    );

    // A crash, not a stop: a stopped esclavo leaves by its drain and is not lost.
    e.abortar().await;
    esperar_hasta(PLAZO, "the esclavo counts as lost", || async {
        let e = raspar(&m.url, None).await;
        e.valor("hpc_maestro_esclavos", &[("estado", "perdido")]) == 1.0
    })
    .await;
    let final_ = raspar(&m.url, None).await;
    assert_eq!(
        delta(&antes, &final_, "hpc_maestro_esclavos_lost_total", &[]),
        1.0
    );
    assert_eq!(final_.valor("hpc_maestro_slots", &[]), 0.0);
    m.parar().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_follow_the_token_rules_of_reads() {
    let datos = tempfile::tempdir().unwrap();
    let mut config = config_maestro(datos.path());
    config.token = Some("s3creto".into());
    let m = maestro(config.clone(), 0).await;
    let r = reqwest::get(format!("{}/metrics", m.url)).await.unwrap();
    assert_eq!(r.status(), 401);
    let e = raspar(&m.url, Some("s3creto")).await;
    let refusal = [("route", "/metrics"), ("status", "401")];
    assert_eq!(e.valor("hpc_maestro_http_requests_total", &refusal), 1.0);
    m.parar().await;

    config.lecturas_abiertas = true;
    let m = maestro(config, 0).await;
    raspar(&m.url, None).await;
    m.parar().await;
}
