//! The orchestrator's doors, with real files and real HTTP: the task folder (`task_queues/`)
//! queues a file whole and moves it, refuses a file with one bad task whole beside an error
//! file naming it, leaves a half-written file alone, and queues a file once across a crash
//! between its commit and its move (the maestro binary aborted right there); `task_id` is kept,
//! unique, and names a job wherever an id does; `/tasks`, `/workers` and `/health` answer in
//! the orchestrator's shape; the original backend name a user asked for stays on the job.

mod apoyo;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use apoyo::*;
use comun::api::{ListaTrabajos, PeticionTrabajo, Trabajo};
use comun::tareas::VistaTarea;
use pruebas::sostener;
use serde_json::{Value, json};

const PLAZO: Duration = Duration::from_secs(30);

/// A maestro config watching `datos/task_queues`, polling it every 200 ms.
fn config_con_carpeta(datos: &Path) -> (maestro::Config, PathBuf) {
    let mut c = config_maestro(datos);
    let carpeta = datos.join("task_queues");
    c.carpeta_tareas = Some(carpeta.clone());
    c.sondeo_archivo = Duration::from_millis(200);
    (c, carpeta)
}

/// Writes `contenido` beside the folder, then renames it in: complete the moment it appears.
fn dejar(carpeta: &Path, nombre: &str, contenido: &Value) {
    std::fs::create_dir_all(carpeta).unwrap();
    let fuera = carpeta.parent().unwrap().join(format!(".{nombre}.tmp"));
    std::fs::write(&fuera, serde_json::to_string_pretty(contenido).unwrap()).unwrap();
    std::fs::rename(&fuera, carpeta.join(nombre)).unwrap();
}

/// The names of the files in `carpeta/sub`.
fn nombres(carpeta: &Path, sub: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(carpeta.join(sub))
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Waits until `carpeta/sub` holds `n` files, and returns their names.
async fn esperar_archivos(carpeta: &Path, sub: &str, n: usize) -> Vec<String> {
    let que = format!("{n} files in {sub}/");
    esperar_hasta(PLAZO, &que, || async { nombres(carpeta, sub).len() >= n }).await;
    nombres(carpeta, sub)
}

fn nbody(task_id: &str, algoritmo: &str, particulas: u32) -> Value {
    json!({
        "task_id": task_id, "algorithm": algoritmo, "priority": "high",
        "description": format!("{particulas} bodies"),
        "parameters": { "num_particles": particulas, "num_steps": 3, "seed": 7 },
    })
}

async fn tarea(url: &str, id: &str) -> VistaTarea {
    let r = reqwest::get(format!("{url}/tasks/{id}")).await.unwrap();
    assert_eq!(r.status(), 200, "GET /tasks/{id}");
    r.json().await.unwrap()
}

async fn todas(url: &str, consulta: &str) -> Value {
    reqwest::get(format!("{url}/tasks{consulta}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_file_is_queued_whole_moved_and_its_tasks_complete_under_their_task_ids() {
    let datos = tempfile::tempdir().unwrap();
    let (config, carpeta) = config_con_carpeta(datos.path());
    let m = maestro(config, 0).await;
    let e = esclavo(&m.url, "e1", 2).await;
    let archivo = json!({
        "metadata": { "creation_date": "2024-01-15", "total_tasks": 3, "created_by": "prueba" },
        "tasks": [
            nbody("sim_python", "python", 16),
            nbody("sim_cython", "cython", 24),
            { "task_id": "fft_1", "algorithm": "fft", "priority": "low", "parameters": { "n": 64 } },
        ]
    });
    // With a byte-order mark, as a Windows editor saves it.
    let texto = format!(
        "\u{feff}{}",
        serde_json::to_string_pretty(&archivo).unwrap()
    );
    std::fs::create_dir_all(&carpeta).unwrap();
    std::fs::write(datos.path().join("x.tmp"), texto).unwrap();
    std::fs::rename(datos.path().join("x.tmp"), carpeta.join("lote.json")).unwrap();

    let procesados = esperar_archivos(&carpeta, "processed", 1).await;
    assert!(procesados[0].ends_with("_lote.json"), "{procesados:?}");
    assert!(!carpeta.join("lote.json").exists());
    assert!(nombres(&carpeta, "rechazados").is_empty());
    let lista = esperar_vacia(&m.url, PLAZO).await;
    assert_eq!((lista.completados, lista.total()), (3, 3), "{lista:?}");

    let python = tarea(&m.url, "sim_python").await;
    assert_eq!(python.status, "completed");
    assert_eq!(python.algorithm, "python");
    assert_eq!(python.backend, comun::Algoritmo::Secuencial);
    assert_eq!(python.priority, "high");
    assert_eq!(python.description.as_deref(), Some("16 bodies"));
    assert_eq!(python.worker_id.as_deref(), Some("e1"));
    assert_eq!(python.parameters["particulas"], 16);
    let completado = python.completed_at.as_deref().expect("completed_at");
    assert!(
        completado.len() >= 20 && completado.ends_with('Z') && completado.contains('T'),
        "{completado}"
    );
    assert!(python.execution_time.is_some() && python.result.is_some());
    let cython = tarea(&m.url, "sim_cython").await;
    assert_eq!(
        (cython.algorithm.as_str(), cython.backend),
        ("cython", comun::Algoritmo::Paralelo)
    );
    // The task_id names the job wherever an id does, and the job keeps it and its origin.
    let t: Trabajo = reqwest::get(format!("{}/trabajos/fft_1", m.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(t.task_id.as_deref(), Some("fft_1"));
    assert_eq!(t.prioridad, comun::Prioridad::BAJA);
    assert_eq!(t.origen.to_string(), "lote.json tasks[2]");
    let por_carpeta: ListaTrabajos = reqwest::get(format!("{}/trabajos?origen=carpeta", m.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(por_carpeta.total, 3);
    let metricas = pruebas::metricas::raspar(&m.url, None).await;
    let carpeta = [("origen", "carpeta")];
    assert_eq!(
        metricas.valor("hpc_maestro_jobs_submitted_total", &carpeta),
        3.0
    );
    e.parar().await;
    m.parar().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_with_one_bad_task_is_refused_whole_beside_an_error_file_naming_it() {
    let datos = tempfile::tempdir().unwrap();
    let (config, carpeta) = config_con_carpeta(datos.path());
    let m = maestro(config, 0).await;
    let mut mala = nbody("t2", "python", 0);
    mala["parameters"]["num_particles"] = json!(0);
    dejar(
        &carpeta,
        "mezcla.json",
        &json!({ "tasks": [nbody("t1", "python", 8), mala, nbody("t3", "cython", 8)] }),
    );
    let rechazados = esperar_archivos(&carpeta, "rechazados", 2).await;
    let error = rechazados
        .iter()
        .find(|n| n.ends_with("_mezcla.error.json"))
        .expect("an error file");
    assert!(rechazados.iter().any(|n| n.ends_with("_mezcla.json")));
    let informe: Value = serde_json::from_str(
        &std::fs::read_to_string(carpeta.join("rechazados").join(error)).unwrap(),
    )
    .unwrap();
    let errores = informe["errors"].as_array().unwrap();
    assert_eq!(errores.len(), 1, "{informe}");
    assert_eq!(errores[0]["index"], 1);
    assert_eq!(errores[0]["task_id"], "t2");
    assert_eq!(errores[0]["field"], "tasks[1].parameters.num_particles");
    assert!(
        errores[0]["reason"]
            .as_str()
            .unwrap()
            .contains("at least 1"),
        "{informe}"
    );
    // Nothing of it was queued, not even its good tasks.
    assert_eq!(resumen(&m.url).await.total(), 0);
    assert!(nombres(&carpeta, "processed").is_empty());
    let r = reqwest::get(format!("{}/tasks/t1", m.url)).await.unwrap();
    assert_eq!(r.status(), 404);
    m.parar().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_written_file_is_not_taken_until_its_writer_closes_it() {
    let datos = tempfile::tempdir().unwrap();
    let (config, carpeta) = config_con_carpeta(datos.path());
    let m = maestro(config, 0).await;
    esperar_hasta(PLAZO, "the task folder exists", || async {
        carpeta.join("processed").is_dir()
    })
    .await;
    let texto = serde_json::to_string_pretty(&json!({
        "tasks": [nbody("lento_1", "python", 8), nbody("lento_2", "cython", 8)]
    }))
    .unwrap();
    let (primera, resto) = texto.split_at(texto.len() / 2);
    let mut f = std::fs::File::create(carpeta.join("lento.json")).unwrap();
    f.write_all(primera.as_bytes()).unwrap();
    f.flush().unwrap();
    // Many poll periods (200 ms each) with the writer paused: neither queued nor refused.
    sostener(
        Duration::from_secs(2),
        "the open file left alone",
        || async {
            let tocados =
                nombres(&carpeta, "processed").len() + nombres(&carpeta, "rechazados").len();
            match (tocados, carpeta.join("lento.json").exists()) {
                (0, true) => Ok(()),
                otro => Err(format!("taken early: {otro:?}")),
            }
        },
    )
    .await;
    assert_eq!(resumen(&m.url).await.total(), 0);
    f.write_all(resto.as_bytes()).unwrap();
    drop(f);
    let procesados = esperar_archivos(&carpeta, "processed", 1).await;
    assert!(procesados[0].ends_with("_lento.json"), "{procesados:?}");
    assert_eq!(resumen(&m.url).await.total(), 2);
    assert!(nombres(&carpeta, "rechazados").is_empty());
    m.parar().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_id_already_taken_is_refused_by_name_through_the_api_and_the_folder() {
    let datos = tempfile::tempdir().unwrap();
    let (config, carpeta) = config_con_carpeta(datos.path());
    let m = maestro(config, 0).await;
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{}/tasks", m.url))
        .json(&nbody("unico", "python", 8))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let creadas: Value = r.json().await.unwrap();
    assert_eq!(creadas["tasks"][0]["task_id"], "unico");
    assert_eq!(creadas["tasks"][0]["status"], "pending");
    let id = creadas["tasks"][0]["id"].as_u64().unwrap();

    // Again, alone and within a list: 409 naming it and its job; nothing of the list queued.
    let lote = json!({ "tasks": [nbody("otro", "python", 8), nbody("unico", "cython", 8)] });
    for cuerpo in [nbody("unico", "cython", 8), lote] {
        let r = http
            .post(format!("{}/tasks", m.url))
            .json(&cuerpo)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 409);
        let e: Value = r.json().await.unwrap();
        let texto = e["error"].as_str().unwrap();
        assert!(
            texto.contains("'unico'") && texto.contains(&format!("job {id}")),
            "{texto}"
        );
    }
    // Twice in one list: 422 naming the second.
    let r = http
        .post(format!("{}/tasks", m.url))
        .json(&json!({ "tasks": [nbody("par", "python", 8), nbody("par", "python", 8)] }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["campo"], "tasks[1].task_id", "{e}");
    assert_eq!(resumen(&m.url).await.total(), 1);

    dejar(
        &carpeta,
        "repetido.json",
        &json!({ "tasks": [nbody("unico", "python", 8)] }),
    );
    let rechazados = esperar_archivos(&carpeta, "rechazados", 2).await;
    let error = rechazados
        .iter()
        .find(|n| n.ends_with(".error.json"))
        .unwrap();
    let informe = std::fs::read_to_string(carpeta.join("rechazados").join(error)).unwrap();
    assert!(informe.contains("\"task_id\": \"unico\""), "{informe}");
    assert!(informe.contains(&format!("job {id}")), "{informe}");
    assert_eq!(resumen(&m.url).await.total(), 1);
    m.parar().await;
}

/// A client that hangs up while its batch waits for the commit (its handler dropped) does not
/// leave the jobs committed but out of the queue: they are counted, found by `task_id` and run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_whose_client_hung_up_before_the_commit_is_still_queued_and_run() {
    let datos = tempfile::tempdir().unwrap();
    let m = maestro(config_maestro(datos.path()), 0).await;
    let detenido = Detenido::tomar(datos.path()).await;
    let impaciente = reqwest::Client::builder()
        .timeout(Duration::from_millis(400))
        .build()
        .unwrap();
    let tareas: Vec<Value> = (0..3)
        .map(|i| {
            json!({ "task_id": format!("colgado-{i}"), "algorithm": "espera",
                          "parameters": { "ms": 10 } })
        })
        .collect();
    let r = impaciente
        .post(format!("{}/tasks", m.url))
        .json(&json!({ "tasks": tareas }))
        .send()
        .await;
    assert!(
        r.as_ref().is_err_and(|e| e.is_timeout()),
        "the commit was to wait past the client's patience: {r:?}"
    );
    // The client is gone; its jobs are not in the store while the commit waits.
    sostener(
        Duration::from_secs(1),
        "the batch not committed",
        || async {
            match reqwest::get(format!("{}/tasks/colgado-0", m.url)).await {
                Ok(r) if r.status() == 404 => Ok(()),
                otro => Err(format!("{otro:?}")),
            }
        },
    )
    .await;
    detenido.soltar().await;
    let _e = esclavo(&m.url, "e1", 2).await;
    esperar_hasta(PLAZO, "the three jobs completed", || async {
        resumen(&m.url).await.completados == 3
    })
    .await;
    for i in 0..3 {
        assert_eq!(
            tarea(&m.url, &format!("colgado-{i}")).await.status,
            "completed"
        );
    }
    m.parar().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_workers_and_health_answer_in_the_orchestrators_shape_for_each_status() {
    let datos = tempfile::tempdir().unwrap();
    let mut config = config_maestro(datos.path());
    config.max_intentos = 1;
    let m = maestro(config, 0).await;
    let http = reqwest::Client::new();
    let crear = |cuerpo: Value| {
        let (http, url) = (http.clone(), m.url.clone());
        async move {
            let r = http
                .post(format!("{url}/tasks"))
                .json(&cuerpo)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201, "{cuerpo}");
        }
    };
    let salud: Value = reqwest::get(format!("{}/health", m.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (salud["status"].as_str(), salud["workers_active"].as_u64()),
        (Some("degraded"), Some(0))
    );

    // No esclavo yet: pending, and cancelled.
    crear(json!({ "task_id": "p", "algorithm": "espera", "parameters": { "ms": 1 } })).await;
    crear(json!({ "task_id": "c", "algorithm": "espera", "parameters": { "ms": 1 } })).await;
    let r = http
        .delete(format!("{}/tasks/c", m.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(tarea(&m.url, "p").await.status, "pending");
    assert_eq!(tarea(&m.url, "c").await.status, "cancelled");
    let r = http
        .delete(format!("{}/tasks/c", m.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);

    let e = esclavo(&m.url, "e1", 1).await;
    esperar_hasta(PLAZO, "p completed", || async {
        tarea(&m.url, "p").await.status == "completed"
    })
    .await;
    // Running, then failed by its 1 s time limit (one attempt allowed).
    crear(json!({ "task_id": "f", "algorithm": "espera", "parameters": { "ms": 20000, "plazo_s": 1 } })).await;
    // The view that said "running" (a second read may come after the time limit, on a loaded
    // machine, and find it failed).
    let corriendo = pruebas::esperar_a(PLAZO, "f running", || async {
        let t = tarea(&m.url, "f").await;
        (t.status == "running").then_some(t)
    })
    .await;
    assert_eq!(corriendo.worker_id.as_deref(), Some("e1"));
    assert!(corriendo.started_at.is_some() && corriendo.completed_at.is_none());
    esperar_hasta(PLAZO, "f failed", || async {
        tarea(&m.url, "f").await.status == "failed"
    })
    .await;
    let fallida = tarea(&m.url, "f").await;
    assert!(
        fallida.error.is_some() && fallida.completed_at.is_some(),
        "{fallida:?}"
    );

    for (status, task_id) in [
        ("pending", None),
        ("completed", Some("p")),
        ("failed", Some("f")),
        ("cancelled", Some("c")),
    ] {
        let v = todas(&m.url, &format!("?status={status}")).await;
        let ids: Vec<&str> = v["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["task_id"].as_str().unwrap())
            .collect();
        assert_eq!(
            ids,
            task_id.into_iter().collect::<Vec<_>>(),
            "{status}: {v}"
        );
        for t in v["tasks"].as_array().unwrap() {
            assert_eq!(t["status"], status);
            for campo in ["task_id", "algorithm", "status", "priority", "created_at"] {
                assert!(t.get(campo).is_some(), "{status}: no {campo} in {t}");
            }
        }
    }
    let p = todas(&m.url, "?status=completed").await;
    let p = &p["tasks"][0];
    assert!(
        p["execution_time"].is_number() && p["result"].is_object() && p["worker_id"] == "e1",
        "{p}"
    );
    assert_eq!(todas(&m.url, "").await["total"], 3);
    let r = reqwest::get(format!("{}/tasks?status=lost", m.url))
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = reqwest::get(format!("{}/tasks/nadie", m.url))
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    let workers: Value = reqwest::get(format!("{}/workers", m.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(workers[0]["worker_id"], "e1");
    assert_eq!(workers[0]["status"], "active");
    assert_eq!(workers[0]["capacity"], 1);
    let uno: Value = reqwest::get(format!("{}/workers/e1", m.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(uno["worker_id"], "e1");
    assert!(uno["completed_tasks"].as_u64().unwrap() >= 1, "{uno}");
    let r = reqwest::get(format!("{}/workers/e9", m.url)).await.unwrap();
    assert_eq!(r.status(), 404);
    let salud: Value = reqwest::get(format!("{}/health", m.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(salud["status"], "healthy");
    assert_eq!(salud["workers_active"], 1);
    e.parar().await;
    m.parar().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_original_backend_name_asked_for_stays_on_the_job_and_filters_it() {
    let datos = tempfile::tempdir().unwrap();
    let mut config = config_maestro(datos.path());
    let archivo = datos.path().join("trabajos.txt");
    std::fs::write(&archivo, "juliaCython,8,8,10,2\n").unwrap();
    config.archivo = Some(archivo);
    let m = maestro(config, 0).await;
    let numpy: PeticionTrabajo = serde_json::from_value(
        json!({ "algoritmo": "numpy", "width": 8, "height": 8, "iteraciones": 5 }),
    )
    .unwrap();
    let id = agregar(&m.url, &numpy).await;
    agregar(&m.url, &PeticionTrabajo::espera(1, comun::Prioridad::MEDIA)).await;
    let t = trabajo(&m.url, id).await;
    assert_eq!(t.algoritmo, comun::Algoritmo::Paralelo);
    assert_eq!(t.algoritmo_pedido.as_deref(), Some("Numpy"));
    esperar_hasta(PLAZO, "the watched file's line is queued", || async {
        resumen(&m.url).await.total() == 3
    })
    .await;
    for (nombre, esperado) in [("Numpy", 1), ("JULIACYTHON", 1)] {
        let l: ListaTrabajos =
            reqwest::get(format!("{}/trabajos?algoritmo_pedido={nombre}", m.url))
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
        assert_eq!(l.total, esperado, "{nombre}: {l:?}");
        assert!(
            l.trabajos
                .iter()
                .all(|t| t.algoritmo_pedido.as_deref().map(str::to_lowercase)
                    == Some(nombre.to_lowercase())),
            "{nombre}: {l:?}"
        );
    }
    let r = reqwest::get(format!("{}/trabajos?algoritmo_pedido=Paralelo", m.url))
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    m.parar().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_a_files_commit_and_its_move_does_not_queue_it_twice() {
    let datos = tempfile::tempdir().unwrap();
    let carpeta = datos.path().join("task_queues");
    let puerto = pruebas::direccion_libre().port();
    let url = format!("http://127.0.0.1:{puerto}");
    let arrancar = |abortar: bool| {
        let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_maestro"));
        c.args(["--puerto", &puerto.to_string(), "--sin-archivo", "--datos"])
            .arg(datos.path())
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true);
        if abortar {
            c.env(maestro::carpeta::PRUEBA_ABORTAR_TRAS_COMMIT, "1");
        }
        c.spawn().expect("starting the maestro binary")
    };
    let mut m = arrancar(true);
    esperar_hasta(PLAZO, "the maestro made its task folder", || async {
        carpeta.join("processed").is_dir()
    })
    .await;
    let tareas: Vec<Value> = (1..=5)
        .map(|i| nbody(&format!("k{i}"), "python", 8))
        .collect();
    dejar(&carpeta, "uno.json", &json!({ "tasks": tareas }));
    let salida = tokio::time::timeout(PLAZO, m.wait())
        .await
        .expect("the maestro aborts after the commit")
        .unwrap();
    assert!(!salida.success(), "{salida:?}");
    // Committed, not moved.
    assert!(carpeta.join("uno.json").exists());
    assert!(nombres(&carpeta, "processed").is_empty());

    let _m = arrancar(false);
    let procesados = esperar_archivos(&carpeta, "processed", 1).await;
    assert!(procesados[0].ends_with("_uno.json"));
    let lista: ListaTrabajos = reqwest::get(format!("{url}/trabajos?limite=100"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(lista.total, 5, "{lista:?}");
    let mut ids: Vec<&str> = lista
        .trabajos
        .iter()
        .filter_map(|t| t.task_id.as_deref())
        .collect();
    ids.sort();
    assert_eq!(ids, ["k1", "k2", "k3", "k4", "k5"]);
    assert!(nombres(&carpeta, "rechazados").is_empty());
}
