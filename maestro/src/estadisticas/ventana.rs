//! [`Ventana`]: sums per second over the last minute in a fixed ring, whatever how much is
//! added: jobs finished per second, and each esclavo's busy slot-milliseconds.

/// Seconds the window spans.
pub const SEGUNDOS: u64 = 60;

/// Per-second sums of the last [`SEGUNDOS`] seconds, each bucket stamped with its second.
#[derive(Debug, Clone)]
pub struct Ventana {
    /// `(second, sum)`; bucket `s % SEGUNDOS` holds second `s` if its stamp says so.
    cubetas: [(u64, u64); SEGUNDOS as usize],
}

impl Default for Ventana {
    fn default() -> Self {
        Ventana {
            cubetas: [(u64::MAX, 0); SEGUNDOS as usize],
        }
    }
}

impl Ventana {
    /// Adds `valor` to second `segundo` (seconds since some fixed origin).
    pub fn sumar(&mut self, segundo: u64, valor: u64) {
        let c = &mut self.cubetas[(segundo % SEGUNDOS) as usize];
        if c.0 != segundo {
            *c = (segundo, 0);
        }
        c.1 += valor;
    }

    /// Adds the milliseconds of `[desde_ms, hasta_ms)` (since the origin) to the seconds they
    /// fall in; only the part within the window ending at `hasta_ms` counts.
    pub fn sumar_intervalo(&mut self, desde_ms: u64, hasta_ms: u64) {
        let desde_ms = desde_ms.max(hasta_ms.saturating_sub(SEGUNDOS * 1000));
        let mut t = desde_ms;
        while t < hasta_ms {
            let fin = ((t / 1000 + 1) * 1000).min(hasta_ms);
            self.sumar(t / 1000, fin - t);
            t = fin;
        }
    }

    /// The sum over the last [`SEGUNDOS`] seconds up to and including `ahora`.
    pub fn total(&self, ahora: u64) -> u64 {
        let desde = ahora.saturating_sub(SEGUNDOS - 1);
        self.cubetas
            .iter()
            .filter(|(s, _)| (desde..=ahora).contains(s))
            .map(|(_, v)| v)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_last_minute_counts() {
        let mut v = Ventana::default();
        v.sumar(0, 5);
        v.sumar(30, 2);
        v.sumar(30, 1);
        assert_eq!(v.total(30), 8);
        assert_eq!(v.total(59), 8);
        assert_eq!(v.total(60), 3, "second 0 left the window");
        assert_eq!(v.total(89), 3);
        v.sumar(90, 4);
        assert_eq!(v.total(90), 4, "second 30 left the window of 90");
        assert_eq!(v.total(1000), 0);
    }

    #[test]
    fn an_interval_spreads_over_its_seconds_and_is_cut_to_the_window() {
        let mut v = Ventana::default();
        v.sumar_intervalo(500, 2_250);
        assert_eq!(v.total(2), 1_750);
        let mut larga = Ventana::default();
        larga.sumar_intervalo(0, 3_600_000);
        assert_eq!(larga.total(3_599), 60_000);
    }
}
