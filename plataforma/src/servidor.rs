//! The HTTP(S) server of every service: [`servir`] in place of `axum::serve`, with limits a
//! slow or hostile client cannot get around.
//!
//! - **Connections**: at most [`Limites::conexiones`] served at once. A permit is taken before
//!   `accept`, so further connections wait in the kernel's backlog, not in memory.
//! - **Headers**: a request's headers must arrive within [`Limites::cabeceras`] (hyper's
//!   `header_read_timeout`). The same clock runs while a kept-alive connection waits for its
//!   next request, so idle connections close after that time too. With TLS the handshake has
//!   the same limit.
//! - **Bodies**: a request body that sends nothing for [`Limites::cuerpo`] is cut and the
//!   request answered 408 with a JSON [`CuerpoError`]. It is a limit on silence, not on the
//!   whole transfer: a large body arriving steadily takes as long as it needs.
//! - **Handlers** have no time limit here: long polls (`GET /resumen?espera_ms`, `GET
//!   /trabajos/{id}?esperar_ms`) are bounded by their own parameter.
//! - **Shutdown**: when `shutdown` completes, no new connection is accepted, idle ones close,
//!   and requests in flight finish before [`servir`] returns.
//!
//! With TLS, a client that speaks plain HTTP to the port gets a plain-HTTP 400 saying to use
//! `https://`, rather than a broken handshake.
//!
//! Each request carries the peer's address as `ConnectInfo<SocketAddr>`, as with
//! `axum::serve(..).into_make_service_with_connect_info()`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use comun::CuerpoError;
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, watch};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt as _;
use tower_http::timeout::{TimeoutBody, TimeoutError};

use crate::tls::Tls;

/// What one connection and one request may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limites {
    /// Longest wait for a request's headers, from the moment the connection is ready for them
    /// (so also the longest a kept-alive connection stays idle) and for a TLS handshake.
    pub cabeceras: Duration,
    /// Longest silence while a handler reads a request body; then the request is answered 408.
    pub cuerpo: Duration,
    /// Most connections served at once; more wait in the kernel's backlog until one closes.
    pub conexiones: usize,
}

impl Limites {
    /// Default of [`Limites::cabeceras`] (`--plazo-cabeceras-ms`).
    pub const CABECERAS: Duration = Duration::from_secs(10);
    /// Default of [`Limites::cuerpo`] (`--plazo-cuerpo-ms`).
    pub const CUERPO: Duration = Duration::from_secs(30);
    /// Default of [`Limites::conexiones`] (`--max-conexiones`).
    pub const CONEXIONES: usize = 1024;
}

impl Default for Limites {
    fn default() -> Self {
        Self {
            cabeceras: Self::CABECERAS,
            cuerpo: Self::CUERPO,
            conexiones: Self::CONEXIONES,
        }
    }
}

/// How a service serves HTTP: plain or TLS, and its limits.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Transporte {
    /// The certificate and key to serve HTTPS with; `None`: plain HTTP.
    pub tls: Option<Tls>,
    /// Limits of each connection and request.
    pub limites: Limites,
}

impl Transporte {
    /// `https` with TLS, else `http`: the scheme of the service's URLs.
    pub fn esquema(&self) -> &'static str {
        if self.tls.is_some() { "https" } else { "http" }
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then lets requests in flight
/// finish and returns. See the [module documentation](self) for the limits it enforces.
pub async fn servir(
    listener: TcpListener,
    router: Router,
    transporte: &Transporte,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    let conexion = Conexion::new(router, transporte);
    let permisos = Arc::new(Semaphore::new(transporte.limites.conexiones.max(1)));
    let (parar, parada) = watch::channel(false);
    // Each connection task holds a clone; `recv` returns `None` once all have ended.
    let (vivas, mut terminadas) = mpsc::channel::<()>(1);
    tokio::pin!(shutdown);
    loop {
        let permiso = tokio::select! {
            biased;
            () = &mut shutdown => break,
            p = Arc::clone(&permisos).acquire_owned() => p.context("connection permits closed")?,
        };
        let (tcp, par) = tokio::select! {
            biased;
            () = &mut shutdown => break,
            aceptada = listener.accept() => match aceptada {
                Ok(a) => a,
                Err(e) => {
                    esperar_tras_error(e).await;
                    continue;
                }
            },
        };
        let conexion = conexion.clone();
        let (parada, viva) = (parada.clone(), vivas.clone());
        tokio::spawn(async move {
            conexion.atender(tcp, par, parada, permiso).await;
            drop(viva);
        });
    }
    drop(listener);
    let _ = parar.send(true);
    drop(vivas);
    let _ = terminadas.recv().await;
    Ok(())
}

/// After a failed `accept`: a connection that died before it was taken is nothing; anything
/// else (out of file descriptors) is logged and waited out, as `axum::serve` does.
async fn esperar_tras_error(e: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "accepting a connection failed; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// What every connection task needs; cheap to clone.
#[derive(Clone)]
struct Conexion {
    /// The service's router, with the body watch in front.
    app: Router,
    /// The TLS acceptor, when serving HTTPS.
    tls: Option<TlsAcceptor>,
    /// hyper's HTTP/1 settings (header timeout, timer).
    http: http1::Builder,
    /// Longest TLS handshake.
    plazo_saludo: Duration,
}

impl Conexion {
    /// How every connection is served: `router` with the body-silence check, TLS when
    /// configured, HTTP/1 with the header timeout.
    fn new(router: Router, transporte: &Transporte) -> Self {
        let limites = transporte.limites;
        let app = router.layer(middleware::from_fn_with_state(
            limites.cuerpo,
            vigilar_cuerpo,
        ));
        let mut http = http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(limites.cabeceras);
        Self {
            app,
            tls: transporte
                .tls
                .as_ref()
                .map(|t| TlsAcceptor::from(Arc::clone(&t.config))),
            http,
            plazo_saludo: limites.cabeceras,
        }
    }

    /// Serves one connection until it closes, holding `_permiso` all along.
    async fn atender(
        self,
        tcp: TcpStream,
        par: SocketAddr,
        mut parada: watch::Receiver<bool>,
        _permiso: OwnedSemaphorePermit,
    ) {
        let _ = tcp.set_nodelay(true);
        let Some(acceptor) = self.tls.clone() else {
            return self.http1(tcp, par, parada).await;
        };
        let plazo = self.plazo_saludo;
        let saludo = async move {
            if es_http_en_claro(&tcp).await {
                responder_en_claro(tcp, plazo).await;
                return None;
            }
            match acceptor.accept(tcp).await {
                Ok(flujo) => Some(flujo),
                Err(e) => {
                    tracing::debug!(%par, error = %e, "TLS handshake failed");
                    None
                }
            }
        };
        let flujo = tokio::select! {
            r = tokio::time::timeout(plazo, saludo) => match r {
                Ok(Some(flujo)) => flujo,
                Ok(None) => return,
                Err(_) => {
                    tracing::debug!(%par, "TLS handshake timed out");
                    return;
                }
            },
            () = esperar_parada(&mut parada) => return,
        };
        self.http1(flujo, par, parada).await;
    }

    /// HTTP/1.1 over `io` until the client closes, a limit ends it, or shutdown (after the
    /// request in flight, if any).
    async fn http1<I>(self, io: I, par: SocketAddr, mut parada: watch::Receiver<bool>)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let app = self.app;
        let servicio = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(par));
            app.clone().oneshot(req)
        });
        let conexion = self.http.serve_connection(TokioIo::new(io), servicio);
        tokio::pin!(conexion);
        let resultado = tokio::select! {
            r = conexion.as_mut() => r,
            () = esperar_parada(&mut parada) => {
                conexion.as_mut().graceful_shutdown();
                conexion.await
            }
        };
        if let Err(e) = resultado {
            tracing::debug!(%par, error = %e, "connection ended with an error");
        }
    }
}

/// Completes once shutdown starts (at once if it has).
async fn esperar_parada(parada: &mut watch::Receiver<bool>) {
    // An error means the server is gone: shutting down all the same.
    let _ = parada.wait_for(|p| *p).await;
}

/// Whether a connection to a TLS port starts like a plain HTTP request (an upper-case method
/// name) rather than a TLS record (0x16).
async fn es_http_en_claro(tcp: &TcpStream) -> bool {
    let mut primero = [0u8; 1];
    matches!(tcp.peek(&mut primero).await, Ok(1) if primero[0].is_ascii_uppercase())
}

/// Answers a plain-HTTP request on a TLS port with a plain-HTTP 400, then closes. The request
/// head is read first and what follows drained briefly, so the close does not reset the
/// connection before the client reads the answer.
async fn responder_en_claro(mut tcp: TcpStream, plazo: Duration) {
    let mut leido = Vec::new();
    let mut trozo = [0u8; 4096];
    let _ = tokio::time::timeout(plazo, async {
        while !leido.windows(4).any(|w| w == b"\r\n\r\n") && leido.len() < 16 * 1024 {
            match tcp.read(&mut trozo).await {
                Ok(0) | Err(_) => break,
                Ok(n) => leido.extend_from_slice(&trozo[..n]),
            }
        }
    })
    .await;
    let cuerpo = serde_json::to_string(&CuerpoError::new(
        "this port speaks HTTPS: use an https:// URL (and --ca with the cluster's CA)",
    ))
    .unwrap_or_default();
    let respuesta = format!(
        "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{cuerpo}",
        cuerpo.len()
    );
    if tcp.write_all(respuesta.as_bytes()).await.is_err() || tcp.shutdown().await.is_err() {
        return;
    }
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        while matches!(tcp.read(&mut trozo).await, Ok(n) if n > 0) {}
    })
    .await;
}

/// Cuts a request body that stays silent for `plazo` and answers the request 408, whatever
/// the handler made of the broken body.
async fn vigilar_cuerpo(State(plazo): State<Duration>, req: Request, next: Next) -> Response {
    let vencido = Arc::new(AtomicBool::new(false));
    let marca = Arc::clone(&vencido);
    let req = req.map(|cuerpo| {
        Body::new(TimeoutBody::new(plazo, cuerpo).map_err(move |e| {
            if e.is::<TimeoutError>() {
                marca.store(true, Ordering::Relaxed);
            }
            e
        }))
    });
    let uri = req.uri().clone();
    let par = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let respuesta = next.run(req).await;
    if !vencido.load(Ordering::Relaxed) {
        return respuesta;
    }
    tracing::warn!(
        ruta = uri.path(),
        ?par,
        "request body silent for {plazo:?}; answered 408"
    );
    let cuerpo = CuerpoError::new(format!(
        "the request body stopped arriving: nothing received for {} ms (--plazo-cuerpo-ms)",
        plazo.as_millis()
    ));
    (
        StatusCode::REQUEST_TIMEOUT,
        [(header::CONNECTION, "close")],
        axum::Json(cuerpo),
    )
        .into_response()
}
