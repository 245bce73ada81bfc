//! The network's working time: the days and hours its managers answer, in its time
//! zone. Targets ("answer within 4 business hours") and the times the reports
//! show are counted in it, so a ticket sent on Friday evening is not late on
//! Saturday.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use chrono_tz::Tz;

#[derive(Clone, Debug, PartialEq)]
pub struct BusinessHours {
    tz: Tz,
    /// Working days, Monday first.
    days: [bool; 7],
    opens: NaiveTime,
    closes: NaiveTime,
}

const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl BusinessHours {
    /// `days` as "mon-fri" or "mon,tue,thu" (ranges and lists mix), `hours` as
    /// "09:00-18:00", `zone` an IANA name ("Europe/Berlin", "UTC").
    pub fn parse(days: &str, hours: &str, zone: &str) -> Result<BusinessHours, String> {
        let tz: Tz =
            zone.trim().parse().map_err(|_| format!("unknown time zone \"{zone}\" (use a name like Europe/Berlin)"))?;
        let mut set = [false; 7];
        let index = |name: &str| {
            DAY_NAMES.iter().position(|d| name.trim().to_ascii_lowercase().starts_with(d)).ok_or_else(|| {
                format!("unknown day \"{}\" in \"{days}\" (use mon, tue, wed, thu, fri, sat, sun)", name.trim())
            })
        };
        for part in days.split(',').filter(|p| !p.trim().is_empty()) {
            match part.split_once('-') {
                Some((a, b)) => {
                    let (a, b) = (index(a)?, index(b)?);
                    let mut d = a;
                    loop {
                        set[d] = true;
                        if d == b {
                            break;
                        }
                        d = (d + 1) % 7;
                    }
                }
                None => set[index(part)?] = true,
            }
        }
        if !set.iter().any(|d| *d) {
            return Err(format!("no working day in \"{days}\""));
        }
        let (a, b) = hours.split_once('-').ok_or_else(|| format!("hours \"{hours}\" must look like 09:00-18:00"))?;
        let time = |s: &str| {
            NaiveTime::parse_from_str(s.trim(), "%H:%M")
                .map_err(|_| format!("hours \"{hours}\" must look like 09:00-18:00"))
        };
        let (opens, closes) = (time(a)?, time(b)?);
        if closes <= opens {
            return Err(format!("hours \"{hours}\": the day must close after it opens"));
        }
        Ok(BusinessHours { tz, days: set, opens, closes })
    }

    /// Every hour of every day, in UTC (no calendar configured).
    pub fn always() -> BusinessHours {
        BusinessHours { tz: Tz::UTC, days: [true; 7], opens: NaiveTime::MIN, closes: NaiveTime::MIN }
    }

    fn is_always(&self) -> bool {
        self.opens == self.closes
    }

    /// The working window of a local day, in UTC; `None` on a day off.
    fn window(&self, day: NaiveDate) -> Option<(NaiveDateTime, NaiveDateTime)> {
        if !self.days[day.weekday().num_days_from_monday() as usize] {
            return None;
        }
        let utc = |t: NaiveTime| self.tz.from_local_datetime(&day.and_time(t)).earliest().map(|d| d.naive_utc());
        Some((utc(self.opens)?, utc(self.closes)?))
    }

    fn local_day(&self, at: NaiveDateTime) -> NaiveDate {
        self.tz.from_utc_datetime(&at).date_naive()
    }

    /// Working time between two UTC instants (zero if `to` is before `from`).
    pub fn between(&self, from: NaiveDateTime, to: NaiveDateTime) -> Duration {
        if to <= from {
            return Duration::zero();
        }
        if self.is_always() {
            return to - from;
        }
        let mut total = Duration::zero();
        let mut day = self.local_day(from);
        let last = self.local_day(to);
        while day <= last {
            if let Some((open, close)) = self.window(day) {
                let (a, b) = (open.max(from), close.min(to));
                if b > a {
                    total += b - a;
                }
            }
            day = match day.succ_opt() {
                Some(d) => d,
                None => break,
            };
        }
        total
    }

    /// The UTC instant when `target` of working time has passed since `from`.
    pub fn after(&self, from: NaiveDateTime, target: Duration) -> NaiveDateTime {
        if self.is_always() {
            return from + target;
        }
        let mut left = target;
        let mut day = self.local_day(from);
        // At most a few years of days off in a row: a calendar always has a working day.
        for _ in 0..3660 {
            if let Some((open, close)) = self.window(day) {
                let start = open.max(from);
                if close > start {
                    if close - start >= left {
                        return start + left;
                    }
                    left -= close - start;
                }
            }
            day = match day.succ_opt() {
                Some(d) => d,
                None => break,
            };
        }
        from + target
    }

    pub fn describe(&self) -> String {
        if self.is_always() {
            return "around the clock".into();
        }
        let days: Vec<&str> = DAY_NAMES.iter().zip(self.days).filter(|(_, on)| *on).map(|(d, _)| *d).collect();
        format!("{} {}–{} {}", days.join(","), self.opens.format("%H:%M"), self.closes.format("%H:%M"), self.tz.name())
    }
}

/// Working time between instants within a known run of days, each answered without
/// walking the days: every day's window and the running total before it are worked
/// out once (a report measures hundreds of thousands of tickets in one calendar).
pub struct Span<'a> {
    hours: &'a BusinessHours,
    first: NaiveDate,
    windows: Vec<Option<(NaiveDateTime, NaiveDateTime)>>,
    /// Working time before each day of the run (and after the last, at the end).
    before: Vec<Duration>,
}

impl<'a> Span<'a> {
    pub fn new(hours: &'a BusinessHours, first: NaiveDate, last: NaiveDate) -> Span<'a> {
        let mut windows = Vec::new();
        let mut before = vec![Duration::zero()];
        let mut day = first;
        while day <= last {
            let w = hours.window(day);
            let worked = w.map(|(a, b)| b - a).unwrap_or_else(Duration::zero);
            before.push(before[before.len() - 1] + worked);
            windows.push(w);
            day = match day.succ_opt() {
                Some(d) => d,
                None => break,
            };
        }
        Span { hours, first, windows, before }
    }

    fn index(&self, at: NaiveDateTime) -> Option<usize> {
        let i = (self.hours.local_day(at) - self.first).num_days();
        usize::try_from(i).ok().filter(|i| *i < self.windows.len())
    }

    /// As `BusinessHours::between`, for instants in the run (others are walked).
    pub fn between(&self, from: NaiveDateTime, to: NaiveDateTime) -> Duration {
        if to <= from {
            return Duration::zero();
        }
        if self.hours.is_always() {
            return to - from;
        }
        let (Some(i), Some(j)) = (self.index(from), self.index(to)) else { return self.hours.between(from, to) };
        let clip = |w: Option<(NaiveDateTime, NaiveDateTime)>, a: NaiveDateTime, b: NaiveDateTime| match w {
            Some((open, close)) if close.min(b) > open.max(a) => close.min(b) - open.max(a),
            _ => Duration::zero(),
        };
        if i == j {
            return clip(self.windows[i], from, to);
        }
        let far = NaiveDateTime::MAX;
        let near = NaiveDateTime::MIN;
        clip(self.windows[i], from, far) + (self.before[j] - self.before[i + 1]) + clip(self.windows[j], near, to)
    }
}

/// "2h 05m", "3d 4h": a working time said briefly.
pub fn brief(d: Duration) -> String {
    let minutes = d.num_minutes().max(0);
    match minutes {
        m if m < 60 => format!("{m}m"),
        m if m < 24 * 60 => format!("{}h {:02}m", m / 60, m % 60),
        m => format!("{}d {}h", m / (24 * 60), (m % (24 * 60)) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn a_friday_evening_message_is_due_on_monday() {
        let h = BusinessHours::parse("mon-fri", "09:00-18:00", "UTC").unwrap();
        // 2026-12-04 is a Friday.
        let sent = at("2026-12-04 17:00");
        assert_eq!(h.after(sent, Duration::hours(4)), at("2026-12-07 12:00"));
        assert_eq!(h.between(sent, at("2026-12-07 12:00")), Duration::hours(4));
        assert_eq!(h.between(at("2026-12-05 10:00"), at("2026-12-06 20:00")), Duration::zero(), "a weekend");
    }

    #[test]
    fn the_time_zone_moves_the_window() {
        let h = BusinessHours::parse("mon-fri", "09:00-18:00", "Europe/Berlin").unwrap();
        // 08:00 UTC is 09:00 in Berlin in winter.
        assert_eq!(h.between(at("2026-12-07 07:00"), at("2026-12-07 09:00")), Duration::hours(1));
        assert_eq!(h.after(at("2026-12-07 16:30"), Duration::hours(1)), at("2026-12-08 08:30"));
    }

    #[test]
    fn bad_calendars_are_said() {
        assert!(BusinessHours::parse("mon-fri", "18:00-09:00", "UTC").unwrap_err().contains("close after"));
        assert!(BusinessHours::parse("someday", "09:00-18:00", "UTC").unwrap_err().contains("unknown day"));
        assert!(BusinessHours::parse("mon-fri", "09:00-18:00", "Mars/Base").unwrap_err().contains("time zone"));
        assert_eq!(
            BusinessHours::parse("fri-mon", "09:00-17:00", "UTC").unwrap().days,
            [true, false, false, false, true, true, true]
        );
    }

    #[test]
    fn a_span_answers_as_the_walk_does() {
        let h = BusinessHours::parse("mon-fri", "09:00-18:00", "Europe/Berlin").unwrap();
        let first = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let span = Span::new(&h, first, NaiveDate::from_ymd_opt(2026, 4, 30).unwrap());
        // Across the change to summer time, weekends, same-day and out-of-run instants.
        let instants = [
            "2026-03-02 07:30",
            "2026-03-06 16:59",
            "2026-03-27 12:00",
            "2026-03-30 06:00",
            "2026-04-29 15:00",
            "2026-05-04 10:00",
        ];
        for a in instants {
            for b in instants {
                assert_eq!(span.between(at(a), at(b)), h.between(at(a), at(b)), "{a} .. {b}");
            }
        }
    }

    #[test]
    fn around_the_clock_is_plain_time() {
        let h = BusinessHours::always();
        assert_eq!(h.after(at("2026-12-05 10:00"), Duration::hours(30)), at("2026-12-06 16:00"));
        assert_eq!(brief(Duration::minutes(125)), "2h 05m");
        assert_eq!(brief(Duration::hours(28)), "1d 4h");
    }
}
