//! Exponential backoff for talking to a maestro that may be down, with quiet logging: the one
//! retry policy of every loop that calls it (an esclavo's registration and results, a memoria
//! node's reports).

use std::time::Duration;

/// First wait after a failure.
const INICIAL: Duration = Duration::from_millis(100);
/// Longest wait between two tries.
const TOPE: Duration = Duration::from_secs(5);

/// Backoff state of one retry loop: 100 ms doubling up to 5 s, reset by a success.
#[derive(Debug, Clone)]
pub struct Reintento {
    /// The wait before the next try.
    espera: Duration,
    /// Failures since the last success, to log the first and then every tenth only.
    fallos: u32,
}

impl Default for Reintento {
    fn default() -> Self {
        Self::new()
    }
}

impl Reintento {
    pub fn new() -> Self {
        Self {
            espera: INICIAL,
            fallos: 0,
        }
    }

    /// Records a failure and returns how long to wait before trying again.
    pub fn fallo(&mut self) -> Duration {
        self.fallos = self.fallos.saturating_add(1);
        let espera = self.espera;
        self.espera = (self.espera * 2).min(TOPE);
        espera
    }

    /// Failures since the last success.
    pub fn fallos(&self) -> u32 {
        self.fallos
    }

    /// Whether the failure just recorded deserves a log line: the first, then every tenth.
    pub fn merece_log(&self) -> bool {
        self.fallos == 1 || self.fallos.is_multiple_of(10)
    }

    /// A failed try: counts it, lets `anotar` log it (with the failures so far) when it
    /// deserves a line ([`merece_log`](Self::merece_log)), and waits the backoff. The caller
    /// logs, so the line keeps the caller's target and fields.
    pub async fn esperar_tras_fallo(&mut self, anotar: impl FnOnce(u32)) {
        let espera = self.fallo();
        if self.merece_log() {
            anotar(self.fallos);
        }
        tokio::time::sleep(espera).await;
    }

    /// Records a success: the next failure starts from the shortest wait again.
    pub fn exito(&mut self) {
        *self = Self::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_the_cap_and_reset_on_success() {
        let mut r = Reintento::new();
        let esperas: Vec<_> = (0..8).map(|_| r.fallo().as_millis()).collect();
        assert_eq!(esperas, [100, 200, 400, 800, 1600, 3200, 5000, 5000]);
        r.exito();
        assert_eq!(r.fallo(), INICIAL);
    }

    #[test]
    fn logs_the_first_failure_and_every_tenth() {
        let mut r = Reintento::new();
        let logueados: Vec<u32> = (0..30)
            .filter_map(|_| {
                r.fallo();
                r.merece_log().then_some(r.fallos())
            })
            .collect();
        assert_eq!(logueados, [1, 10, 20, 30]);
    }
}
