//! What a text search found, as the list uses it: the matches narrow the list, and
//! the first page of a search for common words is found by walking the list's own
//! order rather than by looking up every match.

use std::collections::HashSet;

use diesel::connection::DefaultLoadingMode;
use diesel::prelude::*;

use super::places::descending;
use crate::db::schema::tickets;
use crate::db::{AnyConnection, Db};
use crate::domain::search;
use crate::domain::ticket_filter::{Sort, TicketFilter};
use crate::error::DomainResult;

/// The tickets whose text matches, when the filter searches text: found once per
/// request, so the page and its count do not each search again.
pub(super) fn text_matches(conn: &mut AnyConnection, filter: &TicketFilter) -> DomainResult<Option<TextMatches>> {
    if filter.text.is_empty() {
        return Ok(None);
    }
    let ids = search::newest_matches(conn, &filter.text)?;
    Ok(Some(TextMatches { ids, postgres: conn.is_postgres() }))
}

/// The tickets a text search found (at most `search::MAX_MATCHES`, newest first).
pub(super) struct TextMatches {
    pub(super) ids: Vec<i64>,
    postgres: bool,
}

/// How far the list's order is walked for a page of matches before the matches are
/// looked up instead. Read one at a time, 10,000 entries cost about what looking up
/// `search::MAX_MATCHES` tickets does (5–6 ms at a million tickets), so a walk that
/// finds no page at most doubles a search. Common words give a page within a few
/// hundred to a few thousand entries.
const WALK: i64 = 10_000;

impl TextMatches {
    /// PostgreSQL's one plan for any list of ids looks each of them up; when they
    /// are the newest tickets, walking the time index finds a page in a fraction of
    /// that. Only a plan made for the ids at hand knows which.
    pub(super) fn plan_each_time(&self) -> bool {
        self.postgres
    }

    /// Narrows a query to these tickets with one bound value rather than thousands of
    /// placeholders: an array on PostgreSQL (`= ANY($1)`), a JSON array on SQLite.
    pub(super) fn apply<'a>(&self, q: tickets::BoxedQuery<'a, Db>) -> tickets::BoxedQuery<'a, Db> {
        if self.postgres {
            q.filter(tickets::id.eq_any(self.ids.clone()))
        } else {
            q.filter(crate::db::id_in(tickets::id, &self.ids, false))
        }
    }

    /// The first `rows` matches in `list` (the list without the search, in its
    /// order), when walking that order finds them all within `WALK` entries; `None`
    /// when the matches are better looked up. `in_list` is how many matches the
    /// list holds (its filters may keep few of them).
    ///
    /// SQLite sorts a search's matches by looking each one up: 5,000 rows, each on a
    /// page of its own, for a page of 25. Common words match many of the newest
    /// tickets, which are also the recently active ones, so newest first the list's
    /// index meets a page of them within a few thousand entries. How far apart the
    /// matches lie in ids tells how far apart they lie in the list; when a page of
    /// them would span more than `WALK` entries, or the words are not common, they
    /// are looked up. (PostgreSQL's planner makes that choice itself, for the ids
    /// at hand.)
    pub(super) fn first_page_by_walk(
        &self,
        conn: &mut AnyConnection,
        list: tickets::BoxedQuery<'_, Db>,
        sort: Sort,
        key_desc: bool,
        rows: usize,
        in_list: i64,
    ) -> DomainResult<Option<Vec<i64>>> {
        let common = self.ids.len() as i64 >= search::MAX_MATCHES;
        let (Some(newest), Some(oldest)) = (self.ids.first(), self.ids.last()) else { return Ok(None) };
        let spread = (newest - oldest).saturating_add(1).saturating_mul(rows as i64) / in_list.max(1);
        if self.postgres || !common || spread > WALK || !(descending(sort) && key_desc) {
            return Ok(None);
        }
        let wanted: HashSet<i64> = self.ids.iter().copied().collect();
        let mut found = Vec::with_capacity(rows);
        // Read one entry at a time: the walk stops at the page's last match.
        let entries = list.select(tickets::id).limit(WALK).load_iter::<i64, DefaultLoadingMode>(conn)?;
        for id in entries {
            let id = id?;
            if wanted.contains(&id) {
                found.push(id);
                if found.len() == rows {
                    return Ok(Some(found));
                }
            }
        }
        Ok(None)
    }
}
