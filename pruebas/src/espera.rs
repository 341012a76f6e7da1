//! Waiting for a condition with a deadline: poll often, fail loudly naming what was awaited,
//! never sleep and hope. One polling loop ([`sondear`]) serves every form.
//!
//! A condition is a closure returning a future (`|| async { … }`), also when it needs no
//! `.await`: that form, unlike an `async ||` closure, keeps the wait `Send` where a scenario
//! spawns it.

use std::future::Future;
use std::time::{Duration, Instant};

/// How often a condition is checked.
pub const SONDEO: Duration = Duration::from_millis(20);

/// Polls `f` every [`SONDEO`] until it gives a value, and returns it; `None` once `plazo` has
/// passed (`f` is always tried at least once, and once more after the deadline).
pub async fn sondear<T, F, Fut>(plazo: Duration, mut f: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let limite = Instant::now() + plazo;
    loop {
        if let Some(v) = f().await {
            return Some(v);
        }
        if Instant::now() >= limite {
            return None;
        }
        tokio::time::sleep(SONDEO).await;
    }
}

/// Polls `f` until it gives a value; panics naming `que` after `plazo`.
pub async fn esperar_a<T, F, Fut>(plazo: Duration, que: &str, f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    sondear(plazo, f)
        .await
        .unwrap_or_else(|| panic!("timed out after {plazo:?} waiting until {que}"))
}

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

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    #[tokio::test]
    async fn a_condition_that_holds_is_taken_at_the_first_poll() {
        let veces = Cell::new(0);
        let v = sondear(Duration::ZERO, || async {
            veces.set(veces.get() + 1);
            Some(7)
        })
        .await;
        assert_eq!((v, veces.get()), (Some(7), 1));
    }

    #[tokio::test]
    async fn a_condition_that_never_holds_is_given_up_after_the_deadline_and_a_last_try() {
        let veces = Cell::new(0);
        let inicio = Instant::now();
        let v: Option<()> = sondear(Duration::from_millis(100), || async {
            veces.set(veces.get() + 1);
            None
        })
        .await;
        assert!(v.is_none());
        assert!(inicio.elapsed() >= Duration::from_millis(100));
        assert!(veces.get() >= 2, "tried {} times", veces.get());
    }

    #[tokio::test]
    #[should_panic(expected = "waiting until the impossible happens")]
    async fn a_wait_that_times_out_names_what_it_waited_for() {
        esperar_hasta(
            Duration::from_millis(50),
            "the impossible happens",
            || async { false },
        )
        .await;
    }

    #[tokio::test]
    #[should_panic(expected = "expected calm for")]
    async fn a_condition_that_must_hold_fails_the_first_time_it_does_not() {
        sostener(Duration::from_secs(10), "calm", || async {
            Err("a storm".to_owned())
        })
        .await;
    }
}
