//! The `maestro` binary's transport flags: HTTPS with --tls-cert/--tls-clave (the first line
//! says `https://`), the token on reads opened by LECTURAS_ABIERTAS, and start-up errors that
//! name the file or flag at fault.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use pruebas::pki;
use pruebas::proceso::primera_linea;
use tokio::process::Command;

const PLAZO: Duration = Duration::from_secs(20);

/// The maestro binary on a free port with its data in `datos`, and no inherited settings.
fn maestro(datos: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_maestro"));
    c.args(["--puerto", "0", "--sin-archivo"])
        .arg("--datos")
        .arg(datos)
        .env("RUST_LOG", "warn")
        .env_remove("HPC_TOKEN")
        .env_remove("HPC_CA")
        .env_remove("TLS_CERT")
        .env_remove("TLS_CLAVE")
        .env_remove("LECTURAS_ABIERTAS")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    c
}

fn ruta(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[tokio::test]
async fn with_a_certificate_it_serves_https_and_open_reads_come_from_the_environment() {
    let pki = pki::pki();
    let datos = tempfile::tempdir().unwrap();
    let mut hijo = maestro(datos.path())
        .args([
            "--tls-cert",
            ruta(&pki.cert),
            "--tls-clave",
            ruta(&pki.clave),
        ])
        .env("HPC_TOKEN", "s3creto")
        .env("LECTURAS_ABIERTAS", "true")
        .spawn()
        .unwrap();
    let (primera, _lineas) = primera_linea(&mut hijo, "maestro", PLAZO).await;
    let url = primera
        .strip_prefix("maestro escuchando en ")
        .unwrap_or_else(|| panic!("unexpected first line: {primera}"));
    assert!(url.starts_with("https://127.0.0.1:"), "{primera}");

    let ca = plataforma::Ca::cargar(&pki.ca).unwrap();
    let http = plataforma::cliente_http(Some(&ca))
        .timeout(PLAZO)
        .build()
        .unwrap();
    let r = http.get(format!("{url}/estado")).send().await.unwrap();
    assert_eq!(r.status(), 200, "reads are open");
    let r = http
        .post(format!("{url}/limpiar_cola"))
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "changes still need the token");
    let r = http
        .post(format!("{url}/limpiar_cola"))
        .bearer_auth("s3creto")
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    hijo.start_kill().unwrap();
    hijo.wait().await.unwrap();
}

/// Runs the maestro with `args` and returns its exit code and stderr, expecting it to stop.
async fn fallar(datos: &Path, args: &[&str]) -> (Option<i32>, String) {
    let salida = tokio::time::timeout(PLAZO, maestro(datos).args(args).output())
        .await
        .expect("the maestro kept running")
        .unwrap();
    let stderr = String::from_utf8_lossy(&salida.stderr).into_owned();
    assert!(
        salida.stdout.is_empty(),
        "it bound its port before failing: {}",
        String::from_utf8_lossy(&salida.stdout)
    );
    (salida.status.code(), stderr)
}

#[tokio::test]
async fn bad_tls_settings_stop_it_before_it_listens_naming_the_file_or_flag() {
    let (pki, otra) = (pki::pki(), pki::pki());
    let datos = tempfile::tempdir().unwrap();
    let (cert, clave) = (ruta(&pki.cert), ruta(&otra.clave));

    let (codigo, error) = fallar(datos.path(), &["--tls-cert", cert, "--tls-clave", clave]).await;
    assert_eq!(codigo, Some(1), "{error}");
    assert!(
        error.contains("does not match") && error.contains(cert) && error.contains(clave),
        "{error}"
    );

    let nada = datos.path().join("nada.pem");
    let (codigo, error) = fallar(
        datos.path(),
        &["--tls-cert", ruta(&nada), "--tls-clave", clave],
    )
    .await;
    assert_eq!(codigo, Some(1), "{error}");
    assert!(error.contains(ruta(&nada)), "{error}");

    let (codigo, error) = fallar(datos.path(), &["--tls-cert", cert]).await;
    assert_eq!(codigo, Some(2), "{error}");
    assert!(error.contains("--tls-clave"), "{error}");

    let (codigo, error) = fallar(datos.path(), &["--ca", ruta(&nada)]).await;
    assert_eq!(codigo, Some(2), "{error}");
    assert!(
        error.contains("--ca") && error.contains(ruta(&nada)),
        "{error}"
    );
}
