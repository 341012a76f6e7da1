//! The doors of the systems this cluster replaces, through the real `cliente` binary against an
//! in-process maestro and esclavo: the GPU cluster's `submit_job.py --job-type … --size …
//! [--cpu]` as `cliente trabajo` flags, its `job_type`/`size`/`prefer_gpu` body, and the
//! result's names its scripts read (`processing_time`, `device`, `worker_type`).

mod apoyo;

use apoyo::{Cluster, cliente};
use comun::api::Trabajo;
use comun::trabajo::ParamsMatmul;
use comun::{Algoritmo, Estado, Parametros};

/// `cliente trabajo <flags> --esperar --json`, which must complete: the job as the maestro
/// shows it.
async fn completado(url: &str, flags: &[&str]) -> Trabajo {
    let mut args = vec!["--maestro", url, "trabajo"];
    args.extend(flags);
    args.extend(["--esperar", "--json"]);
    let t: Trabajo = cliente(&args).await.esperar_codigo(0).json();
    assert_eq!(t.estado, Estado::Completado, "{flags:?}: {t:#?}");
    t
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gpu_clusters_submit_flags_run_on_a_cpu_with_cpu_and_on_auto_without() {
    let c = Cluster::new(1).await;
    let matmul = Parametros::Matmul(ParamsMatmul::new(256, 1).unwrap());

    let t = completado(
        c.url(),
        &["--job-type", "matrix-multiply", "--size", "256", "--cpu"],
    )
    .await;
    assert_eq!(t.parametros, matmul);
    assert_eq!(t.algoritmo, Algoritmo::Paralelo, "--cpu is a CPU backend");
    let r = t.resultado.expect("a result");
    assert!(r.dispositivo.starts_with("cpu"), "{r:?}");

    let t = completado(c.url(), &["--job-type", "matrix_multiply", "--size", "256"]).await;
    assert_eq!(t.parametros, matmul);
    assert_eq!(
        t.algoritmo,
        Algoritmo::Auto,
        "without --cpu: a GPU when one is free"
    );
    // No GPU here: Auto ran on the CPU.
    assert!(t.resultado.unwrap().dispositivo.starts_with("cpu"));

    let t = completado(
        c.url(),
        &["--job-type", "monte_carlo_simulation", "--size", "10000"],
    )
    .await;
    assert_eq!(t.parametros.tipo(), comun::Tipo::Montecarlo);

    // Bad input is named before anything is queued.
    let s = cliente(&[
        "--maestro",
        c.url(),
        "trabajo",
        "--job-type",
        "svd",
        "--size",
        "9",
    ])
    .await;
    assert_ne!(s.codigo, Some(0), "{s:#?}");
    assert!(
        s.stderr.contains("job_type") && s.stderr.contains("matrix-multiply"),
        "{s:#?}"
    );
    let s = cliente(&[
        "--maestro",
        c.url(),
        "trabajo",
        "--job-type",
        "fft",
        "--tipo",
        "fft",
    ])
    .await;
    assert_eq!(
        s.codigo,
        Some(2),
        "clap refuses --tipo with --job-type: {s:#?}"
    );
    let s = cliente(&["--maestro", c.url(), "--json", "trabajos"]).await;
    let lista: serde_json::Value = s.esperar_codigo(0).json();
    assert_eq!(
        lista["trabajos"].as_array().map(Vec::len),
        Some(3),
        "{lista}"
    );
    c.parar().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gpu_clusters_json_body_is_a_job_of_this_cluster() {
    let c = Cluster::new(1).await;
    let http = reqwest::Client::new();
    let cuerpo =
        serde_json::json!({"job_type": "vector_addition", "size": 100000, "prefer_gpu": true});
    let r = http
        .post(format!("{}/agregar_trabajo", c.url()))
        .json(&cuerpo)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let id = r.json::<comun::api::RespuestaAgregar>().await.unwrap().id;
    let json: serde_json::Value = http
        .get(format!("{}/trabajos/{id}?esperar_ms=30000", c.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // The result keeps the names its scripts read, next to ours.
    let r = &json["resultado"];
    assert_eq!(r["processing_time"], r["duracion_s"], "{json}");
    assert_eq!(r["device"], r["dispositivo"], "{json}");
    assert_eq!(r["worker_type"], "cpu", "{json}");
    let t: Trabajo = serde_json::from_value(json).unwrap();
    assert_eq!(t.estado, Estado::Completado, "{t:#?}");
    assert_eq!(t.algoritmo, Algoritmo::Auto);
    assert_eq!(t.parametros.tipo(), comun::Tipo::VectorAdd);

    let malo = serde_json::json!({"job_type": "matrix-multiply", "size": 100000});
    let r = http
        .post(format!("{}/trabajos", c.url()))
        .json(&serde_json::json!({"trabajos": [cuerpo, malo]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let e: serde_json::Value = r.json().await.unwrap();
    assert!(e["error"].as_str().unwrap().contains("n"), "{e}");
    assert_eq!(e["limite"], 8192, "{e}");
    c.parar().await;
}

/// `cliente tareas generar` writes the orchestrator's task file: to stdout with `--salida -`,
/// never over an existing file, and one a maestro's task folder queues whole, every task
/// completing under its `task_id`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tareas_generar_writes_a_task_file_the_task_folder_queues_whole() {
    let datos = tempfile::tempdir().unwrap();
    let carpeta = datos.path().join("task_queues");
    let mut config = maestro::Config::new(datos.path());
    config.carpeta_tareas = Some(carpeta.clone());
    config.sondeo_archivo = std::time::Duration::from_millis(200);
    let m = pruebas::Servicio::iniciar(|l, p| maestro::run(config, l, p)).await;
    let e = apoyo::esclavo(&m.url, "e1", 2).await;

    let s = cliente(&["tareas", "generar", "--salida", "-"]).await;
    s.esperar_codigo(0);
    let v: serde_json::Value = s.json();
    assert_eq!(v["metadata"]["total_tasks"], 4);
    assert_eq!(comun::tareas::leer_archivo(&s.stdout).unwrap().len(), 4);

    let ruta = datos.path().join("lote.json");
    let r = ruta.to_str().unwrap();
    cliente(&["tareas", "generar", "--n", "3", "--salida", r])
        .await
        .esperar_codigo(0);
    let otra = cliente(&["tareas", "generar", "--salida", r]).await;
    assert_ne!(otra.codigo, Some(0), "{otra:#?}");
    assert!(
        otra.stderr.contains("cannot create") && otra.stderr.contains("lote.json"),
        "{otra:#?}"
    );

    pruebas::esperar_hasta(apoyo::ARRANQUE, "the task folder exists", || async {
        carpeta.join("processed").is_dir()
    })
    .await;
    std::fs::rename(&ruta, carpeta.join("lote.json")).unwrap();
    pruebas::esperar_hasta(apoyo::ARRANQUE, "3 tasks completed", || async {
        let v: serde_json::Value = reqwest::get(format!("{}/tasks?status=completed", m.url))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["total"] == 3
    })
    .await;
    for id in ["task_001", "task_002", "task_003"] {
        let t: comun::tareas::VistaTarea = reqwest::get(format!("{}/tasks/{id}", m.url))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(t.status, "completed", "{t:?}");
    }
    e.parar().await;
    m.parar().await;
}
