//! Throttling password guessing: failed logins are counted per account and per
//! client address over a window, in the database, so every instance sharing it
//! enforces the same limit.

use chrono::Duration;
use diesel::prelude::*;

use super::now;
use crate::db::AnyConnection;
use crate::db::schema::login_failures;
use crate::error::AppResult;

/// Failures older than this no longer count.
pub const WINDOW_MINUTES: i64 = 15;

/// Which panel's account a login names: the same email may be a user and an affiliate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Door {
    Admin,
    Affiliate,
}

fn account_key(door: Door, email: &str) -> String {
    let panel = match door {
        Door::Admin => "user",
        Door::Affiliate => "affiliate",
    };
    format!("{panel}:{}", super::users::normalize_email(email))
}

/// `Some(seconds)` to wait when the account or the address has failed `limit` times
/// within the window; `None` when a login may be tried.
pub fn wait_before_trying(
    conn: &mut AnyConnection,
    door: Door,
    email: &str,
    address: &str,
    limit: u32,
) -> AppResult<Option<u64>> {
    let t = now();
    let since = t - Duration::minutes(WINDOW_MINUTES);
    let account = account_key(door, email);
    let mut wait = None;
    for (column_is_account, key) in [(true, account.as_str()), (false, address)] {
        let mut q = login_failures::table.filter(login_failures::at.gt(since)).into_boxed();
        q = if column_is_account {
            q.filter(login_failures::account.eq(key))
        } else {
            q.filter(login_failures::address.eq(key))
        };
        // The failures that keep the limit reached, newest first: the oldest of
        // the last `limit` leaves the window first.
        let recent: Vec<chrono::NaiveDateTime> =
            q.order(login_failures::at.desc()).limit(i64::from(limit)).select(login_failures::at).load(conn)?;
        if limit == 0 || recent.len() as u32 >= limit {
            let oldest = recent.last().copied().unwrap_or(t);
            let secs = (oldest + Duration::minutes(WINDOW_MINUTES) - t).num_seconds().max(1) as u64;
            wait = Some(wait.map_or(secs, |w: u64| w.max(secs)));
        }
    }
    Ok(wait)
}

/// Counts a failed login; forgets failures that have left the window.
pub fn record_failure(conn: &mut AnyConnection, door: Door, email: &str, address: &str) -> AppResult<()> {
    let t = now();
    diesel::insert_into(login_failures::table)
        .values((
            login_failures::account.eq(account_key(door, email)),
            login_failures::address.eq(address),
            login_failures::at.eq(t),
        ))
        .execute(conn)?;
    diesel::delete(login_failures::table.filter(login_failures::at.lt(t - Duration::minutes(WINDOW_MINUTES))))
        .execute(conn)?;
    Ok(())
}

/// A successful login clears its account's failures (not its address's: one right
/// password does not license more guessing at other accounts).
pub fn clear(conn: &mut AnyConnection, door: Door, email: &str) -> AppResult<()> {
    diesel::delete(login_failures::table.filter(login_failures::account.eq(account_key(door, email)))).execute(conn)?;
    Ok(())
}
