//! A range of whole days a page shows (an affiliate's statistics, the reports): by
//! default the 30 days ending today, never backwards, at most a year and a day.

use chrono::{Duration, NaiveDate};

/// The longest range shown at once.
pub const MAX_DAYS: i64 = 366;
/// The range shown when none is asked for, ending today.
pub const DEFAULT_DAYS: i64 = 30;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DayRange {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// Why the days asked for make no range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RangeRefused {
    /// From is after To.
    Backwards,
    /// More than `MAX_DAYS` days.
    TooLong,
}

impl DayRange {
    /// The days asked for, with the defaults where none was given: To is today, From
    /// the first of the `DEFAULT_DAYS` ending at To.
    pub fn asked(from: Option<NaiveDate>, to: Option<NaiveDate>, today: NaiveDate) -> (NaiveDate, NaiveDate) {
        let to = to.unwrap_or(today);
        (from.unwrap_or(to - Duration::days(DEFAULT_DAYS - 1)), to)
    }

    /// The range asked for, or why there is none.
    pub fn new(from: Option<NaiveDate>, to: Option<NaiveDate>, today: NaiveDate) -> Result<DayRange, RangeRefused> {
        let (from, to) = DayRange::asked(from, to, today);
        if from > to {
            Err(RangeRefused::Backwards)
        } else if (to - from).num_days() >= MAX_DAYS {
            Err(RangeRefused::TooLong)
        } else {
            Ok(DayRange { from, to })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn defaults_backwards_and_a_year() {
        let today = day("2026-12-06");
        assert_eq!(DayRange::new(None, None, today), Ok(DayRange { from: day("2026-11-07"), to: today }));
        assert_eq!(DayRange::new(Some(day("2026-12-07")), None, today), Err(RangeRefused::Backwards));
        let year = DayRange::new(Some(day("2025-12-06")), None, today);
        assert_eq!(year, Ok(DayRange { from: day("2025-12-06"), to: today }), "366 days is allowed");
        assert_eq!(DayRange::new(Some(day("2025-12-05")), None, today), Err(RangeRefused::TooLong));
    }
}
