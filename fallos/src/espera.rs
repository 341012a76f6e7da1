//! Waiting for conditions with a deadline: poll often, fail loudly, never sleep and hope.

use std::future::Future;
use std::time::{Duration, Instant};

/// How often a condition is checked.
const SONDEO: Duration = Duration::from_millis(25);

/// Polls `f` until it holds; panics naming `que` after `plazo`.
pub async fn esperar_hasta<F, Fut>(plazo: Duration, que: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    esperar_a(plazo, que, || {
        let fut = f();
        async move { fut.await.then_some(()) }
    })
    .await
}

/// Polls `f` until it gives a value; panics naming `que` after `plazo`.
pub async fn esperar_a<T, F, Fut>(plazo: Duration, que: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let limite = Instant::now() + plazo;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            Instant::now() < limite,
            "timed out after {plazo:?} waiting until {que}"
        );
        tokio::time::sleep(SONDEO).await;
    }
}

/// Checks that `f` holds at every poll for the whole of `durante` (a condition that must stay
/// true, like "these jobs keep waiting"); panics naming `que` the first time it does not.
pub async fn sostener<F, Fut>(durante: Duration, que: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let limite = Instant::now() + durante;
    while Instant::now() < limite {
        if let Err(e) = f().await {
            panic!("expected {que} for {durante:?}, but: {e}");
        }
        tokio::time::sleep(SONDEO).await;
    }
}
