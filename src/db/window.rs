//! `LIMIT` and `OFFSET` written into a statement's text instead of bound.
//!
//! PostgreSQL cannot plan a bound limit ahead of knowing it, so a prepared statement
//! with `LIMIT $n` is planned again at every run (its generic plan always looks
//! worse than a custom one). With the numbers in the text the list's statements are
//! planned once per connection and reused, which is a large share of the database's
//! work for a page of 25 rows.

use diesel::QueryResult;
use diesel::expression::{AppearsOnTable, Expression, ValidGrouping, is_aggregate};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::Bool;

use super::Db;

/// The page sizes the panels offer (10, 25, 50, 100, 500; the API's default is 100),
/// each with the one row more that tells whether there is a next page. Only these
/// are kept prepared, so odd sizes cannot grow a connection's statement cache
/// without bound.
const PREPARED_LIMITS: [i64; 5] = [11, 26, 51, 101, 501];

/// `query LIMIT limit OFFSET offset`, with both numbers literal; used as a subquery
/// (`in_window`).
pub struct Window<Q> {
    query: Q,
    limit: i64,
    offset: i64,
    plan_each_time: bool,
}

/// Reads at most `limit` rows of `query`, skipping `offset`.
pub fn window<Q>(query: Q, limit: i64, offset: i64) -> Window<Q> {
    Window { query, limit: limit.max(0), offset: offset.max(0), plan_each_time: false }
}

impl<Q> Window<Q> {
    /// Not kept prepared: planned for the values bound at each run. For statements
    /// whose best plan depends on those values more than planning costs.
    pub fn plan_each_time(mut self, yes: bool) -> Self {
        self.plan_each_time = yes;
        self
    }
}

impl<Q: QueryFragment<Db>> QueryFragment<Db> for Window<Q> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Db>) -> QueryResult<()> {
        if self.plan_each_time || self.offset != 0 || !PREPARED_LIMITS.contains(&self.limit) {
            out.unsafe_to_cache_prepared();
        }
        self.query.walk_ast(out.reborrow())?;
        // Both are integers formatted here, never text from outside.
        out.push_sql(&format!(" LIMIT {} OFFSET {}", self.limit, self.offset));
        Ok(())
    }
}

/// `column IN (window)`: narrows a query to the rows a window of another query
/// found, in the same statement, so a page and what it joins are one round trip.
pub struct InWindow<C, Q> {
    column: C,
    window: Window<Q>,
}

pub fn in_window<C, Q>(column: C, window: Window<Q>) -> InWindow<C, Q> {
    InWindow { column, window }
}

impl<C: Expression, Q> Expression for InWindow<C, Q> {
    type SqlType = Bool;
}

impl<C: AppearsOnTable<QS>, Q, QS> AppearsOnTable<QS> for InWindow<C, Q> {}

impl<C, Q, GB> ValidGrouping<GB> for InWindow<C, Q> {
    type IsAggregate = is_aggregate::Never;
}

impl<C, Q> QueryId for InWindow<C, Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<C: QueryFragment<Db>, Q: QueryFragment<Db>> QueryFragment<Db> for InWindow<C, Q> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Db>) -> QueryResult<()> {
        self.column.walk_ast(out.reborrow())?;
        out.push_sql(" IN (");
        self.window.walk_ast(out.reborrow())?;
        out.push_sql(")");
        Ok(())
    }
}
