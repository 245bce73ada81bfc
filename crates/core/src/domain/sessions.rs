//! The panels' sessions as the domain sees them: whether a session still lets its
//! person in. The session store itself (reading and writing the rows) is the server's.

use diesel::prelude::*;

use super::now;
use super::states::AffiliateStatus;
use crate::db::AnyConnection;
use crate::db::schema::{affiliates, sessions, users};

/// Of the sessions `ids` (row ids, the hashes of their keys), those still alive:
/// not logged out, not expired, not idle past `idle`, and their account still let
/// in (a user not disabled; an affiliate neither disabled nor banned). The live
/// streams ask this every few seconds for all their sessions at once.
pub fn alive_sessions(
    conn: &mut AnyConnection,
    ids: &[String],
    idle: chrono::Duration,
) -> QueryResult<std::collections::HashSet<String>> {
    let t = now();
    let mut alive = std::collections::HashSet::new();
    for chunk in ids.chunks(500) {
        type Row = (String, Option<bool>, Option<bool>, Option<AffiliateStatus>);
        let rows: Vec<Row> = sessions::table
            .left_join(users::table)
            .left_join(affiliates::table)
            .filter(sessions::id.eq_any(chunk))
            .filter(sessions::expires_at.gt(t))
            .filter(sessions::last_seen_at.gt(t - idle))
            .select((
                sessions::id,
                users::disabled.nullable(),
                affiliates::disabled.nullable(),
                affiliates::status.nullable(),
            ))
            .load(conn)?;
        for (id, user_disabled, affiliate_disabled, status) in rows {
            let let_in = match (user_disabled, affiliate_disabled) {
                (Some(disabled), _) => !disabled,
                (None, Some(disabled)) => !disabled && status != Some(AffiliateStatus::Banned),
                (None, None) => false,
            };
            if let_in {
                alive.insert(id);
            }
        }
    }
    Ok(alive)
}
