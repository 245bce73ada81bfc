//! Holiday cover: an admin hands a manager's affiliates (with their tickets) to a
//! colleague until a day. On that day the same affiliates go back, with their
//! tickets, unless someone gave them to yet another manager meanwhile; an admin
//! may also end a cover early. (Tickets handed over one by one, not with their
//! affiliate, stay where they are: whoever has them now answers them.) The server looks for covers that end every few
//! minutes, so nobody has to remember.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::actor::Actor;
use super::states::AuditAction;
use super::users::User;
use super::{audit, directory, now};
use crate::db::schema::{affiliates, cover_affiliates, covers, users};
use crate::db::{AnyConnection, write_transaction};
use crate::error::{DomainError, DomainResult};

/// A cover as the People page lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct Cover {
    pub id: i64,
    pub absent_name: String,
    pub cover_name: String,
    /// The day the absent manager is back (their affiliates return at its start, UTC).
    pub until: NaiveDate,
    pub affiliates: i64,
}

/// Use case: `absent`'s affiliates and tickets go to `cover` until `until`.
pub fn start(conn: &mut AnyConnection, actor: &Actor, absent: i64, cover: i64, until: NaiveDate) -> DomainResult<i64> {
    directory::admin_only(actor)?;
    if until <= now().date() {
        return Err(DomainError::invalid("Until must be a day after today: the day they are back."));
    }
    write_transaction(conn, |conn| {
        let away = User::find(conn, absent)?.ok_or(DomainError::NotFound)?;
        let taken: Vec<i64> =
            affiliates::table.filter(affiliates::manager_id.eq(absent)).select(affiliates::id).load(conn)?;
        // The hand-over itself checks who may take them and says why not.
        let handed = directory::hand_over(conn, actor, absent, cover)?;
        let t = now();
        let id: i64 = diesel::insert_into(covers::table)
            .values((
                covers::absent_id.eq(absent),
                covers::cover_id.eq(cover),
                covers::until.eq(until.and_hms_opt(0, 0, 0).unwrap_or(t)),
                covers::created_by.eq(actor.id()),
                covers::created_at.eq(t),
            ))
            .returning(covers::id)
            .get_result(conn)?;
        for chunk in taken.chunks(500) {
            let rows: Vec<_> = chunk
                .iter()
                .map(|a| (cover_affiliates::cover_id.eq(id), cover_affiliates::affiliate_id.eq(*a)))
                .collect();
            crate::db::insert_rows!(conn, cover_affiliates::table, rows)?;
        }
        audit::record(
            conn,
            actor,
            AuditAction::Cover,
            None,
            &format!(
                "{} (#{absent}) away until {until}: {} affiliates and {} tickets with #{cover}",
                away.name, handed.affiliates, handed.tickets
            ),
        )?;
        Ok(id)
    })
}

/// The covers not yet ended, soonest end first.
pub fn active(conn: &mut AnyConnection) -> DomainResult<Vec<Cover>> {
    let rows: Vec<(i64, i64, i64, NaiveDateTime)> = covers::table
        .filter(covers::returned_at.is_null())
        .order((covers::until.asc(), covers::id.asc()))
        .select((covers::id, covers::absent_id, covers::cover_id, covers::until))
        .load(conn)?;
    let mut people: Vec<i64> = rows.iter().flat_map(|r| [r.1, r.2]).collect();
    people.sort_unstable();
    people.dedup();
    let names: std::collections::HashMap<i64, String> = users::table
        .filter(users::id.eq_any(&people))
        .select((users::id, users::name))
        .load(conn)?
        .into_iter()
        .collect();
    let name = |id: i64| names.get(&id).cloned().unwrap_or_else(|| format!("#{id}"));
    let mut out = Vec::with_capacity(rows.len());
    for (id, absent, cover, until) in rows {
        let affiliates: i64 =
            cover_affiliates::table.filter(cover_affiliates::cover_id.eq(id)).count().get_result(conn)?;
        out.push(Cover { id, absent_name: name(absent), cover_name: name(cover), until: until.date(), affiliates });
    }
    Ok(out)
}

/// Use case: an admin ends a cover before its day: the affiliates go back now.
pub fn end_now(conn: &mut AnyConnection, actor: &Actor, id: i64) -> DomainResult<usize> {
    directory::admin_only(actor)?;
    write_transaction(conn, |conn| give_back(conn, id, "ended by hand")).and_then(|n| n.ok_or(DomainError::NotFound))
}

/// Ends every cover whose day has come (the server's periodic chores). Returns how
/// many affiliates went back.
pub fn end_due(conn: &mut AnyConnection, at: NaiveDateTime) -> DomainResult<usize> {
    let due: Vec<i64> = covers::table
        .filter(covers::returned_at.is_null())
        .filter(covers::until.le(at))
        .select(covers::id)
        .load(conn)?;
    let mut back = 0;
    for id in due {
        back += write_transaction(conn, |conn| give_back(conn, id, "their day came"))?.unwrap_or(0);
    }
    Ok(back)
}

/// The affiliates of cover `id` still with the covering manager go back to the
/// absent one, with their tickets. `None` when there is no such cover running.
fn give_back(conn: &mut AnyConnection, id: i64, why: &str) -> DomainResult<Option<usize>> {
    let t = now();
    // Claimed first: of two that end the same cover at once, one finds it ended.
    let claimed = diesel::update(covers::table.find(id).filter(covers::returned_at.is_null()))
        .set(covers::returned_at.eq(Some(t)))
        .execute(conn)?;
    if claimed == 0 {
        return Ok(None);
    }
    let (absent, cover): (i64, i64) =
        covers::table.find(id).select((covers::absent_id, covers::cover_id)).get_result(conn)?;
    let theirs: Vec<i64> = cover_affiliates::table
        .inner_join(affiliates::table.on(affiliates::id.eq(cover_affiliates::affiliate_id)))
        .filter(cover_affiliates::cover_id.eq(id))
        .filter(affiliates::manager_id.eq(cover))
        .select(affiliates::id)
        .load(conn)?;
    for affiliate in &theirs {
        diesel::update(affiliates::table.find(affiliate))
            .set((affiliates::manager_id.eq(Some(absent)), affiliates::updated_at.eq(t)))
            .execute(conn)?;
        directory::move_tickets(conn, *affiliate, Some(absent))?;
    }
    let system = Actor::system();
    audit::record(
        conn,
        &system,
        AuditAction::CoverEnded,
        None,
        &format!("cover #{id}, {why}: {} affiliates back", theirs.len()),
    )?;
    Ok(Some(theirs.len()))
}
