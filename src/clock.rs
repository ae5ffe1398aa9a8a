//! Wall-clock time as the server stores it: milliseconds since the Unix epoch (UTC).

use std::time::{SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;
use time::format_description::FormatItem;
use time::macros::format_description;

/// Milliseconds since the Unix epoch (UTC).
pub type Millis = i64;

/// Milliseconds in a day.
pub const DAY_MILLIS: Millis = 24 * 60 * 60 * 1000;

/// The current time.
pub fn now_millis() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis() as Millis)
        .unwrap_or_default()
}

/// RFC 3339 in UTC with exactly three fractional digits, so that timestamps also sort
/// as text.
const RFC3339_MILLIS: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// `at` as an RFC 3339 timestamp in UTC, e.g. `2026-11-22T10:15:30.120Z`.
pub fn rfc3339(at: Millis) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(at) * 1_000_000)
        .ok()
        .and_then(|time| time.format(RFC3339_MILLIS).ok())
        .unwrap_or_else(|| at.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_milliseconds_as_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_700_000_000_120), "2023-11-14T22:13:20.120Z");
    }
}
