//! TLS on `plataforma::servir` and `plataforma::cliente_http`: a client trusting the cluster's CA
//! gets through, one without it fails saying why, plain HTTP on the TLS port is told to use
//! https, a stalled handshake is cut, and bad files are errors that name the file.

mod apoyo;

use std::path::Path;
use std::time::{Duration, Instant};

use apoyo::{PLAZO, Servidor, leer_hasta_el_cierre};
use axum::Router;
use axum::routing::get;
use plataforma::{Ca, Limites, Tls, Transporte};
use pruebas::pki::{Pki, pki};

fn router() -> Router {
    Router::new().route("/ping", get(|| async { "pong" }))
}

async fn servidor_tls(pki: &Pki, limites: Limites) -> Servidor {
    let tls = Tls::cargar(&pki.cert, &pki.clave).unwrap();
    Servidor::iniciar(
        router(),
        Transporte {
            tls: Some(tls),
            limites,
        },
    )
    .await
}

/// An error and its causes on one line.
fn cadena(e: &(dyn std::error::Error + 'static)) -> String {
    let mut texto = e.to_string();
    let mut causa = e.source();
    while let Some(c) = causa {
        texto = format!("{texto}: {c}");
        causa = c.source();
    }
    texto
}

#[tokio::test]
async fn a_client_trusting_the_ca_gets_through_and_one_without_it_is_told_why() {
    let pki = pki();
    let s = servidor_tls(&pki, Limites::default()).await;
    let ca = Ca::cargar(&pki.ca).unwrap();
    let con_ca = plataforma::cliente_http(Some(&ca))
        .timeout(PLAZO)
        .build()
        .unwrap();
    let puerto = s.direccion.port();
    for url in [
        format!("https://127.0.0.1:{puerto}/ping"),
        format!("https://localhost:{puerto}/ping"),
    ] {
        let r = con_ca.get(&url).send().await.unwrap();
        assert_eq!(r.text().await.unwrap(), "pong", "{url}");
    }

    let sin_ca = plataforma::cliente_http(None)
        .timeout(PLAZO)
        .build()
        .unwrap();
    let e = sin_ca
        .get(format!("https://127.0.0.1:{puerto}/ping"))
        .send()
        .await
        .expect_err("a certificate from an unknown CA was accepted");
    let texto = cadena(&e);
    assert!(e.is_connect(), "{texto}");
    assert!(
        texto.contains("invalid peer certificate") && texto.contains("UnknownIssuer"),
        "{texto}"
    );
    s.parar().await;
}

#[tokio::test]
async fn plain_http_to_a_tls_port_gets_a_plain_400_saying_to_use_https() {
    let pki = pki();
    let s = servidor_tls(&pki, Limites::default()).await;
    let r = plataforma::cliente_http(None)
        .timeout(PLAZO)
        .build()
        .unwrap()
        .get(format!("{}/ping", s.url("http")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let error: serde_json::Value = r.json().await.unwrap();
    assert!(
        error["error"].as_str().unwrap().contains("https://"),
        "{error}"
    );
    s.parar().await;
}

#[tokio::test]
async fn a_stalled_tls_handshake_is_cut_at_the_header_limit() {
    let pki = pki();
    let limites = Limites {
        cabeceras: Duration::from_millis(400),
        ..Limites::default()
    };
    let s = servidor_tls(&pki, limites).await;
    let mut c = s.conectar().await;
    let inicio = Instant::now();
    let (recibido, fin) = leer_hasta_el_cierre(&mut c, PLAZO).await;
    let espera = fin - inicio;
    assert!(recibido.is_empty());
    assert!(
        espera >= Duration::from_millis(350) && espera <= Duration::from_millis(2400),
        "cut after {espera:?}"
    );
    s.parar().await;
}

fn error_de(r: anyhow::Result<impl std::fmt::Debug>) -> String {
    format!("{:#}", r.expect_err("expected an error"))
}

fn menciona(error: &str, ruta: &Path) -> bool {
    error.contains(&ruta.display().to_string())
}

#[test]
fn bad_tls_files_are_errors_that_name_the_file() {
    let pki = pki();
    let nada = pki.carpeta.path().join("no-existe.pem");

    let e = error_de(Tls::cargar(&nada, &pki.clave));
    assert!(
        e.contains("cannot read the TLS certificate file") && menciona(&e, &nada),
        "{e}"
    );
    let e = error_de(Tls::cargar(&pki.cert, &nada));
    assert!(
        e.contains("cannot read the TLS key file") && menciona(&e, &nada),
        "{e}"
    );

    let e = error_de(Tls::cargar(&pki.clave, &pki.clave));
    assert!(
        e.contains("holds no certificate") && menciona(&e, &pki.clave),
        "{e}"
    );
    let e = error_de(Tls::cargar(&pki.cert, &pki.cert));
    assert!(
        e.contains("holds no private key") && menciona(&e, &pki.cert),
        "{e}"
    );

    let otra = pruebas::pki::pki();
    let e = error_de(Tls::cargar(&pki.cert, &otra.clave));
    assert!(
        e.contains("does not match") && menciona(&e, &pki.cert) && menciona(&e, &otra.clave),
        "{e}"
    );

    let e = error_de(Ca::cargar(&nada));
    assert!(
        e.contains("cannot read the CA certificate file") && menciona(&e, &nada),
        "{e}"
    );
    let e = error_de(Ca::cargar(&pki.clave));
    assert!(
        e.contains("holds no certificate") && menciona(&e, &pki.clave),
        "{e}"
    );
    let e = Ca::de_argumento(&nada.display().to_string()).unwrap_err();
    assert!(menciona(&e, &nada), "{e}");

    assert!(Tls::cargar(&pki.cert, &pki.clave).is_ok());
    assert_eq!(Ca::cargar(&pki.ca).unwrap().ruta(), pki.ca);
}
