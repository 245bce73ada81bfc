//! Places in the ticket list: the order each sort reads in, a row's place in it
//! (the cursor of page links and of the thread's "next ticket"), and the
//! conditions that read the rows past a place from an index.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::Db;
use crate::db::schema::tickets;
use crate::domain::ticket_filter::Sort;
use crate::domain::tickets::Ticket;

/// A position in the sorted list: the sort value and id of a boundary row. Pages
/// are read from it by an index range scan, so a deep page costs what page 1 does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub at: NaiveDateTime,
    pub id: i64,
}

impl Cursor {
    pub fn encode(&self) -> String {
        format!("{}.{}", self.at.and_utc().timestamp_micros(), self.id)
    }

    pub fn decode(s: &str) -> Option<Cursor> {
        let (micros, id) = s.split_once('.')?;
        let at = chrono::DateTime::from_timestamp_micros(micros.parse().ok()?)?.naive_utc();
        Some(Cursor { at, id: id.parse().ok()? })
    }
}

pub(super) fn descending(sort: Sort) -> bool {
    matches!(sort, Sort::UpdatedDesc | Sort::CreatedDesc)
}

pub(super) fn key(sort: Sort, t: &Ticket) -> NaiveDateTime {
    key_of(sort, t.updated_at, t.created_at, t.waiting_since)
}

pub(super) fn key_of(
    sort: Sort,
    updated: NaiveDateTime,
    created: NaiveDateTime,
    waiting: Option<NaiveDateTime>,
) -> NaiveDateTime {
    match sort {
        Sort::UpdatedDesc | Sort::UpdatedAsc => updated,
        Sort::CreatedDesc | Sort::CreatedAsc => created,
        // The waiting sort lists waiting tickets only, which all have the time.
        Sort::WaitingLongest => waiting.unwrap_or(updated),
    }
}

/// A ticket's place in a list of this order.
pub fn place(sort: Sort, ticket: &Ticket) -> Cursor {
    Cursor { at: key(sort, ticket), id: ticket.id }
}

/// The query in the order of `sort`, read forwards (`key_desc`) or backwards.
pub(super) fn ordered(q: tickets::BoxedQuery<'_, Db>, sort: Sort, key_desc: bool) -> tickets::BoxedQuery<'_, Db> {
    match (sort, key_desc) {
        (Sort::UpdatedDesc | Sort::UpdatedAsc, true) => q.order((tickets::updated_at.desc(), tickets::id.desc())),
        (Sort::UpdatedDesc | Sort::UpdatedAsc, false) => q.order((tickets::updated_at.asc(), tickets::id.asc())),
        (Sort::CreatedDesc | Sort::CreatedAsc, true) => q.order((tickets::created_at.desc(), tickets::id.desc())),
        (Sort::CreatedDesc | Sort::CreatedAsc, false) => q.order((tickets::created_at.asc(), tickets::id.asc())),
        (Sort::WaitingLongest, true) => q.order((tickets::waiting_since.desc(), tickets::id.desc())),
        (Sort::WaitingLongest, false) => q.order((tickets::waiting_since.asc(), tickets::id.asc())),
    }
}

/// Rows strictly past the cursor in the direction of reading. Written as
/// `key <= c AND (key < c OR id < c.id)` so both databases bound an index range.
pub(super) fn past_cursor(
    q: tickets::BoxedQuery<'_, Db>,
    sort: Sort,
    c: Cursor,
    descending: bool,
) -> tickets::BoxedQuery<'_, Db> {
    match (sort, descending) {
        (Sort::UpdatedDesc | Sort::UpdatedAsc, true) => {
            q.filter(tickets::updated_at.le(c.at)).filter(tickets::updated_at.lt(c.at).or(tickets::id.lt(c.id)))
        }
        (Sort::UpdatedDesc | Sort::UpdatedAsc, false) => {
            q.filter(tickets::updated_at.ge(c.at)).filter(tickets::updated_at.gt(c.at).or(tickets::id.gt(c.id)))
        }
        (Sort::CreatedDesc | Sort::CreatedAsc, true) => {
            q.filter(tickets::created_at.le(c.at)).filter(tickets::created_at.lt(c.at).or(tickets::id.lt(c.id)))
        }
        (Sort::CreatedDesc | Sort::CreatedAsc, false) => {
            q.filter(tickets::created_at.ge(c.at)).filter(tickets::created_at.gt(c.at).or(tickets::id.gt(c.id)))
        }
        (Sort::WaitingLongest, true) => q
            .filter(tickets::waiting_since.le(c.at))
            .filter(tickets::waiting_since.lt(c.at).or(tickets::id.lt(c.id).nullable())),
        (Sort::WaitingLongest, false) => q
            .filter(tickets::waiting_since.ge(c.at))
            .filter(tickets::waiting_since.gt(c.at).or(tickets::id.gt(c.id).nullable())),
    }
}

/// The rows of `q` after the cursor in the list, as one row value (PostgreSQL).
pub(super) fn row_past(
    q: tickets::BoxedQuery<'_, Db>,
    sort: Sort,
    c: Cursor,
    descending: bool,
) -> tickets::BoxedQuery<'_, Db> {
    use crate::db::row_past as past;
    match sort {
        Sort::UpdatedDesc | Sort::UpdatedAsc => {
            q.filter(past(tickets::updated_at, tickets::id, c.at, c.id, descending))
        }
        Sort::CreatedDesc | Sort::CreatedAsc => {
            q.filter(past(tickets::created_at, tickets::id, c.at, c.id, descending))
        }
        Sort::WaitingLongest => q.filter(past(tickets::waiting_since, tickets::id, c.at, c.id, descending)),
    }
}

/// The rows of `q` that share the cursor's sort key and come after it in the list.
pub(super) fn tied_past(
    q: tickets::BoxedQuery<'_, Db>,
    sort: Sort,
    c: Cursor,
    descending: bool,
) -> tickets::BoxedQuery<'_, Db> {
    let q = match sort {
        Sort::UpdatedDesc | Sort::UpdatedAsc => q.filter(tickets::updated_at.eq(c.at)),
        Sort::CreatedDesc | Sort::CreatedAsc => q.filter(tickets::created_at.eq(c.at)),
        Sort::WaitingLongest => q.filter(tickets::waiting_since.eq(c.at)),
    };
    if descending { q.filter(tickets::id.lt(c.id)) } else { q.filter(tickets::id.gt(c.id)) }
}

/// The rows of `q` whose sort key comes after `at` in the list.
pub(super) fn strictly_past(
    q: tickets::BoxedQuery<'_, Db>,
    sort: Sort,
    at: NaiveDateTime,
    descending: bool,
) -> tickets::BoxedQuery<'_, Db> {
    match (sort, descending) {
        (Sort::UpdatedDesc | Sort::UpdatedAsc, true) => q.filter(tickets::updated_at.lt(at)),
        (Sort::UpdatedDesc | Sort::UpdatedAsc, false) => q.filter(tickets::updated_at.gt(at)),
        (Sort::CreatedDesc | Sort::CreatedAsc, true) => q.filter(tickets::created_at.lt(at)),
        (Sort::CreatedDesc | Sort::CreatedAsc, false) => q.filter(tickets::created_at.gt(at)),
        (Sort::WaitingLongest, true) => q.filter(tickets::waiting_since.lt(at)),
        (Sort::WaitingLongest, false) => q.filter(tickets::waiting_since.gt(at)),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// A page link's cursor reads back as itself; any other text is no cursor or
        /// some cursor, never a panic.
        #[test]
        fn cursors_round_trip(micros in -8_000_000_000_000_000i64..8_000_000_000_000_000, id in any::<i64>()) {
            if let Some(at) = chrono::DateTime::from_timestamp_micros(micros) {
                let c = Cursor { at: at.naive_utc(), id };
                prop_assert_eq!(Cursor::decode(&c.encode()), Some(c));
            }
        }

        #[test]
        fn any_text_decodes_or_not(s in ".{0,60}") {
            let _ = Cursor::decode(&s);
        }
    }
}
