//! Logs of a service under test, printed with the test's output only when `TEST_LOG` is set
//! (`TEST_LOG=1 cargo test -p esclavo`).

/// Installs a log subscriber writing to the test output, filtered by `RUST_LOG` or else by
/// `filtro` (e.g. `"esclavo=debug"`), when `TEST_LOG` is set; otherwise does nothing.
pub fn iniciar_logs(filtro: &str) {
    if std::env::var_os("TEST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| filtro.into()),
            )
            .with_test_writer()
            .try_init();
    }
}
