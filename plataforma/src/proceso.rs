//! The process around a service: logging to stderr, the listening socket and its first output
//! line, the shutdown signal, and the instance number that tells one start from the next.

use std::hash::{BuildHasher as _, Hasher as _};
use std::io::{IsTerminal, Write};

use anyhow::Context;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

use crate::Transporte;

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

/// A number that differs between two starts of the process: the clock and the process id,
/// mixed by std's randomly keyed hasher. Kept below 2⁶³ so it fits a signed 64-bit column.
/// The maestro tells a restarted esclavo or memoria node from a reconnected one by it.
pub fn nueva_instancia() -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.write_u32(std::process::id());
    (h.finish() >> 1).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instances_differ_and_fit_a_signed_column() {
        let a = nueva_instancia();
        let b = nueva_instancia();
        assert_ne!(a, b);
        assert!(a <= i64::MAX as u64 && b <= i64::MAX as u64);
    }
}
