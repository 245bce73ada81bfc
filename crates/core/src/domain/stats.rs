//! Daily statistics of an affiliate: the target of a thread's Statistics button.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date};

use super::actor::Actor;
use super::affiliates::{self, Affiliate};
use crate::db::AnyConnection;
use crate::error::DomainResult;

#[derive(QueryableByName, Clone, Debug, Default, PartialEq)]
pub struct DayStats {
    #[diesel(sql_type = Date)]
    pub day: NaiveDate,
    #[diesel(sql_type = BigInt)]
    pub clicks: i64,
    #[diesel(sql_type = BigInt)]
    pub unique_clicks: i64,
    #[diesel(sql_type = BigInt)]
    pub conversions: i64,
    /// In cents.
    #[diesel(sql_type = BigInt)]
    pub payout: i64,
    /// In cents.
    #[diesel(sql_type = BigInt)]
    pub revenue: i64,
}

impl DayStats {
    /// Conversion rate in percent.
    pub fn cr(&self) -> f64 {
        if self.clicks == 0 { 0.0 } else { self.conversions as f64 * 100.0 / self.clicks as f64 }
    }
    /// Earnings per click, in cents.
    pub fn epc(&self) -> f64 {
        if self.clicks == 0 { 0.0 } else { self.payout as f64 / self.clicks as f64 }
    }
}

/// Use case: the daily statistics of an affiliate the manager may see; `None` when
/// there is no such affiliate among theirs.
pub fn for_affiliate(
    conn: &mut AnyConnection,
    actor: &Actor,
    affiliate_id: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> DomainResult<Option<(Affiliate, Vec<DayStats>)>> {
    actor.as_staff()?;
    let Some(affiliate) = affiliates::visible_to(conn, actor, affiliate_id)? else { return Ok(None) };
    let days = daily(conn, affiliate.id, from, to)?;
    Ok(Some((affiliate, days)))
}

/// One row per day from `from` to `to` (inclusive), days without traffic as zero,
/// summed over the affiliate's offers. Reads the primary key range of one affiliate.
pub fn daily(
    conn: &mut AnyConnection,
    affiliate_id: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> DomainResult<Vec<DayStats>> {
    // SUM over BIGINT is NUMERIC on PostgreSQL: cast back.
    let sql = if conn.is_postgres() {
        "SELECT day, CAST(SUM(clicks) AS BIGINT) AS clicks, CAST(SUM(unique_clicks) AS BIGINT) AS unique_clicks, \
         CAST(SUM(conversions) AS BIGINT) AS conversions, CAST(SUM(payout) AS BIGINT) AS payout, \
         CAST(SUM(revenue) AS BIGINT) AS revenue FROM daily_stats \
         WHERE affiliate_id = $1 AND day >= $2 AND day <= $3 GROUP BY day ORDER BY day"
    } else {
        "SELECT day, CAST(SUM(clicks) AS BIGINT) AS clicks, CAST(SUM(unique_clicks) AS BIGINT) AS unique_clicks, \
         CAST(SUM(conversions) AS BIGINT) AS conversions, CAST(SUM(payout) AS BIGINT) AS payout, \
         CAST(SUM(revenue) AS BIGINT) AS revenue FROM daily_stats \
         WHERE affiliate_id = ? AND day >= ? AND day <= ? GROUP BY day ORDER BY day"
    };
    let found: Vec<DayStats> =
        diesel::sql_query(sql).bind::<BigInt, _>(affiliate_id).bind::<Date, _>(from).bind::<Date, _>(to).load(conn)?;
    let mut by_day = found.into_iter().peekable();
    let mut out = Vec::new();
    let mut day = from;
    while day <= to {
        match by_day.next_if(|s| s.day == day) {
            Some(s) => out.push(s),
            None => out.push(DayStats { day, ..Default::default() }),
        }
        let Some(next) = day.succ_opt() else { break };
        day = next;
    }
    Ok(out)
}

pub fn totals(days: &[DayStats]) -> DayStats {
    days.iter().fold(DayStats::default(), |mut t, d| {
        t.clicks += d.clicks;
        t.unique_clicks += d.unique_clicks;
        t.conversions += d.conversions;
        t.payout += d.payout;
        t.revenue += d.revenue;
        t
    })
}
