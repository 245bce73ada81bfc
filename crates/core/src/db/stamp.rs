//! Timestamps read from SQLite's text by hand.
//!
//! SQLite keeps a timestamp as text (`2026-06-06 07:59:14.937720`), and diesel reads
//! it with chrono's `parse_from_str`, which parses its pattern again for every value:
//! a page of a hundred API tickets spent 7 % of its time there. The models' hot
//! columns are read as `Stamp` (`#[diesel(deserialize_as = Stamp)]`), which reads
//! the one layout diesel writes directly and leaves anything else to diesel.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use diesel::deserialize::{self, FromSql, Queryable};
use diesel::sql_types::{Nullable, Timestamp};

use super::{Db, MultiRawValue};

/// A timestamp column (`Timestamp`), read fast on SQLite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, diesel::deserialize::FromSqlRow)]
pub struct Stamp(pub NaiveDateTime);

/// A nullable timestamp column (`Nullable<Timestamp>`), read as `Stamp` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaybeStamp(pub Option<NaiveDateTime>);

impl From<Stamp> for NaiveDateTime {
    fn from(s: Stamp) -> NaiveDateTime {
        s.0
    }
}

impl From<MaybeStamp> for Option<NaiveDateTime> {
    fn from(s: MaybeStamp) -> Option<NaiveDateTime> {
        s.0
    }
}

impl FromSql<Timestamp, Db> for Stamp {
    fn from_sql(value: MultiRawValue<'_>) -> deserialize::Result<Self> {
        match value {
            MultiRawValue::Sqlite(mut v) => match parse(v.read_text()) {
                Some(t) => Ok(Stamp(t)),
                // Julian days, or text some other program wrote: diesel knows them all.
                None => <NaiveDateTime as FromSql<Timestamp, diesel::sqlite::Sqlite>>::from_sql(v).map(Stamp),
            },
            other => other.from_sql::<NaiveDateTime, Timestamp>().map(Stamp),
        }
    }
}

impl Queryable<Nullable<Timestamp>, Db> for MaybeStamp {
    type Row = Option<Stamp>;

    fn build(row: Option<Stamp>) -> deserialize::Result<Self> {
        Ok(MaybeStamp(row.map(|s| s.0)))
    }
}

/// `YYYY-MM-DD HH:MM:SS` with an optional fraction of up to nine digits (a `T` may
/// stand for the space): the layout diesel writes. Anything else is `None`.
pub fn parse(s: &str) -> Option<NaiveDateTime> {
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b' ' | b'T') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<u32> {
        b[from..to].iter().try_fold(0u32, |n, &c| c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0')))
    };
    let nanos = match &b[19..] {
        [] => 0,
        [b'.', digits @ ..] if (1..=9).contains(&digits.len()) => {
            num(20, b.len())? * 10u32.pow(9 - digits.len() as u32)
        }
        _ => return None,
    };
    let date = NaiveDate::from_ymd_opt(num(0, 4)? as i32, num(5, 7)?, num(8, 10)?)?;
    let time = NaiveTime::from_hms_nano_opt(num(11, 13)?, num(14, 16)?, num(17, 19)?, nanos)?;
    Some(date.and_time(time))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn reads_what_diesel_writes() {
        let t = NaiveDate::from_ymd_opt(2026, 6, 6).and_then(|d| d.and_hms_micro_opt(7, 59, 14, 937_720));
        assert_eq!(parse("2026-06-06 07:59:14.937720"), t);
        assert_eq!(parse("2026-06-06T07:59:14.93772"), t);
        let whole = NaiveDate::from_ymd_opt(2026, 6, 6).and_then(|d| d.and_hms_opt(7, 59, 14));
        assert_eq!(parse("2026-06-06 07:59:14"), whole);
        for bad in ["2026-06-06", "2026-13-01 00:00:00", "2026-06-06 24:00:00", "2026-06-06 07:59:14.", "2459000.5"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    proptest! {
        /// Every time chrono writes in diesel's layout reads back as itself.
        #[test]
        fn reads_back_any_time(secs in -2_000_000_000i64..40_000_000_000, nanos in 0u32..1_000_000_000) {
            if let Some(t) = chrono::DateTime::from_timestamp(secs, nanos).map(|d| d.naive_utc()) {
                prop_assert_eq!(parse(&t.format("%F %T%.f").to_string()), Some(t));
            }
        }

        #[test]
        fn any_text_reads_or_not(s in ".{0,40}") {
            let _ = parse(&s);
        }
    }
}
