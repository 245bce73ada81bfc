//! `LIMIT` and `OFFSET` written into a statement's text instead of bound.
//!
//! PostgreSQL cannot plan a bound limit ahead of knowing it, so a prepared statement
//! with `LIMIT $n` is planned again at every run (its generic plan always looks
//! worse than a custom one). With the numbers in the text the list's statements are
//! planned once per connection and reused, which is a large share of the database's
//! work for a page of 25 rows. A deep page's offset is the exception: bound, but
//! inside a subquery (`Window::bind_offset`).

use diesel::expression::{AppearsOnTable, Expression, ValidGrouping, is_aggregate};
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Bool};
use diesel::{QueryResult, RunQueryDsl};

use super::Db;

/// The page sizes the panels offer (10, 25, 50, 100, 500; the API's default is 100),
/// each with the one row more that tells whether there is a next page, and the one
/// row of a lookup. Only these are kept prepared, so odd sizes cannot grow a
/// connection's statement cache without bound.
const PREPARED_LIMITS: [i64; 6] = [1, 11, 26, 51, 101, 501];

/// `query LIMIT limit OFFSET offset`, with both numbers literal (or the offset bound,
/// `bind_offset`); used as a subquery (`in_window`).
pub struct Window<Q> {
    query: Q,
    limit: i64,
    offset: i64,
    bind_offset: bool,
    plan_each_time: bool,
}

/// Reads at most `limit` rows of `query`, skipping `offset`.
pub fn window<Q>(query: Q, limit: i64, offset: i64) -> Window<Q> {
    Window { query, limit: limit.max(0), offset: offset.max(0), bind_offset: false, plan_each_time: false }
}

impl<Q> Window<Q> {
    /// The offset bound inside a subquery (`OFFSET (SELECT $n)`), so the statement is
    /// kept prepared whatever the offset. A literal offset is a new statement for
    /// each number, and a bare bound one PostgreSQL plans for the number given, at
    /// every run (its generic plan, made for an unknown one, always looks worse); in
    /// a subquery no plan knows it, and the generic plan is kept. SQLite reads the
    /// subquery once, as it would the number.
    pub fn bind_offset(mut self) -> Self {
        self.bind_offset = true;
        self
    }

    /// Not kept prepared: planned for the values bound at each run. For statements
    /// whose best plan depends on those values more than planning costs.
    pub fn plan_each_time(mut self, yes: bool) -> Self {
        self.plan_each_time = yes;
        self
    }
}

impl<Q: QueryFragment<Db>> QueryFragment<Db> for Window<Q> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Db>) -> QueryResult<()> {
        let literal_offset = !self.bind_offset && self.offset != 0;
        if self.plan_each_time || literal_offset || !PREPARED_LIMITS.contains(&self.limit) {
            out.unsafe_to_cache_prepared();
        }
        self.query.walk_ast(out.reborrow())?;
        // Both are integers formatted here, never text from outside.
        if self.bind_offset {
            out.push_sql(&format!(" LIMIT {} OFFSET (SELECT ", self.limit));
            out.push_bind_param::<BigInt, _>(&self.offset)?;
            out.push_sql(")");
        } else {
            out.push_sql(&format!(" LIMIT {} OFFSET {}", self.limit, self.offset));
        }
        Ok(())
    }
}

/// A window is also a statement of its own, read like the query it limits: a
/// lookup of one row (`window(q, 1, 0)`) kept prepared where `first()` would bind
/// its limit and be planned at every run.
impl<Q: Query> Query for Window<Q> {
    type SqlType = Q::SqlType;
}

impl<Q> QueryId for Window<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q, Conn> RunQueryDsl<Conn> for Window<Q> {}

/// What diesel asks of a condition on one column `C` (the first parameter): a
/// boolean expression, usable wherever `C` is, never an aggregate, with no static
/// query id.
macro_rules! column_condition {
    ($name:ident<$c:ident $(, $rest:ident)*>) => {
        impl<$c: Expression $(, $rest)*> Expression for $name<$c $(, $rest)*> {
            type SqlType = Bool;
        }

        impl<$c: AppearsOnTable<QS> $(, $rest)*, QS> AppearsOnTable<QS> for $name<$c $(, $rest)*> {}

        impl<$c $(, $rest)*, GB> ValidGrouping<GB> for $name<$c $(, $rest)*> {
            type IsAggregate = is_aggregate::Never;
        }

        impl<$c $(, $rest)*> QueryId for $name<$c $(, $rest)*> {
            type QueryId = ();
            const HAS_STATIC_QUERY_ID: bool = false;
        }
    };
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

column_condition!(InWindow<C, Q>);

impl<C: QueryFragment<Db>, Q: QueryFragment<Db>> QueryFragment<Db> for InWindow<C, Q> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Db>) -> QueryResult<()> {
        self.column.walk_ast(out.reborrow())?;
        out.push_sql(" IN (");
        self.window.walk_ast(out.reborrow())?;
        out.push_sql(")");
        Ok(())
    }
}

/// Lists of up to this many values are kept prepared: one statement per length,
/// so a connection keeps at most this many of each.
const PREPARED_LIST: usize = 16;

/// `column IN (?, ?, …)`. Diesel's `eq_any` never keeps its statement prepared, as
/// it cannot bound how many lengths it will see; filters pick a few types, states or
/// managers, so short lists are kept and only long ones are prepared each time.
pub struct AnyOf<C, T> {
    column: C,
    values: Vec<T>,
}

pub fn any_of<C, T>(column: C, values: Vec<T>) -> AnyOf<C, T> {
    AnyOf { column, values }
}

column_condition!(AnyOf<C, T>);

impl<C, T> QueryFragment<Db> for AnyOf<C, T>
where
    C: Expression + QueryFragment<Db>,
    Db: diesel::sql_types::HasSqlType<C::SqlType>,
    T: diesel::serialize::ToSql<C::SqlType, Db>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Db>) -> QueryResult<()> {
        if self.values.is_empty() {
            out.push_sql("1 = 0");
            return Ok(());
        }
        if self.values.len() > PREPARED_LIST {
            out.unsafe_to_cache_prepared();
        }
        self.column.walk_ast(out.reborrow())?;
        out.push_sql(" IN (");
        for (i, value) in self.values.iter().enumerate() {
            if i > 0 {
                out.push_sql(", ");
            }
            out.push_bind_param::<C::SqlType, T>(value)?;
        }
        out.push_sql(")");
        Ok(())
    }
}

/// `column IN (the ids)`, kept prepared whatever their number: the ids travel as one
/// bound text, so the statement's text never changes with their count. SQLite reads
/// it as a JSON array (`json_each`), PostgreSQL as an array literal (`= ANY`); one
/// placeholder per id made PostgreSQL parse and plan a page's long lists afresh at
/// every request.
pub struct IdIn<C> {
    column: C,
    postgres: bool,
    ids: String,
}

pub fn id_in<C>(column: C, ids: &[i64], postgres: bool) -> IdIn<C> {
    IdIn { column, postgres, ids: encoded(ids, postgres) }
}

/// Ids as one bound text: a JSON array for SQLite, an array literal for PostgreSQL.
fn encoded(ids: &[i64], postgres: bool) -> String {
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    if postgres { format!("{{{list}}}") } else { format!("[{list}]") }
}

column_condition!(IdIn<C>);

impl<C: QueryFragment<Db>> QueryFragment<Db> for IdIn<C> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Db>) -> QueryResult<()> {
        self.column.walk_ast(out.reborrow())?;
        out.push_sql(if self.postgres { " = ANY(CAST(" } else { " IN (SELECT value FROM json_each(" });
        out.push_bind_param::<diesel::sql_types::Text, String>(&self.ids)?;
        out.push_sql(if self.postgres { " AS BIGINT[]))" } else { "))" });
        Ok(())
    }
}

/// `SELECT` of the ids given, one row each, from one bound text: in a window
/// (`in_window(column, window(ids(..), n, 0))`) it narrows a page's statement to
/// rows found beforehand, kept prepared whatever their number.
pub struct Ids {
    postgres: bool,
    ids: String,
}

pub fn ids(ids: &[i64], postgres: bool) -> Ids {
    Ids { postgres, ids: encoded(ids, postgres) }
}

impl QueryFragment<Db> for Ids {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Db>) -> QueryResult<()> {
        out.push_sql(if self.postgres { "SELECT unnest(CAST(" } else { "SELECT value FROM json_each(" });
        out.push_bind_param::<diesel::sql_types::Text, String>(&self.ids)?;
        out.push_sql(if self.postgres { " AS BIGINT[]))" } else { ")" });
        Ok(())
    }
}

/// `(key, id) < (?, ?)`, or `>` read ascending: the rows past a place in a list
/// ordered by a key and then the id. PostgreSQL reads the row value as one range of
/// an index that ends in the key and the id, however many rows share the place's
/// key (SQLite does not when the id is the table's rowid).
pub struct RowPast<K, I, T> {
    key: K,
    id: I,
    at: T,
    at_id: i64,
    descending: bool,
}

pub fn row_past<K, I, T>(key: K, id: I, at: T, at_id: i64, descending: bool) -> RowPast<K, I, T> {
    RowPast { key, id, at, at_id, descending }
}

column_condition!(RowPast<K, I, T>);

impl<K, I, T> QueryFragment<Db> for RowPast<K, I, T>
where
    K: Expression + QueryFragment<Db>,
    I: QueryFragment<Db>,
    Db: diesel::sql_types::HasSqlType<K::SqlType>,
    T: diesel::serialize::ToSql<K::SqlType, Db>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Db>) -> QueryResult<()> {
        out.push_sql("(");
        self.key.walk_ast(out.reborrow())?;
        out.push_sql(", ");
        self.id.walk_ast(out.reborrow())?;
        out.push_sql(if self.descending { ") < (" } else { ") > (" });
        out.push_bind_param::<K::SqlType, T>(&self.at)?;
        out.push_sql(", ");
        out.push_bind_param::<diesel::sql_types::BigInt, i64>(&self.at_id)?;
        out.push_sql(")");
        Ok(())
    }
}
