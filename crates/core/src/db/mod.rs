//! The database: one connection type over SQLite and PostgreSQL, its pool and migrations.

pub mod pool;
pub mod schema;
mod stamp;
mod window;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub use pool::{Checkpoints, DbPool, DbStatus, DbUrl, PooledConn, build_pool, build_pool_with, discard_if_dead};
pub use stamp::{MaybeStamp, Stamp};
pub use window::{AnyOf, IdIn, Ids, InWindow, RowPast, any_of, id_in, ids, in_window, row_past, window};

#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// The backend type of `AnyConnection`, for boxed queries and expressions.
pub type Db = <AnyConnection as diesel::Connection>::Backend;

impl AnyConnection {
    pub fn is_postgres(&self) -> bool {
        matches!(self, AnyConnection::Postgresql(_))
    }
}

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// The PostgreSQL advisory lock held while migrating: instances that start at once
/// wait for the first one's run instead of racing it ("affdesk" in ASCII).
const MIGRATION_LOCK: i64 = 0x0061_6666_6465_736b;

/// Advisory locks for the background work every instance runs (sweeps, pruning).
pub const SWEEP_LOCK: i64 = 0x6166_6664_0000_0001;
pub const PRUNE_LOCK: i64 = 0x6166_6664_0000_0002;

/// Runs `f` unless another instance is running the same work right now (a
/// PostgreSQL try-lock: the others skip this round instead of repeating it).
/// SQLite has one instance: `f` always runs. `None` when skipped.
pub fn exclusively<T>(
    conn: &mut AnyConnection,
    lock: i64,
    f: impl FnOnce(&mut AnyConnection) -> T,
) -> QueryResult<Option<T>> {
    #[derive(QueryableByName)]
    struct Got {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        got: bool,
    }
    if !conn.is_postgres() {
        return Ok(Some(f(conn)));
    }
    let got: Got = diesel::sql_query(format!("SELECT pg_try_advisory_lock({lock}) AS got")).get_result(conn)?;
    if !got.got {
        return Ok(None);
    }
    let out = f(conn);
    conn.batch_execute(&format!("SELECT pg_advisory_unlock({lock})"))?;
    Ok(Some(out))
}

/// Runs `f` holding the migration lock on PostgreSQL (waiting for it): work that
/// instances started at once must do one after another, like seeding the demo
/// into an empty database, finds the first one's result. SQLite: `f` runs.
pub fn under_migration_lock<T, E: From<String>>(
    conn: &mut AnyConnection,
    f: impl FnOnce(&mut AnyConnection) -> Result<T, E>,
) -> Result<T, E> {
    if !conn.is_postgres() {
        return f(conn);
    }
    conn.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
        .map_err(|e| E::from(format!("cannot take the migration lock: {e}")))?;
    let out = f(conn);
    if let Err(e) = conn.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})")) {
        log::warn!("could not release the migration lock: {e}");
    }
    out
}

/// Applies every pending migration of the connection's backend. On PostgreSQL one
/// instance at a time: the others wait for the lock, then find nothing to do.
pub fn run_migrations(conn: &mut AnyConnection) -> Result<usize, String> {
    let applied = match conn {
        AnyConnection::Postgresql(c) => {
            c.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
                .map_err(|e| format!("cannot take the migration lock: {e}"))?;
            let applied = c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|v| v.len());
            let unlocked = c.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"));
            if let (Ok(n), Err(e)) = (&applied, &unlocked) {
                log::warn!("applied {n} migrations but could not release the migration lock: {e}");
            }
            applied
        }
        AnyConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
    };
    let applied = applied.map_err(|e| format!("database migration failed: {e}"))?;
    if let AnyConnection::Sqlite(c) = conn {
        refresh_sqlite_statistics(c).map_err(|e| format!("cannot refresh SQLite statistics: {e}"))?;
    }
    Ok(applied)
}

/// SQLite plans from the row counts ANALYZE leaves in `sqlite_stat1`. Without them
/// (a new database, or indexes a migration added) it guesses, and can walk 400,000
/// entries of the status index to find an affiliate's 20 tickets. Refreshed at every
/// start from a bounded sample (milliseconds at any size). The value samples of
/// `sqlite_stat4` are dropped again: a plan is made once for whatever values get
/// bound (SQLite is built with `SQLITE_ENABLE_QPSG`, see `.cargo/config.toml`), so
/// the samples could not serve it.
pub fn refresh_sqlite_statistics(conn: &mut diesel::SqliteConnection) -> QueryResult<()> {
    // Read through the small cache, not the memory map: ANALYZE visits every index
    // once, and through the map all of it would count as the server's memory.
    conn.batch_execute("PRAGMA mmap_size = 0; PRAGMA analysis_limit = 1000; ANALYZE;")?;
    #[derive(diesel::QueryableByName)]
    struct Found {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let stat4: Found =
        diesel::sql_query("SELECT count(*) AS n FROM sqlite_master WHERE name = 'sqlite_stat4'").get_result(conn)?;
    if stat4.n > 0 {
        conn.batch_execute("DELETE FROM sqlite_stat4;")?;
    }
    // Makes this connection read the new statistics; others read them when they see
    // the schema change ANALYZE made.
    conn.batch_execute("ANALYZE sqlite_schema;")?;
    conn.batch_execute(&format!("PRAGMA mmap_size = {SQLITE_MMAP_SIZE}"))
}

/// Settings every SQLite connection needs: foreign keys are off by default in SQLite,
/// WAL lets readers run beside the one writer, busy_timeout makes writers queue
/// instead of failing at once. The database file is read through a memory map:
/// every pooled connection then shares the operating system's copy of the hot pages
/// instead of keeping its own (eight 64 MB caches held 370 MB and were slower), so
/// each connection's own cache only needs room for what it writes. 2 MB: a bulk
/// close of 15,000 tickets took as long with 256 MB, and eight 8 MB caches, once
/// filled by exports and writes, were a third of the server's memory.
pub(crate) fn prepare_sqlite(conn: &mut diesel::SqliteConnection) -> QueryResult<()> {
    conn.batch_execute(
        "PRAGMA foreign_keys = ON; PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; \
         PRAGMA synchronous = NORMAL; PRAGMA cache_size = -2048; PRAGMA temp_store = MEMORY;",
    )?;
    conn.batch_execute(&format!("PRAGMA mmap_size = {SQLITE_MMAP_SIZE}"))
}

/// Inserts many rows in one statement. Diesel's connection over both backends has
/// no multi-row insert; each backend's own does. PostgreSQL takes a large batch as a
/// binary COPY: a 500-row `INSERT ... VALUES` binds thousands of parameters, and
/// its text, different for each row count, was parsed and planned every time (a
/// bulk close's audit, live and email rows spent more in parse and bind than in
/// writing). A few rows stay one `INSERT`: COPY is a round trip more.
macro_rules! insert_rows {
    ($conn:expr, $table:expr, $rows:expr) => {{
        let rows = $rows;
        match $conn {
            $crate::db::AnyConnection::Postgresql(c) if rows.len() >= $crate::db::COPY_FROM => {
                diesel::copy_from($table).from_insertable(rows).execute(c)
            }
            $crate::db::AnyConnection::Postgresql(c) => diesel::insert_into($table).values(rows).execute(c),
            $crate::db::AnyConnection::Sqlite(c) => diesel::insert_into($table).values(rows).execute(c),
        }
    }};
}
/// From how many rows `insert_rows!` copies instead of inserting, on PostgreSQL.
pub const COPY_FROM: usize = 20;
pub(crate) use insert_rows;

/// Drops the pages of the database file this connection has mapped (SQLite;
/// nothing on PostgreSQL). SQLite reads the file through a memory map, and every
/// page a statement touched stays counted in the server's memory while the map
/// lasts: after a text search (thousands of tickets), "all matching" or an export
/// chunk, each pooled connection would hold its own hundreds of megabytes of the
/// file. The pages stay in the kernel's cache; the next read on this connection
/// maps the file again and finds its hot pages there for a page fault each.
pub fn release_memory_map(conn: &mut AnyConnection) -> QueryResult<()> {
    match conn {
        // Lowering the limit unmaps at once (unless a statement still holds a
        // mapped page); raising it again maps lazily, at the next read.
        AnyConnection::Sqlite(c) => {
            c.batch_execute(&format!("PRAGMA mmap_size = 0; PRAGMA mmap_size = {SQLITE_MMAP_SIZE}"))
        }
        AnyConnection::Postgresql(_) => Ok(()),
    }
}

/// Copies what SQLite's write-ahead log holds back into the database file, as far
/// as no reader still needs the log (a passive checkpoint). Nothing on PostgreSQL.
pub fn checkpoint(conn: &mut AnyConnection) -> QueryResult<()> {
    match conn {
        AnyConnection::Sqlite(c) => c.batch_execute("PRAGMA wal_checkpoint(PASSIVE)"),
        AnyConnection::Postgresql(_) => Ok(()),
    }
}

/// How much of the database file SQLite maps (its largest, 2 GB less 64 KB).
const SQLITE_MMAP_SIZE: i64 = 2_147_418_112;

/// SQLite's library-wide settings, made once before the first connection opens.
/// A pooled connection is only ever used by one thread at a time, so SQLite's own
/// per-call locking (its default "serialized" mode) and its global allocation
/// counters, which take a process-wide lock on every allocation, only cost time.
pub(crate) fn configure_sqlite_library() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: sqlite3_config is called before any connection of this process
        // exists (the Once runs ahead of the first open); if the library was already
        // started it refuses with SQLITE_MISUSE and keeps its defaults, which is safe.
        unsafe {
            libsqlite3_sys::sqlite3_config(libsqlite3_sys::SQLITE_CONFIG_MULTITHREAD);
            libsqlite3_sys::sqlite3_config(libsqlite3_sys::SQLITE_CONFIG_MEMSTATUS, 0 as std::ffi::c_int);
        }
    });
}

/// Session settings for PostgreSQL. The list reads pages in index order; with the
/// default cost of a random page (tuned for spinning disks) the planner prefers
/// walking the time index and filtering, which reads thousands of rows when the
/// most recently updated tickets are mostly closed. 1.1 is the usual value for SSDs
/// and memory-resident data, and makes it use the index that matches the filter.
pub(crate) fn prepare_postgres(conn: &mut diesel::PgConnection) -> QueryResult<()> {
    conn.batch_execute("SET random_page_cost = 1.1")
}

/// Runs `f` in a transaction that takes the write lock at once on SQLite
/// (`BEGIN IMMEDIATE`), or in a savepoint inside one already open: a deferred transaction that reads, then writes, fails with
/// SQLITE_BUSY when another writer got there first, instead of waiting its turn.
pub fn write_transaction<T, E, F>(conn: &mut AnyConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    if !matches!(conn, AnyConnection::Sqlite(_)) {
        return conn.transaction(f);
    }
    // Inside a transaction already (an import applies pages of records in one):
    // the lock is held; a savepoint keeps this part undoable on its own.
    if let AnyConnection::Sqlite(c) = conn
        && AnsiTransactionManager::transaction_manager_status_mut(c).transaction_depth()?.is_some()
    {
        return conn.transaction(f);
    }
    if let AnyConnection::Sqlite(c) = conn {
        AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?;
    }
    let result = f(conn);
    let AnyConnection::Sqlite(c) = conn else { unreachable!() };
    match result {
        Ok(value) => {
            AnsiTransactionManager::commit_transaction(c)?;
            Ok(value)
        }
        Err(e) => {
            AnsiTransactionManager::rollback_transaction(c)?;
            Err(e)
        }
    }
}
