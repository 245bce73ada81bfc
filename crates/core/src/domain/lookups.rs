//! The lookups: the staff (the list's manager filter) and the quick replies (the
//! thread's template picker). Nearly every manager page shows one of them and they
//! seldom change, so each instance keeps them (`http::lookups`) and reads them
//! again only after a change. A use case that changes them says so here.

use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::error::DomainResult;

/// The PostgreSQL channel on which every instance hears that the lookups changed.
pub const CHANNEL: &str = "affdesk_lookups";

thread_local! {
    /// Whether this thread changed the lookups since it last asked (`take_changed`).
    static CHANGED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Records that the staff or the quick replies change, in the caller's transaction:
/// this instance reads them again after the request's database call, and on
/// PostgreSQL every instance hears of it when the transaction commits.
pub fn changed(conn: &mut AnyConnection) -> DomainResult<()> {
    CHANGED.with(|c| c.set(true));
    if conn.is_postgres() {
        diesel::sql_query(format!("NOTIFY {CHANNEL}")).execute(conn)?;
    }
    Ok(())
}

/// Whether the work just done on this thread changed the lookups. Reading clears it.
pub fn take_changed() -> bool {
    CHANGED.with(|c| c.replace(false))
}
