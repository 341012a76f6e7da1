//! [`Histograma`]: a distribution of durations in a fixed number of buckets, whatever how
//! many are added: logarithmic buckets four per doubling (each about 19% wide) from 1 µs to
//! about 12 days, with the exact count, sum, minimum and maximum beside them.

use comun::estadisticas::Distribucion;
use std::time::Duration;

/// Buckets per doubling of the duration.
const POR_DOBLE: f64 = 4.0;
/// Buckets: 2^(160/4) µs ≈ 12.7 days; longer durations land in the last one.
const CUBETAS: usize = 160;

/// Durations, in microseconds, bucketed.
#[derive(Debug, Clone)]
pub struct Histograma {
    cubetas: Box<[u64; CUBETAS]>,
    n: u64,
    suma_us: u128,
    min_us: u64,
    max_us: u64,
}

impl Default for Histograma {
    fn default() -> Self {
        Histograma {
            cubetas: Box::new([0; CUBETAS]),
            n: 0,
            suma_us: 0,
            min_us: u64::MAX,
            max_us: 0,
        }
    }
}

/// The bucket of a duration of `us` microseconds: `floor(log2(us) · 4)`.
fn cubeta(us: u64) -> usize {
    if us <= 1 {
        return 0;
    }
    ((us as f64).log2() * POR_DOBLE) as usize
}

impl Histograma {
    pub fn agregar(&mut self, d: Duration) {
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        self.cubetas[cubeta(us).min(CUBETAS - 1)] += 1;
        self.n += 1;
        self.suma_us += u128::from(us);
        self.min_us = self.min_us.min(us);
        self.max_us = self.max_us.max(us);
    }

    pub fn muestras(&self) -> u64 {
        self.n
    }

    /// Samples below `2^(k/4)` µs, the lower bound of bucket `k`: exact, as no bucket
    /// straddles it. `GET /metrics` exposes these as cumulative buckets.
    pub fn bajo_cubeta(&self, k: usize) -> u64 {
        self.cubetas[..k.min(CUBETAS)].iter().sum()
    }

    /// The lower bound of bucket `k`, in seconds.
    pub fn limite_s(k: usize) -> f64 {
        2f64.powf(k as f64 / POR_DOBLE) / 1e6
    }

    /// The sum of the samples, in seconds.
    pub fn suma_s(&self) -> f64 {
        self.suma_us as f64 / 1e6
    }

    /// The duration below which a fraction `q` of the samples fall: the geometric middle of
    /// the bucket holding that rank, clamped to the exact minimum and maximum. 0 when empty.
    pub fn percentil(&self, q: f64) -> Duration {
        if self.n == 0 {
            return Duration::ZERO;
        }
        let rango = ((q * self.n as f64).ceil() as u64).clamp(1, self.n);
        let mut acumulado = 0;
        let mut i = CUBETAS - 1;
        for (j, &c) in self.cubetas.iter().enumerate() {
            acumulado += c;
            if acumulado >= rango {
                i = j;
                break;
            }
        }
        // Bucket 0 holds 0 and 1 µs: its floor is the minimum; the last one holds everything
        // longer: its ceiling is the maximum.
        let medio = match i {
            0 => 0.0,
            i if i == CUBETAS - 1 => f64::MAX,
            i => 2f64.powf((i as f64 + 0.5) / POR_DOBLE),
        };
        let us = (medio as u64).clamp(self.min_us, self.max_us);
        Duration::from_micros(us)
    }

    /// Count, mean, p50, p95 and maximum, in seconds.
    pub fn distribucion(&self) -> Distribucion {
        if self.n == 0 {
            return Distribucion::default();
        }
        Distribucion {
            muestras: self.n,
            media_s: self.suma_us as f64 / self.n as f64 / 1e6,
            p50_s: self.percentil(0.50).as_secs_f64(),
            p95_s: self.percentil(0.95).as_secs_f64(),
            max_s: self.max_us as f64 / 1e6,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    #[test]
    fn mean_and_maximum_are_exact_and_percentiles_within_a_bucket() {
        let mut h = Histograma::default();
        for v in 1..=100 {
            h.agregar(ms(v));
        }
        let d = h.distribucion();
        assert_eq!(d.muestras, 100);
        assert!((d.media_s - 0.0505).abs() < 1e-9, "{d:?}");
        assert_eq!(d.max_s, 0.1);
        // Each bucket is 2^(1/4) ≈ 1.19 wide: the estimate is within 19% of the truth.
        assert!((d.p50_s / 0.050 - 1.0).abs() < 0.19, "{d:?}");
        assert!((d.p95_s / 0.095 - 1.0).abs() < 0.19, "{d:?}");
    }

    #[test]
    fn one_value_is_every_percentile() {
        let mut h = Histograma::default();
        h.agregar(ms(250));
        for q in [0.0, 0.5, 0.95, 1.0] {
            assert_eq!(h.percentil(q), ms(250), "q={q}");
        }
    }

    #[test]
    fn extreme_durations_stay_in_range() {
        let mut h = Histograma::default();
        h.agregar(Duration::ZERO);
        h.agregar(Duration::from_secs(100 * 24 * 3600));
        assert_eq!(h.percentil(0.0), Duration::ZERO);
        assert_eq!(h.percentil(1.0), Duration::from_secs(100 * 24 * 3600));
        assert_eq!(h.muestras(), 2);
    }

    #[test]
    fn an_empty_histogram_says_zero() {
        assert_eq!(
            Histograma::default().distribucion(),
            Distribucion::default()
        );
    }
}
