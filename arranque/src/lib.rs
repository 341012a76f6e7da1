//! Start-up shared by the cluster's service binaries (`maestro`, `esclavo`, `memoria`): what
//! every `main.rs` does before handing a listener and a shutdown future to its library's `run`,
//! and what every HTTP link of the cluster is built with.
//!
//! - [`iniciar_logs`]: `tracing` to stderr, filtered by `RUST_LOG` (default `info`).
//! - [`escuchar`]: binds the port and prints `<service> escuchando en http://127.0.0.1:PORT`
//!   (`https://` with TLS) as the first line of stdout, so scripts can start services on port 0.
//! - [`senal_de_parada`]: completes on SIGINT (Ctrl-C) or SIGTERM (`docker stop`).
//! - [`servir`] ([`servidor`]): the hardened HTTP(S) server every service runs instead of
//!   `axum::serve`, with its [`Transporte`]: optional TLS and the [`Limites`] of each
//!   connection (headers, bodies, simultaneous connections).
//! - [`proteger`] ([`acceso`]): the cluster token in front of a router ([`Acceso`]): every
//!   request but `GET /ping` needs it, reads too unless `--lecturas-abiertas`.
//! - [`cliente_http`] ([`tls`]): the builder of every HTTP client (rustls with `ring`, the
//!   system's roots plus the cluster's [`Ca`]); [`Tls`] loads a server's certificate and key.
//! - [`http`]: the one HTTP error type of the three services' APIs ([`http::ErrorApi`]), the
//!   extractors that name the field at fault, and the JSON 404 and 405.
//! - [`ArgsRed`] ([`args`]): the flags of all this, shared by the three services.
//! - [`maestro::ClienteMaestro`]: the maestro's node API as esclavos and memoria nodes call it
//!   (register, heartbeat, results, memoria reports), with [`maestro::ErrorMaestro`].

pub mod acceso;
pub mod args;
pub mod esclavo;
pub mod http;
pub mod maestro;
pub mod servidor;
pub mod tls;

pub use acceso::{Acceso, proteger};
pub use args::ArgsRed;
pub use servidor::{Limites, Transporte, servir};
pub use tls::{Ca, Tls, cliente_http, instalar_proveedor_tls};

use std::io::{IsTerminal, Write};

use anyhow::Context;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

/// Logs to stderr (stdout's first line is the address), filtered by `RUST_LOG`.
pub fn iniciar_logs() {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

/// Listens on `0.0.0.0:puerto` (0: any free port) and prints where, as the first line of
/// stdout: `<servicio> escuchando en http://127.0.0.1:PORT` (`https://` when `transporte`
/// has TLS).
pub async fn escuchar(
    servicio: &str,
    puerto: u16,
    transporte: &Transporte,
) -> anyhow::Result<TcpListener> {
    let listener = TcpListener::bind(("0.0.0.0", puerto))
        .await
        .with_context(|| format!("cannot listen on port {puerto}"))?;
    let puerto = listener.local_addr()?.port();
    let esquema = transporte.esquema();
    let mut salida = std::io::stdout().lock();
    writeln!(
        salida,
        "{servicio} escuchando en {esquema}://127.0.0.1:{puerto}"
    )?;
    salida.flush()?;
    Ok(listener)
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM (`docker stop`).
pub async fn senal_de_parada() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
