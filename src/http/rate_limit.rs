//! Requests per API key and minute, from the key's first request in the window.
//! On PostgreSQL the count lives in the database (one row per key, bumped in the
//! request's own round trip), so the limit holds for every instance together; a
//! single SQLite instance counts in memory.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Double, Integer, Text};

use crate::db::{AnyConnection, Db};
use crate::error::{AppError, AppResult};

pub struct RateLimiter {
    per_minute: u32,
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

const WINDOW: Duration = Duration::from_secs(60);

/// The window and count of a key, bumped: a new window when the last one is a
/// minute old, else one more. Its own statement type rather than `sql_query`, which
/// diesel parses and plans afresh at every run; this one runs on every API request.
struct Bump<'a>(&'a str);

/// The statement, around the key's placeholder (diesel writes that one itself).
const BUMP_BEFORE_KEY: &str = "INSERT INTO api_usage (key_hash, window_start, n) VALUES (";
const BUMP_AFTER_KEY: &str = ", clock_timestamp(), 1) \
     ON CONFLICT (key_hash) DO UPDATE SET \
       n = CASE WHEN api_usage.window_start <= clock_timestamp() - interval '60 seconds' THEN 1 ELSE api_usage.n + 1 END, \
       window_start = CASE WHEN api_usage.window_start <= clock_timestamp() - interval '60 seconds' \
                      THEN clock_timestamp() ELSE api_usage.window_start END \
     RETURNING n, CAST(EXTRACT(EPOCH FROM clock_timestamp() - window_start) AS DOUBLE PRECISION) AS age";

impl QueryFragment<Db> for Bump<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Db>) -> QueryResult<()> {
        out.push_sql(BUMP_BEFORE_KEY);
        out.push_bind_param::<Text, str>(self.0)?;
        out.push_sql(BUMP_AFTER_KEY);
        Ok(())
    }
}

impl QueryId for Bump<'_> {
    type QueryId = ();
    // Cached by its text, which never changes.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Bump<'_> {
    /// `n` and the window's age in seconds.
    type SqlType = (Integer, Double);
}

impl RunQueryDsl<AnyConnection> for Bump<'_> {}

impl RateLimiter {
    pub fn new(per_minute: u32) -> RateLimiter {
        RateLimiter { per_minute, windows: Mutex::new(HashMap::new()) }
    }

    /// Counts one request of `key`; refuses it with the seconds to wait when the
    /// key has used its minute.
    pub fn check(&self, conn: &mut AnyConnection, key: &str) -> AppResult<()> {
        let id = crate::domain::secrets::hash_api_key(key);
        if conn.is_postgres() { self.check_shared(conn, &id) } else { self.check_here(&id) }
    }

    fn refuse(&self, elapsed_secs: f64) -> AppError {
        let wait = (WINDOW.as_secs_f64() - elapsed_secs).ceil().max(1.0) as u64;
        AppError::TooManyRequests { retry_after_secs: wait }
    }

    /// The window and count in one statement (`Bump`). The row lock orders
    /// concurrent requests of a key.
    fn check_shared(&self, conn: &mut AnyConnection, id: &str) -> AppResult<()> {
        let (n, age): (i32, f64) = Bump(id).get_result(conn)?;
        if n as i64 > self.per_minute as i64 {
            return Err(self.refuse(age));
        }
        Ok(())
    }

    fn check_here(&self, id: &str) -> AppResult<()> {
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if windows.len() > 100_000 {
            windows.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let entry = windows.entry(id.to_string()).or_insert((now, 0));
        if now.duration_since(entry.0) >= WINDOW {
            *entry = (now, 0);
        }
        if entry.1 >= self.per_minute {
            return Err(self.refuse(now.duration_since(entry.0).as_secs_f64()));
        }
        entry.1 += 1;
        Ok(())
    }
}
