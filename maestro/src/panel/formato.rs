//! How the dashboard writes numbers for people: instants in UTC, durations, bytes,
//! percentages.

/// An instant (ms since the Unix epoch) as `2026-11-29 12:03:07 UTC`.
pub use comun::fecha::legible as instante;

/// A duration in milliseconds, as `850 ms`, `12.3 s`, `4 min 05 s`, `2 h 03 min`.
pub fn duracion_ms(ms: u64) -> String {
    match ms {
        0..1_000 => format!("{ms} ms"),
        1_000..60_000 => format!("{:.1} s", ms as f64 / 1000.0),
        60_000..3_600_000 => format!("{} min {:02} s", ms / 60_000, ms % 60_000 / 1000),
        _ => format!("{} h {:02} min", ms / 3_600_000, ms % 3_600_000 / 60_000),
    }
}

/// A size in bytes, in binary units: `512 B`, `3.2 GiB`.
pub fn bytes(n: u64) -> String {
    const UNIDADES: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNIDADES.len() {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.1} {}", UNIDADES[u])
}

/// `usado` of `total` in percent (0 when there is no total).
pub fn porcentaje(usado: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        usado as f64 * 100.0 / total as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_are_written_in_utc() {
        assert_eq!(instante(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(instante(951_782_400_000), "2000-02-29 00:00:00 UTC");
        assert_eq!(instante(1_795_954_987_000), "2026-11-29 12:23:07 UTC");
    }

    #[test]
    fn durations_and_sizes_read_at_a_glance() {
        assert_eq!(duracion_ms(850), "850 ms");
        assert_eq!(duracion_ms(12_340), "12.3 s");
        assert_eq!(duracion_ms(245_000), "4 min 05 s");
        assert_eq!(duracion_ms(7_380_000), "2 h 03 min");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(3 * 1024 * 1024 * 1024 + 200 * 1024 * 1024), "3.2 GiB");
        assert_eq!(porcentaje(1, 0), 0.0);
        assert_eq!(porcentaje(1, 4), 25.0);
    }
}
