//! Keeping affdesk in step with the network's Affise: a pull of the directory
//! (managers, partners, offers, Smartlinks, who may run each private offer), and a
//! push of every access decision (`domain::affise_push`). Off unless
//! `--affise-url` and `--affise-key` are given. Any instance may run both: pushes
//! are claimed under a lease, and one pull at a time runs per deployment.

pub mod client;

use std::collections::HashSet;

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::DbPool;
use crate::db::schema::affise_sync;
use crate::domain::directory_sync::{self as sync, Applied};
use crate::domain::{Effects, affise_push, now, sync_state};
pub use client::{AffiseConfig, Client};

/// Pushes taken at once.
const PUSH_BATCH: i64 = 20;
/// A full pull (which also notices what was removed in Affise) at least this often.
const FULL_EVERY_HOURS: i64 = 24;

async fn db<T: Send + 'static>(
    pool: &DbPool,
    f: impl FnOnce(&mut crate::db::AnyConnection) -> affdesk_core::error::DomainResult<T> + Send + 'static,
) -> Result<T, String> {
    let pool = pool.clone();
    actix_web::web::block(move || {
        let mut conn = pool.get().map_err(|e| e.to_string())?;
        f(&mut conn).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())?
}

/// What one pull did, part by part.
#[derive(Debug, Default)]
pub struct SyncReport {
    pub full: bool,
    pub parts: Vec<(&'static str, Result<Applied, String>)>,
    /// What the committed pages ask of the running instance (new or renamed
    /// managers are read again).
    pub effects: Effects,
}

impl SyncReport {
    pub fn is_ok(&self) -> bool {
        self.parts.iter().all(|(_, r)| r.is_ok())
    }

    pub fn lines(&self) -> Vec<String> {
        self.parts
            .iter()
            .map(|(part, r)| match r {
                Ok(a) => {
                    let mut line = format!("{part}: {}", a.summary());
                    for s in a.skipped.iter().take(20) {
                        line.push_str(&format!("\n  skipped {s}"));
                    }
                    line
                }
                Err(e) => format!("{part}: failed: {e}"),
            })
            .collect()
    }
}

/// The day a part last succeeded, for Affise's `updated_from` (a day early, so a
/// change made while the last pull ran is read again; reading twice changes nothing).
fn updated_from(last_ok: Option<NaiveDateTime>) -> Option<String> {
    last_ok.map(|t| (t - Duration::days(1)).format("%Y-%m-%d").to_string())
}

/// Pulls the directory once. `full` reads every record (and disables what Affise
/// no longer has); otherwise partners and offers changed since the last pull. A
/// part that fails is recorded with its error and the others still run.
pub async fn sync_once(pool: &DbPool, client: &Client, full: bool) -> SyncReport {
    let mut report = SyncReport { full, parts: Vec::new(), effects: Effects::NONE };
    let last = db(pool, sync_state::sync_parts).await.unwrap_or_default();
    let last_ok = |part: &str| last.iter().find(|p| p.part == part).and_then(|p| p.last_ok_at);
    let never_full = |part: &str| {
        last.iter()
            .find(|p| p.part == part)
            .and_then(|p| p.last_full_at)
            .is_none_or(|t| now() - t > Duration::hours(FULL_EVERY_HOURS))
    };

    let started = now();
    let (managers, effects) = pull_managers(pool, client).await;
    report.effects |= effects;
    record(pool, "managers", started, true, &managers).await;
    report.parts.push(("managers", managers));

    let started = now();
    let full_partners = full || never_full("partners");
    let from = if full_partners { None } else { updated_from(last_ok("partners")) };
    let partners = pull_partners(pool, client, from, full_partners).await;
    record(pool, "partners", started, full_partners, &partners).await;
    report.parts.push(("partners", partners));

    let started = now();
    let full_offers = full || never_full("offers");
    let from = if full_offers { None } else { updated_from(last_ok("offers")) };
    let offers = pull_offers(pool, client, from, full_offers).await;
    record(pool, "offers", started, full_offers, &offers).await;
    report.parts.push(("offers", offers));

    let started = now();
    let smartlinks = pull_smartlinks(pool, client).await;
    record(pool, "smartlinks", started, true, &smartlinks).await;
    report.parts.push(("smartlinks", smartlinks));

    let started = now();
    let access = pull_access(pool, client).await;
    record(pool, "access", started, true, &access).await;
    report.parts.push(("access", access));
    report
}

async fn record(pool: &DbPool, part: &'static str, started: NaiveDateTime, full: bool, r: &Result<Applied, String>) {
    let outcome: Result<i64, String> = match r {
        Ok(a) => Ok((a.created + a.updated + a.unchanged) as i64),
        Err(e) => Err(e.clone()),
    };
    let done = db(pool, move |conn| {
        sync_state::record_run(conn, part, started, full, outcome.as_ref().map(|n| *n).map_err(String::as_str))
    })
    .await;
    if let Err(e) = done {
        log::warn!("Affise sync: cannot record the {part} run: {e}");
    }
}

/// The managers, a page per transaction; with the effects of the pages that
/// committed, also when a later one failed.
async fn pull_managers(pool: &DbPool, client: &Client) -> (Result<Applied, String>, Effects) {
    let mut applied = Applied::default();
    let mut effects = Effects::NONE;
    let mut page = Some(1);
    while let Some(n) = page {
        let got = match client.managers(n).await {
            Ok(got) => got,
            Err(e) => return (Err(e), effects),
        };
        let records: Vec<_> = got.records.into_iter().flatten().collect();
        match db(pool, move |conn| sync::apply_managers(conn, &records)).await {
            Ok(done) => {
                let (done, made) = done.into_parts();
                applied.add(done);
                effects |= made;
            }
            Err(e) => return (Err(e), effects),
        }
        page = got.next;
    }
    (Ok(applied), effects)
}

async fn pull_partners(pool: &DbPool, client: &Client, from: Option<String>, full: bool) -> Result<Applied, String> {
    let mut applied = Applied::default();
    let mut seen = HashSet::new();
    let mut page = Some(1);
    while let Some(n) = page {
        let got = client.partners(n, from.as_deref()).await?;
        seen.extend(got.records.iter().map(|r| r.affise_id.clone()));
        let records = got.records;
        applied.add(db(pool, move |conn| sync::apply_partners(conn, &records)).await?);
        page = got.next;
    }
    if full {
        let removed = db(pool, move |conn| sync::disable_missing_partners(conn, &seen)).await?;
        applied.updated += removed;
    }
    Ok(applied)
}

async fn pull_offers(pool: &DbPool, client: &Client, from: Option<String>, full: bool) -> Result<Applied, String> {
    let mut applied = Applied::default();
    let mut seen = HashSet::new();
    let mut page = Some(1);
    while let Some(n) = page {
        let got = client.offers(n, from.as_deref()).await?;
        seen.extend(got.records.iter().map(|r| r.affise_id.clone()));
        let records = got.records;
        applied.add(db(pool, move |conn| sync::apply_offers(conn, &records)).await?);
        page = got.next;
    }
    if full {
        let removed = db(pool, move |conn| sync::disable_missing_offers(conn, &seen)).await?;
        applied.updated += removed;
    }
    Ok(applied)
}

async fn pull_smartlinks(pool: &DbPool, client: &Client) -> Result<Applied, String> {
    let mut applied = Applied::default();
    let mut page = Some(1);
    while let Some(n) = page {
        let got = client.smartlinks(n).await?;
        let records = got.records;
        applied.add(db(pool, move |conn| sync::apply_smartlinks(conn, &records)).await?);
        page = got.next;
    }
    Ok(applied)
}

/// Who may run each protected or private offer: one call per such offer.
async fn pull_access(pool: &DbPool, client: &Client) -> Result<Applied, String> {
    let mut applied = Applied::default();
    let offers = db(pool, sync::offers_with_access_lists).await?;
    for (offer_id, affise_id) in offers {
        let partners = client.offer_privacy(&affise_id).await?;
        applied.add(db(pool, move |conn| sync::apply_offer_access(conn, offer_id, &partners)).await?);
    }
    Ok(applied)
}

/// One round of pushes: claims due decisions, sends each to Affise, marks it done
/// or failed with Affise's answer. Returns how many it took.
pub async fn push_due(pool: &DbPool, client: &Client, retry_after: std::time::Duration) -> Result<usize, String> {
    let lease = Duration::minutes(2);
    let claimed = db(pool, move |conn| affise_push::claim_due(conn, now(), lease, PUSH_BATCH)).await?;
    let n = claimed.len();
    for push in claimed {
        let enable = push.action == affise_push::PushAction::Enable;
        let outcome = client.set_affiliate_access(enable, &push.affise_offer_id, &push.affise_partner_id).await;
        let pause = Duration::from_std(retry_after).unwrap_or(Duration::seconds(30));
        db(pool, move |conn| match outcome {
            Ok(()) => affise_push::mark_done(conn, push.id, now()),
            Err(error) => {
                log::warn!("push {} to Affise not taken: {error}", push.id);
                affise_push::mark_attempt_failed(conn, &push, &error, pause, now())
            }
        })
        .await?;
    }
    Ok(n)
}

/// Takes this round of the periodic pull for this instance, if it is due and no
/// other instance took it: a lease in the `affise_sync` table ("run").
fn take_sync_turn(conn: &mut crate::db::AnyConnection, every: Duration) -> affdesk_core::error::DomainResult<bool> {
    let t = now();
    let due = t - every;
    crate::db::write_transaction(conn, |conn| {
        let updated = diesel::update(
            affise_sync::table
                .find("run")
                .filter(affise_sync::last_started_at.is_null().or(affise_sync::last_started_at.le(due))),
        )
        .set(affise_sync::last_started_at.eq(Some(t)))
        .execute(conn)?;
        if updated == 1 {
            return Ok(true);
        }
        let exists: i64 = affise_sync::table.find("run").count().get_result(conn)?;
        if exists == 0 {
            diesel::insert_into(affise_sync::table)
                .values((
                    affise_sync::part.eq("run"),
                    affise_sync::last_started_at.eq(Some(t)),
                    affise_sync::items.eq(0),
                ))
                .execute(conn)?;
            return Ok(true);
        }
        Ok(false)
    })
}

/// Starts the push worker and the periodic pull on the running system.
pub fn spawn(pool: DbPool, config: Option<AffiseConfig>, instance: crate::http::Instance) {
    let Some(config) = config else { return };
    if actix_web::rt::System::try_current().is_none() {
        return;
    }
    let client = match Client::new(&config) {
        Ok(c) => std::sync::Arc::new(c),
        Err(e) => {
            log::error!("{e}; the Affise sync is off");
            return;
        }
    };
    let (p, c, cfg) = (pool.clone(), client.clone(), config.clone());
    actix_web::rt::spawn(async move {
        loop {
            match push_due(&p, &c, cfg.retry_after).await {
                Ok(n) if n as i64 == PUSH_BATCH => continue,
                Ok(_) => {}
                Err(e) => log::warn!("Affise push: {e}"),
            }
            actix_web::rt::time::sleep(cfg.poll).await;
        }
    });
    let Some(every) = config.sync_every else { return };
    let every_chrono = Duration::from_std(every).unwrap_or(Duration::minutes(5));
    actix_web::rt::spawn(async move {
        loop {
            match db(&pool, move |conn| take_sync_turn(conn, every_chrono)).await {
                Ok(true) => {
                    let report = sync_once(&pool, &client, false).await;
                    instance.apply(report.effects);
                    for line in report.lines() {
                        if report.is_ok() {
                            log::info!("Affise sync: {line}");
                        } else {
                            log::warn!("Affise sync: {line}");
                        }
                    }
                }
                Ok(false) => {}
                Err(e) => log::warn!("Affise sync: {e}"),
            }
            actix_web::rt::time::sleep(every.min(std::time::Duration::from_secs(60))).await;
        }
    });
}
