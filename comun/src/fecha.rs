//! Instants as people and the orchestrator's scripts read them.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

fn utc(ms: u64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// An instant (ms since the Unix epoch) in ISO 8601, UTC: `2026-11-29T12:03:07.123Z`.
pub fn iso8601(ms: u64) -> String {
    let t = utc(ms - ms % 1000).replace_millisecond((ms % 1000) as u16);
    t.ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// An instant's UTC year, month, day, hour, minute and second.
fn campos(ms: u64) -> (i32, u8, u8, u8, u8, u8) {
    let t = utc(ms);
    let (h, mi, s) = t.to_hms();
    (t.year(), u8::from(t.month()), t.day(), h, mi, s)
}

/// An instant as people read it on a page: `2026-11-29 12:03:07 UTC` (whole seconds).
pub fn legible(ms: u64) -> String {
    let (a, m, d, h, mi, s) = campos(ms);
    format!("{a:04}-{m:02}-{d:02} {h:02}:{mi:02}:{s:02} UTC")
}

/// An instant as a file name's prefix, sorting in time order: `20261129T120307Z`.
pub fn para_archivo(ms: u64) -> String {
    let (a, m, d, h, mi, s) = campos(ms);
    format!("{a:04}{m:02}{d:02}T{h:02}{mi:02}{s:02}Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_are_written_in_utc() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(1_795_954_987_123), "2026-11-29T12:23:07.123Z");
        assert_eq!(para_archivo(1_795_954_987_123), "20261129T122307Z");
        assert_eq!(para_archivo(951_782_400_000), "20000229T000000Z");
    }
}
