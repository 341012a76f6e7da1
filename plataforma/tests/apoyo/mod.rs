//! Test support: a server started with `plataforma::servir` on a free port (through
//! [`pruebas::Servicio`]), and raw-socket helpers.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use plataforma::Transporte;
use pruebas::Servicio;
use tokio::io::AsyncReadExt as _;
use tokio::net::TcpStream;

/// Longest wait for anything that should happen.
pub const PLAZO: Duration = Duration::from_secs(10);

/// A server running `plataforma::servir` on `127.0.0.1`, and the means to stop it.
pub struct Servidor {
    pub direccion: SocketAddr,
    servicio: Servicio,
}

impl Servidor {
    /// Serves `router` with `transporte` on a free port.
    pub async fn iniciar(router: Router, transporte: Transporte) -> Self {
        let servicio = Servicio::iniciar(|listener, parada| async move {
            plataforma::servir(listener, router, &transporte, parada).await
        })
        .await;
        Self {
            direccion: servicio.direccion,
            servicio,
        }
    }

    /// `http://127.0.0.1:PORT` or `https://…`.
    pub fn url(&self, esquema: &str) -> String {
        format!("{esquema}://{}", self.direccion)
    }

    /// Starts shutdown without waiting for it.
    pub fn empezar_a_parar(&mut self) {
        self.servicio.empezar_a_parar();
    }

    /// Shuts it down and waits until `servir` returns (within [`PLAZO`]).
    pub async fn parar(self) {
        self.servicio.terminar_antes_de(PLAZO).await.unwrap();
    }

    /// A raw connection to it.
    pub async fn conectar(&self) -> TcpStream {
        TcpStream::connect(self.direccion).await.unwrap()
    }
}

/// What the peer sends until it closes (or resets) the connection, and when that happened;
/// panics if it is still open after `plazo`.
pub async fn leer_hasta_el_cierre(tcp: &mut TcpStream, plazo: Duration) -> (Vec<u8>, Instant) {
    let mut recibido = Vec::new();
    let mut trozo = [0u8; 4096];
    let fin = tokio::time::timeout(plazo, async {
        loop {
            match tcp.read(&mut trozo).await {
                Ok(0) | Err(_) => return Instant::now(),
                Ok(n) => recibido.extend_from_slice(&trozo[..n]),
            }
        }
    })
    .await
    .expect("the server did not close the connection in time");
    (recibido, fin)
}

/// The first `n` bytes the peer sends within `plazo`, or what came before the close; `None`
/// if nothing came at all within `plazo`.
pub async fn leer_algo(tcp: &mut TcpStream, plazo: Duration) -> Option<Vec<u8>> {
    let mut trozo = [0u8; 4096];
    match tokio::time::timeout(plazo, tcp.read(&mut trozo)).await {
        Err(_) => None,
        Ok(Ok(n)) => Some(trozo[..n].to_vec()),
        Ok(Err(_)) => Some(Vec::new()),
    }
}

/// An HTTP response read whole from a connection the server closes after it.
pub fn texto(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
