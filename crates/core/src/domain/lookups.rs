//! The lookups: the staff (the list's manager filter) and the quick replies (the
//! thread's template picker). Nearly every manager page shows one of them and they
//! seldom change, so each instance keeps them (`http::lookups`) and reads them
//! again only after a change. A use case that changes them says so here and
//! returns the effect.

use diesel::prelude::*;

use super::Effects;
use crate::db::AnyConnection;
use crate::error::DomainResult;

/// The PostgreSQL channel on which every instance hears that the lookups changed.
pub const CHANNEL: &str = "affdesk_lookups";

/// Records that the staff or the quick replies change, in the caller's transaction:
/// on PostgreSQL every instance hears of it when the transaction commits, and the
/// returned effect has this instance read them again after the commit.
pub fn changed(conn: &mut AnyConnection) -> DomainResult<Effects> {
    if conn.is_postgres() {
        diesel::sql_query(format!("NOTIFY {CHANNEL}")).execute(conn)?;
    }
    Ok(Effects::LOOKUPS_CHANGED)
}
