//! Server-side sessions in the `sessions` table, behind actix-session's `SessionStore`.
//!
//! The cookie carries a random key; the table keeps only its SHA-256, so a database
//! dump cannot be replayed as cookies. Logout deletes the row, so it takes effect at
//! once on every instance sharing the database.

use std::collections::HashMap;
use std::time::Duration as StdDuration;

use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use actix_web::cookie::time::Duration;
use actix_web::web;
use diesel::prelude::*;

use crate::db::schema::{affiliates, sessions, users};
use crate::db::{AnyConnection, DbPool, DbStatus, Stamp};
use crate::domain::account::Account;
use crate::domain::affiliates::Affiliate;
use crate::domain::users::User;
use crate::domain::{now, random_token, secrets::sha256_hex};

#[derive(Clone)]
pub struct DbSessionStore {
    pool: DbPool,
    status: DbStatus,
    /// A session unused this long is over.
    idle: chrono::Duration,
    /// A session is over this long after login, however busy.
    absolute: chrono::Duration,
}

impl DbSessionStore {
    pub fn new(pool: DbPool, status: DbStatus, idle: StdDuration, absolute: StdDuration) -> Self {
        DbSessionStore {
            pool,
            status,
            idle: chrono::Duration::from_std(idle).unwrap_or(chrono::Duration::hours(2)),
            absolute: chrono::Duration::from_std(absolute).unwrap_or(chrono::Duration::hours(24)),
        }
    }
}

type State = HashMap<String, String>;

/// Touching the row on every request would make every page view a write; once a
/// minute is precise enough for an idle timeout measured in hours.
const TOUCH_AFTER_SECS: i64 = 60;

impl SessionStore for DbSessionStore {
    async fn load(&self, session_key: &SessionKey) -> Result<Option<State>, LoadError> {
        let id = sha256_hex(session_key.as_ref().as_bytes());
        let session_id = id.clone();
        let (pool, status, idle) = (self.pool.clone(), self.status.clone(), self.idle);
        // The session and the account it belongs to, in one statement.
        type Row = (String, Stamp, Stamp, Option<User>, Option<Affiliate>);
        let found = web::block(move || {
            run(&pool, &status, |conn| {
                let row: Option<Row> = sessions::table
                    .left_join(users::table)
                    .left_join(affiliates::table)
                    .filter(sessions::id.eq(&id))
                    .select((
                        sessions::state,
                        sessions::last_seen_at,
                        sessions::expires_at,
                        Option::<User>::as_select(),
                        Option::<Affiliate>::as_select(),
                    ))
                    // The id is the key: at most one row, so no `LIMIT`.
                    .get_result(conn)
                    .optional()?;
                let Some((state, last_seen, expires, user, affiliate)) = row else { return Ok(None) };
                let (last_seen, expires) = (last_seen.0, expires.0);
                let t = now();
                if t >= expires || t - last_seen >= idle {
                    diesel::delete(sessions::table.find(&id)).execute(conn)?;
                    return Ok(None);
                }
                if (t - last_seen).num_seconds() >= TOUCH_AFTER_SECS {
                    diesel::update(sessions::table.find(&id)).set(sessions::last_seen_at.eq(t)).execute(conn)?;
                }
                Ok(Some((state, user, affiliate)))
            })
        })
        .await
        // A database that cannot be asked is an outage, never "no session": the
        // error page then says so (503) instead of sending the person to log in.
        .map_err(|e| LoadError::Other(anyhow_error(e.to_string())))?
        .map_err(|e| LoadError::Other(anyhow_error(e)))?;
        let Some((state, user, affiliate)) = found else { return Ok(None) };
        let mut state: State = serde_json::from_str(&state).map_err(|e| LoadError::Deserialization(e.into()))?;
        let account = match (user, affiliate) {
            (Some(u), _) => Some((USER_ROW, serde_json::to_string(&u))),
            (_, Some(a)) => Some((AFFILIATE_ROW, serde_json::to_string(&a))),
            _ => None,
        };
        if let Some((key, json)) = account {
            state.insert(key.to_string(), json.map_err(|e| LoadError::Deserialization(e.into()))?);
        }
        state.insert(SESSION_ID.to_string(), serde_json::Value::String(session_id).to_string());
        Ok(Some(state))
    }

    async fn save(&self, session_state: State, _ttl: &Duration) -> Result<SessionKey, SaveError> {
        let key = random_token(32);
        let id = sha256_hex(key.as_bytes());
        let (user_id, affiliate_id) = principal_ids(&session_state);
        let state = serde_json::to_string(&stored(session_state)).map_err(|e| SaveError::Serialization(e.into()))?;
        let pool = self.pool.clone();
        let status = self.status.clone();
        let absolute = self.absolute;
        web::block(move || {
            run(&pool, &status, |conn| {
                let t = now();
                diesel::insert_into(sessions::table)
                    .values((
                        sessions::id.eq(&id),
                        sessions::state.eq(&state),
                        sessions::created_at.eq(t),
                        sessions::last_seen_at.eq(t),
                        sessions::expires_at.eq(t + absolute),
                        sessions::user_id.eq(user_id),
                        sessions::affiliate_id.eq(affiliate_id),
                    ))
                    .execute(conn)?;
                // Expired rows are swept now and then by the requests that create sessions.
                if rand::random_ratio(1, 100) {
                    diesel::delete(sessions::table.filter(sessions::expires_at.lt(t))).execute(conn)?;
                }
                Ok(())
            })
        })
        .await
        .map_err(|e| SaveError::Other(anyhow_error(e.to_string())))?
        .map_err(|e| SaveError::Other(anyhow_error(e)))?;
        SessionKey::try_from(key).map_err(|e| SaveError::Other(anyhow_error(e.to_string())))
    }

    async fn update(
        &self,
        session_key: SessionKey,
        session_state: State,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        let id = sha256_hex(session_key.as_ref().as_bytes());
        let (user_id, affiliate_id) = principal_ids(&session_state);
        let state =
            serde_json::to_string(&stored(session_state.clone())).map_err(|e| UpdateError::Serialization(e.into()))?;
        let pool = self.pool.clone();
        let status = self.status.clone();
        let updated = web::block(move || {
            run(&pool, &status, |conn| {
                diesel::update(sessions::table.find(&id))
                    .set((
                        sessions::state.eq(&state),
                        sessions::last_seen_at.eq(now()),
                        sessions::user_id.eq(user_id),
                        sessions::affiliate_id.eq(affiliate_id),
                    ))
                    .execute(conn)
            })
        })
        .await
        .map_err(|e| UpdateError::Other(anyhow_error(e.to_string())))?
        .map_err(|e| UpdateError::Other(anyhow_error(e)))?;
        if updated == 0 {
            // The row expired or was deleted meanwhile: start a new session.
            return self.save(session_state, ttl).await.map_err(|e| UpdateError::Other(anyhow_error(e.to_string())));
        }
        Ok(session_key)
    }

    async fn update_ttl(&self, _session_key: &SessionKey, _ttl: &Duration) -> Result<(), anyhow::Error> {
        // Expiry is ours (idle and absolute), kept in the row; nothing to extend here.
        Ok(())
    }

    async fn delete(&self, session_key: &SessionKey) -> Result<(), anyhow::Error> {
        let id = sha256_hex(session_key.as_ref().as_bytes());
        let pool = self.pool.clone();
        let status = self.status.clone();
        web::block(move || run(&pool, &status, |conn| diesel::delete(sessions::table.find(&id)).execute(conn)))
            .await
            .map_err(|e| anyhow_error(e.to_string()))?
            .map_err(anyhow_error)?;
        Ok(())
    }
}

/// Where `load` puts the row of the account a session belongs to, read in the same
/// statement as the session, so the request's login check needs no query of its own
/// (`web::auth`). Never stored: `stored` takes them out again.
pub const USER_ROW: &str = "_user_row";
pub const AFFILIATE_ROW: &str = "_affiliate_row";
/// Where `load` puts the session's own row id (the hash of its key): a live stream
/// names its session by it, to learn when the session is over. Never stored.
pub const SESSION_ID: &str = "_session_id";

fn stored(mut state: State) -> State {
    state.remove(USER_ROW);
    state.remove(AFFILIATE_ROW);
    state.remove(SESSION_ID);
    state
}

/// The account named by the session's principal (`user:3`, `affiliate:7`), kept in
/// columns of its own so `load` can join it.
fn principal_ids(state: &State) -> (Option<i64>, Option<i64>) {
    let principal = state.get(super::auth::PRINCIPAL_KEY).and_then(|v| serde_json::from_str::<String>(v).ok());
    match principal.as_deref().and_then(Account::from_key) {
        Some(Account::User(id)) => (Some(id), None),
        Some(Account::Affiliate(id)) => (None, Some(id)),
        None => (None, None),
    }
}

/// Runs the store's statements on a pooled connection. A failure nearly always
/// means the database went away: it is remembered, so the error page can say so,
/// and a connection that died is dropped from the pool instead of reused.
fn run<T>(pool: &DbPool, status: &DbStatus, f: impl FnOnce(&mut AnyConnection) -> QueryResult<T>) -> Result<T, String> {
    let mut conn = pool.get().map_err(|e| {
        status.mark_unavailable();
        e.to_string()
    })?;
    f(&mut conn).map_err(|e| {
        status.mark_unavailable();
        crate::db::discard_if_dead(&mut conn);
        e.to_string()
    })
}

fn anyhow_error(msg: String) -> anyhow::Error {
    anyhow::Error::msg(msg)
}
