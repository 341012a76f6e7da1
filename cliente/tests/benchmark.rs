//! `cliente benchmark` end to end, through the real binary against an in-process maestro and
//! esclavo: every file of the report is written and agrees with the jobs the maestro ran; a
//! missing GPU is said in the report, not an error; a run resumed with `--continuar` records
//! no job twice.

mod apoyo;

use std::collections::HashSet;

use apoyo::{Cluster, cliente};
use comun::api::ListaTrabajos;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quick_benchmark_writes_every_file_and_agrees_with_the_maestro() {
    let c = Cluster::new(1).await;
    let salida = tempfile::tempdir().unwrap();
    let dir = salida.path().join("b");
    let d = dir.to_str().unwrap();
    cliente(&["--maestro", c.url(), "benchmark", "--rapido", "--salida", d])
        .await
        .esperar_codigo(0);
    for f in [
        "resultados.ndjson",
        "resultados.json",
        "resultados.csv",
        "resumen.csv",
        "BENCHMARK_REPORT.md",
        "plan.json",
        "cabecera.json",
        "aceleracion.png",
        "aceleracion.svg",
        "sobrecoste.png",
        "sobrecoste.svg",
    ] {
        assert!(dir.join(f).is_file(), "{f} missing");
    }
    let tipos = [
        "julia",
        "matmul",
        "vector_add",
        "montecarlo",
        "nbody",
        "fft",
        "autovalores",
        "kmeans",
        "red_neuronal",
        "imagen",
    ];
    for t in tipos {
        for ext in ["png", "svg"] {
            assert!(dir.join(format!("tiempo_{t}.{ext}")).is_file(), "{t} {ext}");
        }
    }
    // No GPU: no chart against a device's limit.
    assert!(!dir.join("limite.png").exists());
    // --rapido: 14 sizes over the 10 kernels × 2 backends (no GPU: Cuda left out), one
    // repetition, and a warm-up per kernel and backend, all completed.
    const MEDIDOS: usize = 28;
    let csv = std::fs::read_to_string(dir.join("resultados.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + MEDIDOS, "{csv}");
    let lista: ListaTrabajos =
        reqwest::get(format!("{}/trabajos?estado=completado&limite=100", c.url()))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(lista.total, (MEDIDOS + 2 * tipos.len()) as u64);
    let registros: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("resultados.json")).unwrap())
            .unwrap();
    for r in &registros {
        let id = r["id"].as_u64().unwrap();
        let t = lista
            .trabajos
            .iter()
            .find(|t| t.id.0 == id)
            .expect("a job the maestro ran");
        let kernel = t.resultado.as_ref().unwrap().duracion_s;
        assert_eq!(r["kernel_s"].as_f64().unwrap(), kernel);
        assert_eq!(r["esclavo"], "esclavo1");
    }
    // The kernels that agree exactly report the same checksum on both backends.
    for tipo in ["julia", "vector_add", "montecarlo", "kmeans"] {
        let de = |backend: &str| {
            registros
                .iter()
                .filter(|r| r["tipo"] == tipo && r["backend"] == backend)
                .map(|r| (r["tamano"].as_u64().unwrap(), r["checksum"].clone()))
                .collect::<Vec<_>>()
        };
        let mut sec = de("Secuencial");
        let mut par = de("Paralelo");
        sec.sort_by_key(|x| x.0);
        par.sort_by_key(|x| x.0);
        assert!(!sec.is_empty());
        assert_eq!(sec, par, "{tipo}");
    }
    let informe = std::fs::read_to_string(dir.join("BENCHMARK_REPORT.md")).unwrap();
    assert!(
        informe.contains("the Cuda columns are missing"),
        "{informe}"
    );
    assert!(informe.contains("![tiempo_matmul.png](tiempo_matmul.png)"));
    assert!(
        informe.contains(
            "- julia: Secuencial, Paralelo reported the same checksum at every size measured: \
             exact agreement."
        ),
        "{informe}"
    );
    let resumen = std::fs::read_to_string(dir.join("resumen.csv")).unwrap();
    assert_eq!(resumen.lines().count(), 1 + MEDIDOS);

    // Resuming a finished run runs nothing again; a truncated one runs only what is missing.
    let ndjson = std::fs::read_to_string(dir.join("resultados.ndjson")).unwrap();
    let mitad: Vec<&str> = ndjson.lines().take(3).collect();
    std::fs::write(dir.join("resultados.ndjson"), mitad.join("\n") + "\n").unwrap();
    // The plan comes from the folder's plan.json; plan flags beside --continuar are refused.
    let refusal = cliente(&[
        "--maestro",
        c.url(),
        "benchmark",
        "--tipos",
        "julia",
        "--continuar",
        d,
    ])
    .await;
    refusal.esperar_codigo(2);
    assert!(refusal.stderr.contains("--tipos"), "{refusal:#?}");
    cliente(&["--maestro", c.url(), "benchmark", "--continuar", d])
        .await
        .esperar_codigo(0);
    let todas = claves(&dir);
    let unicas: HashSet<&String> = todas.iter().collect();
    assert_eq!((todas.len(), unicas.len()), (MEDIDOS, MEDIDOS), "{todas:?}");
    c.parar().await;

    // --informe writes the same report again from the records, with no maestro to ask.
    let antes = std::fs::read_to_string(dir.join("BENCHMARK_REPORT.md")).unwrap();
    let resumen = std::fs::read_to_string(dir.join("resumen.csv")).unwrap();
    for f in ["BENCHMARK_REPORT.md", "resumen.csv", "aceleracion.png"] {
        std::fs::remove_file(dir.join(f)).unwrap();
    }
    cliente(&[
        "--maestro",
        "http://127.0.0.1:9",
        "benchmark",
        "--informe",
        d,
    ])
    .await
    .esperar_codigo(0);
    assert_eq!(
        std::fs::read_to_string(dir.join("BENCHMARK_REPORT.md")).unwrap(),
        antes
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("resumen.csv")).unwrap(),
        resumen
    );
    assert!(dir.join("aceleracion.png").is_file());
    let vacia = tempfile::tempdir().unwrap();
    let sin = cliente(&["benchmark", "--informe", vacia.path().to_str().unwrap()]).await;
    sin.esperar_codigo(1);
    assert!(sin.stderr.contains("no cabecera.json there"), "{sin:#?}");
}

/// The keys (tipo, size, backend, repetition) of the records in `resultados.ndjson`.
fn claves(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("resultados.ndjson"))
        .unwrap_or_default()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            format!(
                "{} {} {} {}",
                v["tipo"], v["tamano"], v["backend"], v["repeticion"]
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_writes_the_report_so_far_and_continuar_runs_only_the_rest() {
    let c = Cluster::new(1).await;
    let salida = tempfile::tempdir().unwrap();
    let dir = salida.path().join("b");
    let d = dir.to_str().unwrap();
    // `espera` jobs of 150–250 ms: 18 measured jobs, seconds of work to interrupt.
    let args = [
        "--maestro",
        c.url(),
        "benchmark",
        "--tipos",
        "espera",
        "--tamanos",
        "150,200,250",
        "--repeticiones",
        "3",
        "--algoritmos",
        "Secuencial,Paralelo",
    ];
    let hijo = tokio::process::Command::new(env!("CARGO_BIN_EXE_cliente"))
        .args(args)
        .args(["--salida", d])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = hijo.id().unwrap() as i32;
    apoyo::esperar_hasta(apoyo::PLAZO_CLIENTE, "two jobs recorded", || async {
        claves(&dir).len() >= 2
    })
    .await;
    // SAFETY: kill(2) on the child this test started and has not yet reaped.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    let fin = tokio::time::timeout(apoyo::PLAZO_CLIENTE, hijo.wait_with_output())
        .await
        .expect("cliente ends after Ctrl-C")
        .unwrap();
    let stderr = String::from_utf8_lossy(&fin.stderr);
    assert_eq!(fin.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("--continuar"), "{stderr}");
    let hechos = claves(&dir);
    assert!(
        (2..18).contains(&hechos.len()),
        "interrupted after {} jobs",
        hechos.len()
    );
    let informe = std::fs::read_to_string(dir.join("BENCHMARK_REPORT.md")).unwrap();
    assert!(
        informe.contains(&format!(
            "Interrupted or incomplete: {} of 18 jobs",
            hechos.len()
        )),
        "{informe}"
    );
    let csv = std::fs::read_to_string(dir.join("resultados.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + hechos.len());

    cliente(&["--maestro", c.url(), "benchmark", "--continuar", d])
        .await
        .esperar_codigo(0);
    let todas = claves(&dir);
    let unicas: HashSet<&String> = todas.iter().collect();
    assert_eq!((todas.len(), unicas.len()), (18, 18), "{todas:?}");
    assert_eq!(
        &todas[..hechos.len()],
        &hechos[..],
        "the first run's records are kept"
    );
    let csv = std::fs::read_to_string(dir.join("resultados.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 18);
    let informe = std::fs::read_to_string(dir.join("BENCHMARK_REPORT.md")).unwrap();
    assert!(!informe.contains("Interrupted"), "{informe}");
    c.parar().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_starts_its_own_cluster_and_names_it_in_the_report() {
    let salida = tempfile::tempdir().unwrap();
    let dir = salida.path().join("b");
    cliente(&[
        "benchmark",
        "--local",
        "--rapido",
        "--tipos",
        "julia",
        "--salida",
        dir.to_str().unwrap(),
    ])
    .await
    .esperar_codigo(0);
    assert_eq!(claves(&dir).len(), 4, "julia at 2 sizes × 2 backends");
    let informe = std::fs::read_to_string(dir.join("BENCHMARK_REPORT.md")).unwrap();
    assert!(
        informe.contains("| cluster | a cluster in this process (1 esclavo, 1 slot each) |"),
        "{informe}"
    );
    assert!(informe.contains("| esclavos | esclavo1 ("), "{informe}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tamanos_gives_each_kernel_its_own_sizes() {
    let salida = tempfile::tempdir().unwrap();
    let dir = salida.path().join("b");
    let d = dir.to_str().unwrap();
    cliente(&[
        "benchmark",
        "--local",
        "--algoritmos",
        "Paralelo",
        "--repeticiones",
        "1",
        "--tamanos",
        "matmul=48:32,julia=16",
        "--salida",
        d,
    ])
    .await
    .esperar_codigo(0);
    let mut hechos = claves(&dir);
    hechos.sort();
    assert_eq!(
        hechos,
        [
            "\"julia\" 16 \"Paralelo\" 0",
            "\"matmul\" 32 \"Paralelo\" 0",
            "\"matmul\" 48 \"Paralelo\" 0",
        ]
    );
    let otra = salida.path().join("c");
    let fuera = cliente(&[
        "benchmark",
        "--local",
        "--tipos",
        "julia",
        "--tamanos",
        "matmul=32",
        "--salida",
        otra.to_str().unwrap(),
    ])
    .await;
    fuera.esperar_codigo(1);
    assert!(
        fuera
            .stderr
            .contains("--tamanos gives sizes for matmul, which --tipos leaves out"),
        "{fuera:#?}"
    );
    assert!(!otra.exists(), "a refused plan makes no folder");
    // Only Cuda, and no GPU: nothing to measure, said, and no folder made.
    let sin_gpu = cliente(&[
        "benchmark",
        "--local",
        "--algoritmos",
        "Cuda",
        "--salida",
        otra.to_str().unwrap(),
    ])
    .await;
    sin_gpu.esperar_codigo(1);
    assert!(
        sin_gpu.stderr.contains("no backend left to measure"),
        "{sin_gpu:#?}"
    );
    assert!(!otra.exists(), "nothing measured, no folder made");
    let mala = cliente(&["benchmark", "--local", "--tamanos", "matmul=32:x"]).await;
    mala.esperar_codigo(2);
    assert!(mala.stderr.contains("\"x\" is not a size"), "{mala:#?}");
}
