//! `plataforma::servir` over real sockets: the header, idle and body limits, the connection
//! cap, long handlers, graceful shutdown and the peer address.

mod apoyo;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use apoyo::{PLAZO, Servidor, leer_algo, leer_hasta_el_cierre, texto};
use axum::Router;
use axum::body::Bytes;
use axum::extract::ConnectInfo;
use axum::routing::{get, post};
use plataforma::{Limites, Transporte};
use tokio::io::AsyncWriteExt as _;
use tokio::sync::mpsc;

/// What a timer may overshoot by on a loaded 2-core machine.
const MARGEN: Duration = Duration::from_secs(2);
/// How much earlier than its limit a cut may be seen (timer granularity).
const HOLGURA: Duration = Duration::from_millis(50);

fn router() -> Router {
    Router::new()
        .route("/ping", get(|| async { "pong" }))
        .route("/eco", post(|cuerpo: Bytes| async move { cuerpo }))
        .route(
            "/lento",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(1)).await;
                "hecho"
            }),
        )
        .route(
            "/par",
            get(|ConnectInfo(par): ConnectInfo<SocketAddr>| async move { par.to_string() }),
        )
}

fn transporte(cabeceras_ms: u64, cuerpo_ms: u64, conexiones: usize) -> Transporte {
    Transporte {
        tls: None,
        limites: Limites {
            cabeceras: Duration::from_millis(cabeceras_ms),
            cuerpo: Duration::from_millis(cuerpo_ms),
            conexiones,
        },
    }
}

fn cliente() -> reqwest::Client {
    plataforma::cliente_http(None)
        .timeout(PLAZO)
        .build()
        .unwrap()
}

fn dentro_del_limite(espera: Duration, limite: Duration) -> bool {
    espera + HOLGURA >= limite && espera <= limite + MARGEN
}

#[tokio::test]
async fn a_stalled_request_head_is_cut_while_other_connections_are_served() {
    let s = Servidor::iniciar(router(), transporte(400, 30_000, 16)).await;
    let mut lenta = s.conectar().await;
    let inicio = Instant::now();
    lenta.write_all(b"GET /pi").await.unwrap();

    let r = cliente()
        .get(format!("{}/ping", s.url("http")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.text().await.unwrap(), "pong", "served meanwhile");

    let (recibido, fin) = leer_hasta_el_cierre(&mut lenta, PLAZO).await;
    let espera = fin - inicio;
    assert!(
        dentro_del_limite(espera, Duration::from_millis(400)),
        "cut after {espera:?}"
    );
    assert!(!texto(&recibido).contains("200 OK"), "{}", texto(&recibido));
    s.parar().await;
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed_after_the_header_limit() {
    let s = Servidor::iniciar(router(), transporte(400, 30_000, 16)).await;
    let mut c = s.conectar().await;
    c.write_all(b"GET /ping HTTP/1.1\r\nhost: prueba\r\n\r\n")
        .await
        .unwrap();
    let respuesta = texto(&leer_algo(&mut c, PLAZO).await.expect("an answer"));
    assert!(respuesta.starts_with("HTTP/1.1 200"), "{respuesta}");
    assert!(respuesta.ends_with("pong"), "{respuesta}");

    let inicio = Instant::now();
    let (_, fin) = leer_hasta_el_cierre(&mut c, PLAZO).await;
    let espera = fin - inicio;
    assert!(
        dentro_del_limite(espera, Duration::from_millis(400)),
        "closed after {espera:?}"
    );
    s.parar().await;
}

#[tokio::test]
async fn a_body_that_stops_arriving_is_answered_408_with_a_json_error() {
    let s = Servidor::iniciar(router(), transporte(10_000, 300, 16)).await;
    let mut c = s.conectar().await;
    c.write_all(b"POST /eco HTTP/1.1\r\nhost: prueba\r\ncontent-length: 1000\r\n\r\n0123456789")
        .await
        .unwrap();
    let inicio = Instant::now();
    let (respuesta, fin) = leer_hasta_el_cierre(&mut c, PLAZO).await;
    let respuesta = texto(&respuesta);
    let espera = fin - inicio;
    assert!(
        respuesta.starts_with("HTTP/1.1 408"),
        "after {espera:?}: {respuesta}"
    );
    assert!(
        dentro_del_limite(espera, Duration::from_millis(300)),
        "answered after {espera:?}"
    );
    let (cabeza, cuerpo) = respuesta.split_once("\r\n\r\n").unwrap();
    assert!(
        cabeza.to_lowercase().contains("connection: close"),
        "{cabeza}"
    );
    let error: serde_json::Value = serde_json::from_str(cuerpo).unwrap();
    assert!(
        error["error"]
            .as_str()
            .unwrap()
            .contains("--plazo-cuerpo-ms"),
        "{error}"
    );
    s.parar().await;
}

#[tokio::test]
async fn a_slow_body_that_keeps_arriving_is_not_cut() {
    let s = Servidor::iniciar(router(), transporte(10_000, 300, 16)).await;
    let mut c = s.conectar().await;
    c.write_all(b"POST /eco HTTP/1.1\r\nhost: prueba\r\ncontent-length: 10\r\n\r\n")
        .await
        .unwrap();
    let inicio = Instant::now();
    for b in b"0123456789" {
        // A byte every 100 ms: the whole body takes three times the limit, no gap reaches it.
        tokio::time::sleep(Duration::from_millis(100)).await;
        c.write_all(&[*b]).await.unwrap();
    }
    let respuesta = texto(&leer_algo(&mut c, PLAZO).await.expect("an answer"));
    assert!(respuesta.starts_with("HTTP/1.1 200"), "{respuesta}");
    assert!(respuesta.ends_with("0123456789"), "{respuesta}");
    assert!(inicio.elapsed() >= Duration::from_millis(900));
    s.parar().await;
}

#[tokio::test]
async fn a_handler_slower_than_every_limit_is_not_cut() {
    // Long polls are bounded by their own parameter, not by the transport's limits.
    let s = Servidor::iniciar(router(), transporte(300, 300, 16)).await;
    let inicio = Instant::now();
    let r = cliente()
        .get(format!("{}/lento", s.url("http")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "hecho");
    assert!(inicio.elapsed() >= Duration::from_secs(1));
    s.parar().await;
}

#[tokio::test]
async fn past_the_connection_cap_a_connection_waits_until_one_closes() {
    let s = Servidor::iniciar(router(), transporte(60_000, 30_000, 4)).await;
    let mut ocupadas = Vec::new();
    for _ in 0..4 {
        ocupadas.push(s.conectar().await);
    }
    let mut quinta = s.conectar().await;
    quinta
        .write_all(b"GET /ping HTTP/1.1\r\nhost: prueba\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(
        leer_algo(&mut quinta, Duration::from_millis(700)).await,
        None,
        "the fifth connection was served while four held every slot"
    );

    drop(ocupadas.pop());
    let (respuesta, _) = leer_hasta_el_cierre(&mut quinta, PLAZO).await;
    let respuesta = texto(&respuesta);
    assert!(respuesta.starts_with("HTTP/1.1 200"), "{respuesta}");
    assert!(respuesta.ends_with("pong"), "{respuesta}");
    s.parar().await;
}

#[tokio::test]
async fn shutdown_lets_the_request_in_flight_finish_then_refuses_connections() {
    let (empezado, mut empezados) = mpsc::channel::<()>(1);
    let app = Router::new().route(
        "/lento",
        get(move || {
            let empezado = empezado.clone();
            async move {
                let _ = empezado.send(()).await;
                tokio::time::sleep(Duration::from_millis(500)).await;
                "hecho"
            }
        }),
    );
    let mut s = Servidor::iniciar(app, Transporte::default()).await;
    let (url, direccion) = (s.url("http"), s.direccion);
    let peticion = tokio::spawn(async move { cliente().get(format!("{url}/lento")).send().await });
    tokio::time::timeout(PLAZO, empezados.recv())
        .await
        .expect("the request reaches its handler")
        .unwrap();

    s.empezar_a_parar();
    let r = peticion
        .await
        .unwrap()
        .expect("the request in flight is answered");
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "hecho");
    s.parar().await;
    assert!(
        tokio::net::TcpStream::connect(direccion).await.is_err(),
        "still accepting after shutdown"
    );
}

#[tokio::test]
async fn handlers_see_the_peer_address() {
    let s = Servidor::iniciar(router(), Transporte::default()).await;
    let mut c = s.conectar().await;
    let propia = c.local_addr().unwrap();
    c.write_all(b"GET /par HTTP/1.1\r\nhost: prueba\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let (respuesta, _) = leer_hasta_el_cierre(&mut c, PLAZO).await;
    assert!(
        texto(&respuesta).ends_with(&propia.to_string()),
        "{}",
        texto(&respuesta)
    );
    s.parar().await;
}
