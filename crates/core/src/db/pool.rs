//! An r2d2 connection manager that picks the backend from the URL scheme.
//!
//! `AnyConnection::establish` would guess the backend and turn any string into a
//! SQLite file name, hiding typos and the real PostgreSQL error; this one does not.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use diesel::Connection;

use super::{AnyConnection, prepare_postgres, prepare_sqlite};

pub type DbPool = r2d2::Pool<ConnectionManager>;
pub type PooledConn = r2d2::PooledConnection<ConnectionManager>;

/// A parsed database URL: which backend, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DbUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl DbUrl {
    /// Accepts `sqlite://path`, `sqlite:path`, `postgres://...` and `postgresql://...`.
    pub fn parse(url: &str) -> Result<DbUrl, String> {
        let url = url.trim();
        if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
            if path.is_empty() {
                return Err("the SQLite URL has no file path (expected sqlite://path/to/file.db)".into());
            }
            return Ok(DbUrl::Sqlite(PathBuf::from(path)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DbUrl::Postgres(url.to_string()));
        }
        Err(format!(
            "unsupported database URL {:?}: use sqlite://path/to/file.db or postgres://user@host/db",
            redact(url)
        ))
    }

    /// The URL with any password replaced, for logs and messages.
    pub fn display(&self) -> String {
        match self {
            DbUrl::Sqlite(p) => format!("sqlite://{}", p.display()),
            DbUrl::Postgres(u) => redact(u),
        }
    }
}

/// Hides the password of `scheme://user:password@host`.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

#[derive(Debug)]
pub struct ConnectError(String);

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConnectError {}

/// Who copies SQLite's write-ahead log back into the database file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Checkpoints {
    /// The connection whose commit takes the log past 1,000 pages (SQLite's
    /// default): right for the command line, whose runs are short.
    OnCommit,
    /// The server's background task (`db::checkpoint`): a request that commits
    /// never waits for the copy and its sync.
    InBackground,
}

pub struct ConnectionManager {
    url: DbUrl,
    checkpoints: Checkpoints,
}

impl ConnectionManager {
    pub fn new(url: DbUrl) -> Self {
        ConnectionManager { url, checkpoints: Checkpoints::OnCommit }
    }

    fn connect(&self) -> Result<AnyConnection, ConnectError> {
        match &self.url {
            DbUrl::Sqlite(path) => {
                super::configure_sqlite_library();
                let path_str = path.to_string_lossy();
                let mut conn = diesel::SqliteConnection::establish(&path_str)
                    .map_err(|e| ConnectError(format!("cannot open SQLite database {}: {e}", path.display())))?;
                prepare_sqlite(&mut conn)
                    .and_then(|()| match self.checkpoints {
                        Checkpoints::OnCommit => Ok(()),
                        Checkpoints::InBackground => diesel::connection::SimpleConnection::batch_execute(
                            &mut conn,
                            "PRAGMA wal_autocheckpoint = 0",
                        ),
                    })
                    .map_err(|e| ConnectError(format!("cannot prepare SQLite database {}: {e}", path.display())))?;
                Ok(AnyConnection::Sqlite(conn))
            }
            DbUrl::Postgres(url) => {
                // OpenSSL (used by libpq) otherwise registers an exit handler that frees
                // its state while pool and worker threads may still use it, which can
                // crash a process on its way out. The openssl crate does the same.
                openssl_sys::init();
                let mut conn = diesel::PgConnection::establish(url).map_err(|e| {
                    // libpq's message spans lines; one line reads better in a terminal and a log.
                    let cause = e.to_string().split_whitespace().collect::<Vec<_>>().join(" ");
                    ConnectError(format!("cannot connect to PostgreSQL at {}: {cause}", redact(url)))
                })?;
                prepare_postgres(&mut conn)
                    .map_err(|e| ConnectError(format!("cannot prepare PostgreSQL session at {}: {e}", redact(url))))?;
                Ok(AnyConnection::Postgresql(conn))
            }
        }
    }
}

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = AnyConnection;
    type Error = ConnectError;

    fn connect(&self) -> Result<AnyConnection, ConnectError> {
        ConnectionManager::connect(self)
    }

    fn is_valid(&self, conn: &mut AnyConnection) -> Result<(), ConnectError> {
        use diesel::r2d2::R2D2Connection;
        conn.ping().map_err(|e| ConnectError(e.to_string()))
    }

    /// Checked when a connection goes back to the pool: one that lost its server (or
    /// is stuck in a failed transaction) is dropped, so the pool heals by itself.
    fn has_broken(&self, conn: &mut AnyConnection) -> bool {
        use diesel::r2d2::R2D2Connection;
        conn.is_broken()
    }
}

/// After a failed statement: when the connection itself is gone (the server was
/// restarted, a failover, a cut network), it is marked broken, so the pool drops it
/// when it comes back instead of handing it out again. Tells whether it was gone.
pub fn discard_if_dead(conn: &mut AnyConnection) -> bool {
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    use diesel::r2d2::R2D2Connection;
    if conn.ping().is_ok() {
        return false;
    }
    match conn {
        AnyConnection::Postgresql(c) => AnsiTransactionManager::transaction_manager_status_mut(c).set_in_error(),
        AnyConnection::Sqlite(c) => AnsiTransactionManager::transaction_manager_status_mut(c).set_in_error(),
    }
    true
}

/// Opens the pool. The first connection is made here, so a wrong URL, password or
/// unreachable server is reported at start with the real cause.
pub fn build_pool(url: &DbUrl, max_size: u32) -> Result<DbPool, String> {
    build_pool_with(url, max_size, Checkpoints::OnCommit)
}

/// `build_pool`, saying who checkpoints SQLite's log (the server: `InBackground`).
pub fn build_pool_with(url: &DbUrl, max_size: u32, checkpoints: Checkpoints) -> Result<DbPool, String> {
    let manager = ConnectionManager { url: url.clone(), checkpoints };
    // Fail fast with the real error instead of r2d2's generic timeout.
    let probe = manager.connect().map_err(|e| e.to_string())?;
    drop(probe);
    r2d2::Pool::builder()
        .max_size(max_size)
        .min_idle(Some(1))
        .connection_timeout(Duration::from_secs(3))
        // No ping per checkout (three per page view); broken connections are
        // dropped on return instead, and a pooled one that died fails once.
        .test_on_check_out(false)
        .error_handler(Box::new(r2d2::LoggingErrorHandler))
        .build(manager)
        .map_err(|e| e.to_string())
}

/// Remembers when the database was last found unreachable. Code that cannot return
/// our own error (the session middleware) fails with a bare 500; with this mark the
/// error layer can tell the person the truth: the database is down (503).
#[derive(Clone, Default)]
pub struct DbStatus(std::sync::Arc<std::sync::atomic::AtomicI64>);

impl DbStatus {
    pub fn mark_unavailable(&self) {
        self.0.store(chrono::Utc::now().timestamp(), std::sync::atomic::Ordering::Relaxed);
    }

    /// True when the database failed within the last few seconds.
    pub fn recently_unavailable(&self) -> bool {
        let at = self.0.load(std::sync::atomic::Ordering::Relaxed);
        at != 0 && chrono::Utc::now().timestamp() - at <= 5
    }
}
