//! The real `memoria` binary: its first output line, its command line, real samples of this
//! host, reporting to a (fake) maestro and a clean stop on SIGTERM.

mod apoyo;

use std::process::Stdio;

use apoyo::{MaestroFalso, PLAZO};
use comun::memoria::Muestra;
use pruebas::Falso as _;
use pruebas::esperar_hasta;
use pruebas::proceso::url_anunciada;
use tokio::process::{Child, Command};

/// The binary with a clean environment (no variable of the cluster leaks in from the shell).
fn memoria() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_memoria"));
    for var in [
        "PUERTO",
        "MAESTRO_URL",
        "MAESTRO_IP",
        "HPC_MAESTRO_DEFECTO",
        "NODO",
        "MEMORIA_NODE",
        "INTERVALO",
        "INTERVALO_REPORTE",
        "HPC_TOKEN",
        "UMBRAL_CPU",
        "UMBRAL_MEMORIA",
        "UMBRAL_SWAP",
        "UMBRAL_DISCO",
        "UMBRAL_GPU_MEMORIA",
        "HISTERESIS",
        "HISTORIAL",
    ] {
        c.env_remove(var);
    }
    c.kill_on_drop(true);
    c
}

/// Starts the binary with `args` and returns it with the URL from its first output line.
async fn iniciar(args: &[&str]) -> (Child, String) {
    let mut hijo = memoria()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The rest of its output is not read: dropping the reader closes the pipe.
    let (url, _) = url_anunciada(&mut hijo, "memoria", PLAZO).await;
    (hijo, url)
}

/// Sends SIGTERM and checks that the process exits successfully, promptly.
async fn terminar(mut hijo: Child) {
    let pid = hijo.id().unwrap().to_string();
    let kill = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .unwrap();
    assert!(kill.success());
    let estado = tokio::time::timeout(PLAZO, hijo.wait())
        .await
        .expect("exits promptly on SIGTERM")
        .unwrap();
    assert!(estado.success(), "{estado}");
}

#[tokio::test]
async fn standalone_it_prints_its_address_and_serves_real_samples_of_this_host() {
    let (hijo, url) = iniciar(&["--puerto", "0", "--intervalo", "0.2", "--nodo", "nodo-bin"]).await;
    // The first sample is taken before the service answers: the very first request gets it.
    let r = reqwest::get(format!("{url}/metricas")).await.unwrap();
    assert_eq!(
        r.status().as_u16(),
        200,
        "the first GET /metricas after start"
    );
    let muestra: Muestra = r.json().await.unwrap();
    assert_eq!(muestra.nodo, "nodo-bin");
    assert!(muestra.memoria_total > 0 && muestra.memoria_usada <= muestra.memoria_total);
    assert!((0.0..=100.0).contains(&muestra.cpu_porcentaje));
    assert!(!muestra.discos.is_empty(), "the root filesystem at least");
    terminar(hijo).await;
}

#[tokio::test]
async fn it_reports_this_host_to_the_maestro_with_the_token() {
    let (maestro, url_maestro) = MaestroFalso::iniciar().await;
    let hijo = memoria()
        .args([
            "--puerto",
            "0",
            "--intervalo",
            "0.2",
            "--maestro",
            &url_maestro,
        ])
        .env("MEMORIA_NODE", "nodo-env")
        .env("HPC_TOKEN", "secreto")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    esperar_hasta(PLAZO, "two reports arrive", || async {
        maestro.reportes().len() >= 2
    })
    .await;
    terminar(hijo).await;
    let recibidos = maestro.recibidos();
    let r = &recibidos[0];
    assert_eq!(r.autorizacion.as_deref(), Some("Bearer secreto"));
    assert_eq!(r.reporte.nodo, "nodo-env", "MEMORIA_NODE names the node");
    assert_eq!(r.reporte.intervalo_ms, 200);
    assert!(r.reporte.muestra.memoria_total > 0);
}

#[tokio::test]
async fn thresholds_that_make_no_sense_are_a_usage_error_naming_the_flag() {
    for (args, menciona) in [
        (vec!["--umbral-cpu", "95,80"], "--umbral-cpu"),
        (vec!["--umbral-disco", "noventa"], "--umbral-disco"),
        (vec!["--histeresis", "82"], "--umbral-cpu"),
        (vec!["--intervalo", "0"], "--intervalo"),
    ] {
        let salida = memoria().args(&args).output().await.unwrap();
        assert_eq!(salida.status.code(), Some(2), "{args:?}");
        let error = String::from_utf8_lossy(&salida.stderr);
        assert!(error.contains(menciona), "{args:?}: {error}");
    }
}
