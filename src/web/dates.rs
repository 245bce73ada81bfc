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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_text_as_the_chrono_patterns() {
        let t = chrono::NaiveDate::from_ymd_opt(2026, 1, 5).unwrap().and_hms_micro_opt(7, 8, 9, 123).unwrap();
        assert_eq!(minute(&t).to_string(), t.format("%Y-%m-%d %H:%M").to_string());
        assert_eq!(iso(&t).to_string(), t.format("%Y-%m-%dT%H:%M:%SZ").to_string());
    }
}
