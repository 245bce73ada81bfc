//! Where each part of the directory sync stands: when it last ran, last succeeded
//! and last read everything, and what went wrong (the outbox page shows it).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::affise_sync;
use crate::error::DomainResult;

/// One part of the sync (`managers`, `partners`, `offers`, `smartlinks`, `access`).
#[derive(Queryable, Selectable, Debug, Clone, PartialEq)]
#[diesel(table_name = affise_sync)]
pub struct SyncPart {
    pub part: String,
    pub last_started_at: Option<NaiveDateTime>,
    pub last_ok_at: Option<NaiveDateTime>,
    pub last_full_at: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub items: i64,
}

pub fn sync_parts(conn: &mut AnyConnection) -> DomainResult<Vec<SyncPart>> {
    Ok(affise_sync::table.order(affise_sync::part.asc()).select(SyncPart::as_select()).load(conn)?)
}

pub fn sync_part(conn: &mut AnyConnection, part: &str) -> DomainResult<Option<SyncPart>> {
    Ok(affise_sync::table.find(part).select(SyncPart::as_select()).first(conn).optional()?)
}

/// Records how a part's run ended: `Ok(items)` or the error, in words.
pub fn record_run(
    conn: &mut AnyConnection,
    part: &str,
    started: NaiveDateTime,
    full: bool,
    outcome: Result<i64, &str>,
) -> DomainResult<()> {
    let before = sync_part(conn, part)?;
    let (ok_at, error, items) = match outcome {
        Ok(n) => (Some(started), None, n),
        Err(e) => (before.as_ref().and_then(|b| b.last_ok_at), Some(e.to_string()), 0),
    };
    let full_at = if full && outcome.is_ok() { Some(started) } else { before.as_ref().and_then(|b| b.last_full_at) };
    if before.is_some() {
        diesel::update(affise_sync::table.find(part))
            .set((
                affise_sync::last_started_at.eq(Some(started)),
                affise_sync::last_ok_at.eq(ok_at),
                affise_sync::last_full_at.eq(full_at),
                affise_sync::last_error.eq(error),
                affise_sync::items.eq(items),
            ))
            .execute(conn)?;
    } else {
        diesel::insert_into(affise_sync::table)
            .values((
                affise_sync::part.eq(part),
                affise_sync::last_started_at.eq(Some(started)),
                affise_sync::last_ok_at.eq(ok_at),
                affise_sync::last_full_at.eq(full_at),
                affise_sync::last_error.eq(error),
                affise_sync::items.eq(items),
            ))
            .execute(conn)?;
    }
    Ok(())
}
