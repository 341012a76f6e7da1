//! The recent samples: a ring buffer of fixed capacity, oldest dropped first.

use std::collections::VecDeque;

use comun::memoria::Muestra;

/// Most samples memory is set aside for at start; a larger buffer grows as it fills.
const RESERVA_INICIAL: usize = 1024;

/// The latest `capacidad` samples, oldest first.
#[derive(Debug, Clone)]
pub struct Historial {
    /// Most samples kept (at least 1).
    capacidad: usize,
    /// The samples, oldest at the front; never longer than `capacidad`.
    muestras: VecDeque<Muestra>,
}

impl Historial {
    /// An empty history keeping at most `capacidad` samples (0 is taken as 1).
    pub fn new(capacidad: usize) -> Self {
        let capacidad = capacidad.max(1);
        Self {
            capacidad,
            muestras: VecDeque::with_capacity(capacidad.min(RESERVA_INICIAL)),
        }
    }

    /// Adds the newest sample, dropping the oldest when full.
    pub fn agregar(&mut self, muestra: Muestra) {
        if self.muestras.len() == self.capacidad {
            self.muestras.pop_front();
        }
        self.muestras.push_back(muestra);
    }

    /// The newest sample, if any was taken.
    pub fn ultima(&self) -> Option<&Muestra> {
        self.muestras.back()
    }

    /// The samples taken at or after `desde_ms` (all of them for `None`), oldest first.
    pub fn desde(&self, desde_ms: Option<u64>) -> Vec<Muestra> {
        let desde_ms = desde_ms.unwrap_or(0);
        self.muestras
            .iter()
            .filter(|m| m.instante_ms >= desde_ms)
            .cloned()
            .collect()
    }

    pub fn capacidad(&self) -> usize {
        self.capacidad
    }

    pub fn len(&self) -> usize {
        self.muestras.len()
    }

    pub fn is_empty(&self) -> bool {
        self.muestras.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn en(instante_ms: u64) -> Muestra {
        Muestra {
            instante_ms,
            ..Muestra::default()
        }
    }

    #[test]
    fn keeps_the_newest_samples_within_its_capacity_over_a_long_run() {
        let mut h = Historial::new(720);
        for i in 0..100_000 {
            h.agregar(en(i));
            assert!(h.len() <= 720);
        }
        let instantes: Vec<u64> = h.desde(None).iter().map(|m| m.instante_ms).collect();
        assert_eq!(instantes, (100_000 - 720..100_000).collect::<Vec<_>>());
        assert_eq!(h.ultima().unwrap().instante_ms, 99_999);
        assert!(h.muestras.capacity() < 2 * 720, "no unbounded growth");
    }

    #[test]
    fn desde_keeps_samples_at_or_after_the_instant() {
        let mut h = Historial::new(10);
        assert!(h.ultima().is_none() && h.is_empty());
        for i in [10, 20, 30, 40] {
            h.agregar(en(i));
        }
        let instantes = |d| -> Vec<u64> { h.desde(d).iter().map(|m| m.instante_ms).collect() };
        assert_eq!(instantes(Some(20)), [20, 30, 40]);
        assert_eq!(instantes(Some(21)), [30, 40]);
        assert_eq!(instantes(Some(41)), Vec::<u64>::new());
        assert_eq!(instantes(Some(0)), [10, 20, 30, 40]);
    }

    #[test]
    fn a_capacity_of_zero_keeps_one_sample() {
        let mut h = Historial::new(0);
        h.agregar(en(1));
        h.agregar(en(2));
        assert_eq!((h.capacidad(), h.len()), (1, 1));
        assert_eq!(h.ultima().unwrap().instante_ms, 2);
    }
}
