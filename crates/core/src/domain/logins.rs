//! Throttling password guessing: failed logins are counted per account and per
//! client address over a window, in the database, so every instance sharing it
//! enforces the same limit.

use chrono::Duration;
use diesel::prelude::*;

use super::account::Account;
use super::affiliates::Affiliate;
use super::states::AccountKind;
use super::users::User;
use super::{accounts, now};
use crate::db::AnyConnection;
use crate::db::schema::login_failures;
use crate::error::DomainResult;

/// Failures older than this no longer count.
pub const WINDOW_MINUTES: i64 = 15;

/// The account a login names, by its kind: the same email may be a user and an
/// affiliate.
fn account_key(kind: AccountKind, email: &str) -> String {
    format!("{kind}:{}", super::users::normalize_email(email))
}

/// How many failures lock what: an account (whoever guesses at it), and a client
/// address in one panel (however many accounts it guesses at). An address is
/// allowed many more, so guesses at one account do not lock out the others
/// people log in to from the same office or proxy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub per_account: u32,
    pub per_address: u32,
}

/// Why logins are refused for now, and for how long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Throttled {
    pub wait_secs: u64,
    /// The account is locked (its owner can ask for an unlock link); else only
    /// the address is.
    pub account: bool,
}

/// The address as counted: per panel.
fn address_key(kind: AccountKind, address: &str) -> String {
    match kind {
        AccountKind::User => format!("admin:{address}"),
        AccountKind::Affiliate => format!("affiliate:{address}"),
    }
}

/// `Some` when the account or the address has failed its limit within the window;
/// `None` when a login may be tried. An account unlocked by its owner's link is
/// not held back by its count (its address still is).
pub fn wait_before_trying(
    conn: &mut AnyConnection,
    kind: AccountKind,
    email: &str,
    address: &str,
    limits: Limits,
    unlocked: bool,
) -> DomainResult<Option<Throttled>> {
    let t = now();
    let since = t - Duration::minutes(WINDOW_MINUTES);
    let account = account_key(kind, email);
    let address = address_key(kind, address);
    let mut throttled: Option<Throttled> = None;
    for (is_account, key, limit) in
        [(true, account.as_str(), limits.per_account), (false, address.as_str(), limits.per_address)]
    {
        if is_account && unlocked {
            continue;
        }
        let mut q = login_failures::table.filter(login_failures::at.gt(since)).into_boxed();
        q = if is_account {
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
            throttled = Some(match throttled {
                None => Throttled { wait_secs: secs, account: is_account },
                Some(th) => Throttled { wait_secs: th.wait_secs.max(secs), account: th.account || is_account },
            });
        }
    }
    Ok(throttled)
}

/// Counts a failed login; forgets failures that have left the window.
pub fn record_failure(conn: &mut AnyConnection, kind: AccountKind, email: &str, address: &str) -> DomainResult<()> {
    let t = now();
    diesel::insert_into(login_failures::table)
        .values((
            login_failures::account.eq(account_key(kind, email)),
            login_failures::address.eq(address_key(kind, address)),
            login_failures::at.eq(t),
        ))
        .execute(conn)?;
    diesel::delete(login_failures::table.filter(login_failures::at.lt(t - Duration::minutes(WINDOW_MINUTES))))
        .execute(conn)?;
    Ok(())
}

/// A successful login clears its account's failures (not its address's: one right
/// password does not license more guessing at other accounts).
pub fn clear(conn: &mut AnyConnection, kind: AccountKind, email: &str) -> DomainResult<()> {
    // The rows stay, no longer the account's, so the address's count keeps them.
    diesel::update(login_failures::table.filter(login_failures::account.eq(account_key(kind, email))))
        .set(login_failures::account.eq(""))
        .execute(conn)?;
    Ok(())
}

/// A login as typed on a panel's login page.
pub struct Attempt<'a> {
    pub kind: AccountKind,
    pub email: &'a str,
    pub password: &'a str,
    /// The client's address (after trusted proxies).
    pub address: &'a str,
    /// The unlock link's token, when the login came through one (else empty).
    pub unlock: &'a str,
    pub limits: Limits,
}

/// What a login attempt came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginOutcome {
    LoggedIn(Account),
    /// No such account, a wrong password, or an account not let in: told alike.
    WrongLogin,
    /// Too many failures lately: the password was not even looked at.
    Throttled(Throttled),
}

/// Use case: log in. Throttled first (an account unlocked by its owner's link is
/// not held back by its own count), then the password checked, then the outcome
/// recorded: a failure counted, a success clearing the account's count and spending
/// the unlock link.
pub fn log_in(conn: &mut AnyConnection, attempt: &Attempt) -> DomainResult<LoginOutcome> {
    let Attempt { kind, email, password, address, unlock, limits } = *attempt;
    let unlocked = !unlock.is_empty() && accounts::unlock_is_valid(conn, kind, unlock, email)?;
    if let Some(throttled) = wait_before_trying(conn, kind, email, address, limits, unlocked)? {
        return Ok(LoginOutcome::Throttled(throttled));
    }
    let account = match kind {
        AccountKind::User => User::authenticate(conn, email, password)?.map(|u| Account::User(u.id)),
        AccountKind::Affiliate => Affiliate::authenticate(conn, email, password)?.map(|a| Account::Affiliate(a.id)),
    };
    match account {
        Some(account) => {
            clear(conn, kind, email)?;
            if unlocked {
                accounts::use_unlock(conn, unlock)?;
            }
            Ok(LoginOutcome::LoggedIn(account))
        }
        None => {
            record_failure(conn, kind, email, address)?;
            Ok(LoginOutcome::WrongLogin)
        }
    }
}
