//! `cliente local`: the real binary in a temporary working folder, with `--salir-al-terminar`.

mod apoyo;

use std::path::Path;

use apoyo::{Salida, cliente_en, png};

/// `cliente local --salir-al-terminar --puerto 0 --esclavos <esclavos>` with `extra`, run in
/// `carpeta`.
async fn local(carpeta: &Path, esclavos: &str, extra: &[&str]) -> Salida {
    let args = [
        "local",
        "--salir-al-terminar",
        "--puerto",
        "0",
        "--esclavos",
        esclavos,
    ];
    cliente_en(carpeta, &[&args[..], extra].concat()).await
}

fn pngs(carpeta: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(carpeta)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_runs_the_jobs_file_writes_the_pngs_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("trabajos.txt"),
        "algoritmo,width,height,iteraciones,prioridad\n\
         Secuencial,16,12,20,1\nParalelo,24,16,30,2\nespera,5\nesto no es un trabajo\n",
    )
    .unwrap();
    let s = local(dir.path(), "2", &[]).await;
    s.esperar_codigo(0);
    let primera = s.stdout.lines().next().unwrap_or_default();
    assert!(
        primera.starts_with("maestro escuchando en http://127.0.0.1:"),
        "{s:#?}"
    );
    assert!(s.stdout.contains("3 jobs queued"), "{s:#?}");
    assert!(s.stdout.contains("esto no es un trabajo"), "{s:#?}");
    assert!(
        s.stdout.contains("3 completados, 0 fallidos, 0 cancelados"),
        "{s:#?}"
    );
    assert!(s.stdout.contains("temporary"), "{s:#?}");
    let archivos = pngs(&dir.path().join("resultados"));
    assert_eq!(archivos.len(), 2, "{archivos:?}\n{s:#?}");
    let tamanos: Vec<(u32, u32)> = archivos.iter().map(|p| png(p)).collect();
    assert!(
        tamanos.contains(&(16, 12)) && tamanos.contains(&(24, 16)),
        "{tamanos:?}"
    );
    for p in &archivos {
        let nombre = p.file_name().unwrap().to_string_lossy().into_owned();
        assert!(s.stdout.contains(&nombre), "summary lacks {nombre}: {s:#?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_does_not_wait_forever_for_jobs_no_esclavo_can_run() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("trabajos.txt"),
        "Secuencial,16,12,20,1\nCuda,16,12,20,1\n",
    )
    .unwrap();
    let s = local(dir.path(), "1", &[]).await;
    s.esperar_codigo(3);
    assert!(
        s.stdout.contains("1 job cannot run on this cluster"),
        "{s:#?}"
    );
    assert!(s.stdout.contains("needs an esclavo with a GPU"), "{s:#?}");
    assert_eq!(pngs(&dir.path().join("resultados")).len(), 1, "{s:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_says_when_the_jobs_file_is_missing_and_the_json_summary_parses() {
    let dir = tempfile::tempdir().unwrap();
    let s = local(dir.path(), "1", &["--json"]).await;
    s.esperar_codigo(0);
    assert!(s.stderr.contains("does not exist"), "{s:#?}");
    let v: serde_json::Value = s.json();
    assert_eq!(v["trabajos"].as_array().map(Vec::len), Some(0), "{s:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_with_datos_does_not_run_the_same_lines_twice() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("trabajos.txt"), "espera,1\nespera,2\n").unwrap();
    let s = local(dir.path(), "1", &["--datos", "datos"]).await;
    s.esperar_codigo(0);
    assert!(s.stdout.contains("2 completados"), "{s:#?}");
    let s = local(dir.path(), "1", &["--datos", "datos"]).await;
    s.esperar_codigo(0);
    assert!(s.stdout.contains("nothing new was queued"), "{s:#?}");
}

/// `cliente local` guards its cluster with a token made for the run (none was given): changes
/// need it, reads do not, and it prints the line that lets another terminal use it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_makes_a_token_that_changes_need_and_reads_do_not() {
    use tokio::io::{AsyncBufReadExt, BufReader};

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("trabajos.txt"), "").unwrap();
    let mut hijo = tokio::process::Command::new(env!("CARGO_BIN_EXE_cliente"))
        .args(["local", "--puerto", "0", "--esclavos", "1"])
        .current_dir(dir.path())
        .env_remove("HPC_TOKEN")
        .env_remove("HPC_CA")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("starting cliente local");
    let mut lineas = BufReader::new(hijo.stdout.take().unwrap()).lines();
    let (mut url, mut token) = (None, None);
    let plazo = std::time::Duration::from_secs(30);
    while url.is_none() || token.is_none() {
        let linea = tokio::time::timeout(plazo, lineas.next_line())
            .await
            .expect("cliente local printed its url and token within 30 s")
            .unwrap()
            .expect("cliente local ended before printing its url and token");
        if let Some(u) = linea.strip_prefix("maestro escuchando en ") {
            url = Some(u.trim().to_string());
        }
        if let Some((_, resto)) = linea.split_once("export HPC_TOKEN=") {
            token = Some(resto.split('`').next().unwrap().to_string());
        }
    }
    let (url, token) = (url.unwrap(), token.unwrap());
    assert_eq!(token.len(), 32, "a 128-bit hex token: {token}");
    let http = reqwest::Client::new();
    let leer = http.get(format!("{url}/resumen")).send().await.unwrap();
    assert_eq!(leer.status(), 200, "reads are open");
    let cuerpo = serde_json::json!({"tipo": "espera", "ms": 1});
    let sin = http
        .post(format!("{url}/agregar_trabajo"))
        .json(&cuerpo)
        .send()
        .await
        .unwrap();
    assert_eq!(sin.status(), 401, "a change without the token is refused");
    let con = http
        .post(format!("{url}/agregar_trabajo"))
        .bearer_auth(&token)
        .json(&cuerpo)
        .send()
        .await
        .unwrap();
    assert_eq!(con.status(), 200, "the printed token is the cluster's");
    hijo.kill().await.unwrap();
}
