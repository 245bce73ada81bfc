//! How pages write times (UTC). Written out by hand: chrono's `format` parses its
//! pattern again for every value, which showed up when a list page prints four
//! times for each of hundreds of rows.

use std::fmt;

use chrono::{Datelike, NaiveDateTime, Timelike};

/// `2026-11-25 14:05`: what a person reads.
pub struct Minute(NaiveDateTime);

/// `2026-11-25T14:05:09Z`: the `datetime` attribute of a `<time>` element.
pub struct Iso(NaiveDateTime);

pub fn minute(t: &NaiveDateTime) -> Minute {
    Minute(*t)
}

pub fn iso(t: &NaiveDateTime) -> Iso {
    Iso(*t)
}

impl fmt::Display for Minute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.0;
        write!(f, "{:04}-{:02}-{:02} {:02}:{:02}", t.year(), t.month(), t.day(), t.hour(), t.minute())
    }
}

impl fmt::Display for Iso {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.0;
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )
    }
}

/// How long ago `t` was, in the largest unit that fits: "4 min", "3 h 5 min", "2 d 4 h".
pub fn waited(t: &NaiveDateTime) -> String {
    waited_until(t, &crate::domain::now())
}

pub fn waited_until(t: &NaiveDateTime, now: &NaiveDateTime) -> String {
    let minutes = (*now - *t).num_minutes().max(0);
    let (days, hours, mins) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    match (days, hours) {
        (0, 0) if mins == 0 => "just now".into(),
        (0, 0) => format!("{mins} min"),
        (0, h) if mins == 0 => format!("{h} h"),
        (0, h) => format!("{h} h {mins} min"),
        (d, 0) => format!("{d} d"),
        (d, h) => format!("{d} d {h} h"),
    }
}

/// Waiting a day or more: the row is marked.
pub fn waited_long(t: &NaiveDateTime) -> bool {
    (crate::domain::now() - *t).num_hours() >= 24
}

/// Dates outside these years are typing errors, and far enough from chrono's limits
/// that a month before or a year after is still a date.
use chrono::NaiveDate;

use crate::domain::days::{DayRange, RangeRefused};

const FIRST_YEAR: i32 = 1970;
const LAST_YEAR: i32 = 9999;

/// A day as typed in a form (`2026-01-31`); the error finishes "From ..." or "To ...".
pub fn parse_day(s: &str) -> Result<chrono::NaiveDate, String> {
    match chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d") {
        Ok(d) if (FIRST_YEAR..=LAST_YEAR).contains(&chrono::Datelike::year(&d)) => Ok(d),
        Ok(_) => Err(format!("must be a date between {FIRST_YEAR} and {LAST_YEAR}, not \"{s}\".")),
        Err(_) => Err(format!("must be a date like 2026-01-31, not \"{s}\".")),
    }
}

/// A From–To pair of day fields as a form sent them: the range, or the errors
/// beside the fields, and the text each field shows again.
pub struct RangeForm {
    pub range: Option<DayRange>,
    pub from_text: String,
    pub to_text: String,
    pub errors: Vec<(&'static str, String)>,
}

impl RangeForm {
    /// Reads the two fields. A range that cannot be shown keeps what was typed:
    /// showing some other range instead would read as the one asked for.
    /// `too_long` says, for this page, that a range is longer than it shows.
    pub fn read(from: Option<&str>, to: Option<&str>, today: NaiveDate, too_long: &str) -> RangeForm {
        let mut errors = Vec::new();
        let mut field = |raw: Option<&str>, name: &'static str, label: &str| {
            let typed = raw.map(str::trim).filter(|s| !s.is_empty())?;
            parse_day(typed).map_err(|why| errors.push((name, format!("{label} {why}")))).ok()
        };
        let (from_day, to_day) = (field(from, "from", "From"), field(to, "to", "To"));
        let range = if errors.is_empty() {
            DayRange::new(from_day, to_day, today)
                .map_err(|refused| {
                    let why = match refused {
                        RangeRefused::Backwards => "From must not be after To.".to_string(),
                        RangeRefused::TooLong => too_long.to_string(),
                    };
                    errors.push(("from", why));
                })
                .ok()
        } else {
            None
        };
        let (shown_from, shown_to) = DayRange::asked(from_day, to_day, today);
        let text = |raw: Option<&str>, day: NaiveDate| match raw.map(str::trim) {
            Some(s) if !s.is_empty() && range.is_none() => s.to_string(),
            _ => day.format("%Y-%m-%d").to_string(),
        };
        RangeForm { from_text: text(from, shown_from), to_text: text(to, shown_to), range, errors }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Any text is a day in range, or a message; a day in range survives a year of
        /// arithmetic either way (the statistics page's ranges).
        #[test]
        fn any_text_is_a_day_or_a_message(s in any::<String>()) {
            if let Ok(d) = parse_day(&s) {
                prop_assert!(d.checked_add_signed(chrono::Duration::days(400)).is_some());
                prop_assert!(d.checked_sub_signed(chrono::Duration::days(400)).is_some());
            }
        }

        #[test]
        fn typed_dates_read_back(y in 1970i32..=9999, m in 1u32..=12, d in 1u32..=28) {
            let text = format!("{y:04}-{m:02}-{d:02}");
            prop_assert_eq!(parse_day(&text).map(|x| x.format("%Y-%m-%d").to_string()), Ok(text));
        }
    }

    #[test]
    fn waiting_reads_in_the_largest_units() {
        let now = chrono::NaiveDate::from_ymd_opt(2026, 1, 5).unwrap().and_hms_opt(12, 0, 0).unwrap();
        let ago = |m: i64| waited_until(&(now - chrono::Duration::minutes(m)), &now);
        assert_eq!(ago(0), "just now");
        assert_eq!(ago(4), "4 min");
        assert_eq!(ago(120), "2 h");
        assert_eq!(ago(185), "3 h 5 min");
        assert_eq!(ago(2 * 1440), "2 d");
        assert_eq!(ago(2 * 1440 + 250), "2 d 4 h");
        assert_eq!(ago(-5), "just now");
    }

    #[test]
    fn same_text_as_the_chrono_patterns() {
        let t = chrono::NaiveDate::from_ymd_opt(2026, 1, 5).unwrap().and_hms_micro_opt(7, 8, 9, 123).unwrap();
        assert_eq!(minute(&t).to_string(), t.format("%Y-%m-%d %H:%M").to_string());
        assert_eq!(iso(&t).to_string(), t.format("%Y-%m-%dT%H:%M:%SZ").to_string());
    }
}
