//! Reading the timestamps the API and the events carry: RFC 3339 in UTC, as chrono writes
//! them (`2026-11-28T09:30:00.123456Z`).
//!
//! chrono's own reader is a general one (format items, RFC 2822, the relaxed forms): 30 KB of
//! the WASM for the one shape the server writes. Every timestamp field the browser decodes
//! says `#[serde(deserialize_with = "crate::timestamp::utc")]` (or `utc_opt`), which reads
//! that shape ([`parse`]) and, on the server only, falls back to chrono's reader, so a client
//! may still send anything chrono took before.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use serde::de::{self, Deserializer, Visitor};
use std::fmt;

/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, the separator `T`, `t` or a space; `None` for
/// anything else (a leap second included). Digits of the fraction past nanoseconds are
/// ignored, as chrono ignores them.
pub fn parse(text: &str) -> Option<DateTime<Utc>> {
    let b = text.as_bytes();
    let num = |from: usize, to: usize| -> Option<u32> {
        b.get(from..to)?.iter().try_fold(0u32, |n, &c| c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0')))
    };
    let at = |i: usize, expected: &[u8]| b.get(i).is_some_and(|c| expected.contains(c));
    if !(at(4, b"-") && at(7, b"-") && at(10, b"Tt ") && at(13, b":") && at(16, b":")) {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(i32::try_from(num(0, 4)?).ok()?, num(5, 7)?, num(8, 10)?)?;
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    let mut i = 19;
    let mut nano = 0;
    if at(i, b".") {
        let start = i + 1;
        i = start;
        while at(i, b"0123456789") {
            i += 1;
        }
        let kept = (i - start).min(9);
        if kept == 0 {
            return None;
        }
        nano = num(start, start + kept)? * 10u32.pow(9 - kept as u32);
    }
    let offset_secs = match b.get(i..)? {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let (h, m) = (num(i + 1, i + 3)?, num(i + 4, i + 6)?);
            if h > 23 || m > 59 {
                return None;
            }
            let secs = i64::from(h * 3600 + m * 60);
            if *sign == b'-' { -secs } else { secs }
        }
        _ => return None,
    };
    let local = date.and_hms_nano_opt(hour, minute, second, nano)?;
    Some(Utc.from_utc_datetime(&local.checked_sub_signed(Duration::seconds(offset_secs))?))
}

/// A timestamp field: `#[serde(deserialize_with = "crate::timestamp::utc")]`.
pub fn utc<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
    deserializer.deserialize_str(Rfc3339)
}

/// An optional timestamp field (`null` or absent is `None`):
/// `#[serde(default, deserialize_with = "crate::timestamp::utc_opt")]`.
pub fn utc_opt<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    deserializer.deserialize_option(Optional)
}

struct Rfc3339;

impl Visitor<'_> for Rfc3339 {
    type Value = DateTime<Utc>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an RFC 3339 timestamp")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        #[cfg(feature = "ssr")]
        let read = parse(text).or_else(|| text.parse().ok());
        #[cfg(not(feature = "ssr"))]
        let read = parse(text);
        read.ok_or_else(|| E::invalid_value(de::Unexpected::Str(text), &self))
    }
}

struct Optional;

impl<'de> Visitor<'de> for Optional {
    type Value = Option<DateTime<Utc>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an RFC 3339 timestamp or null")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        utc(deserializer).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::SecondsFormat;
    use serde::Deserialize;

    fn chronos(text: &str) -> Option<DateTime<Utc>> {
        text.parse::<DateTime<chrono::FixedOffset>>().ok().map(|t| t.with_timezone(&Utc))
    }

    #[test]
    fn every_timestamp_the_server_writes_reads_back_as_chrono_reads_it() {
        let instants = [
            Utc.with_ymd_and_hms(2026, 11, 28, 9, 30, 0).unwrap(),
            Utc.with_ymd_and_hms(2024, 2, 29, 23, 59, 59).unwrap() + Duration::nanoseconds(999_999_999),
            Utc.with_ymd_and_hms(1999, 12, 31, 0, 0, 1).unwrap() + Duration::milliseconds(120),
            Utc.with_ymd_and_hms(2030, 1, 1, 12, 0, 0).unwrap() + Duration::microseconds(5),
        ];
        for instant in instants {
            let written = serde_json::to_string(&instant).unwrap();
            let text = written.trim_matches('"');
            assert_eq!(parse(text), Some(instant), "{text}");
            for form in [SecondsFormat::Secs, SecondsFormat::Millis, SecondsFormat::Micros, SecondsFormat::Nanos] {
                for zulu in [true, false] {
                    let text = instant.to_rfc3339_opts(form, zulu);
                    assert_eq!(parse(&text), chronos(&text), "{text}");
                    assert!(parse(&text).is_some(), "{text}");
                }
            }
        }
    }

    #[test]
    fn other_offsets_and_separators_read_as_chrono_reads_them_and_nonsense_is_refused() {
        let read = [
            "2026-11-28T10:30:00+01:00",
            "2026-11-28t09:30:00z",
            "2026-11-28 09:30:00Z",
            "2026-11-28T01:00:00-08:30",
            "2026-11-28T09:30:00.1234567891234Z",
            "2026-01-01T00:30:00+05:45",
        ];
        for text in read {
            assert!(parse(text).is_some(), "{text}");
            assert_eq!(parse(text), chronos(text), "{text}");
        }
        let refused = [
            "",
            "2026-11-28",
            "2026-11-28T09:30:00",
            "2026-11-28T09:30Z",
            "2026-02-30T09:30:00Z",
            "2026-11-28T24:00:00Z",
            "2026-11-28T09:60:00Z",
            "2026-11-28T09:30:00.Z",
            "2026-11-28T09:30:00Z ",
            "2026-11-28T09:30:00+1:00",
            "2026-11-28T09:30:00+24:00",
            "2026-11-28T09:30:00+0100",
            "２026-11-28T09:30:00Z",
            "+2026-11-28T09:30:00Z",
        ];
        for text in refused {
            assert_eq!(parse(text), None, "{text}");
        }
    }

    #[derive(Debug, Deserialize)]
    struct Fields {
        #[serde(deserialize_with = "utc")]
        at: DateTime<Utc>,
        #[serde(default, deserialize_with = "utc_opt")]
        maybe: Option<DateTime<Utc>>,
    }

    #[test]
    fn fields_read_with_it_take_null_and_absence_and_explain_a_bad_value() {
        let f: Fields = serde_json::from_str(r#"{"at":"2026-11-28T09:30:00Z","maybe":"2026-11-28T10:00:00Z"}"#).unwrap();
        assert_eq!(f.at, Utc.with_ymd_and_hms(2026, 11, 28, 9, 30, 0).unwrap());
        assert_eq!(f.maybe, Some(Utc.with_ymd_and_hms(2026, 11, 28, 10, 0, 0).unwrap()));
        let f: Fields = serde_json::from_str(r#"{"at":"2026-11-28T09:30:00Z","maybe":null}"#).unwrap();
        assert_eq!(f.maybe, None);
        let f: Fields = serde_json::from_str(r#"{"at":"2026-11-28T09:30:00Z"}"#).unwrap();
        assert_eq!(f.maybe, None);
        let bad = serde_json::from_str::<Fields>(r#"{"at":"yesterday"}"#).unwrap_err().to_string();
        assert!(bad.contains("an RFC 3339 timestamp"), "{bad}");
        assert!(serde_json::from_str::<Fields>(r#"{"at":5}"#).is_err());
    }
}
