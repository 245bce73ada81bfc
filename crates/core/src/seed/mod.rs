//! Demonstration and benchmark data (kept apart from the business rules): `serve --demo` and `affdesk demo [--tickets N]`.
//!
//! Rows are generated in Rust with explicit ids and written in large batches inside
//! transactions (PostgreSQL: binary COPY); a million tickets take one and a half minutes
//! on two cores (`docs/benchmarks.md`).

use diesel::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

mod fixtures;
mod generator;
mod load;

use generator::Generator;
use load::{CHUNK, Chunk, drop_secondary_indexes, insert_chunk, reset_sequences};

use crate::db::AnyConnection;
use crate::db::schema::*;
use crate::domain::{secrets, ticket_counts};
use crate::error::DomainResult;

pub const DEMO_PASSWORD: &str = "demo-password";
pub const ADMIN_EMAIL: &str = "admin@affdesk.test";
const MANAGERS: usize = 3;

#[derive(Clone, Debug)]
pub struct DemoOptions {
    pub tickets: usize,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions { tickets: 200 }
    }
}

#[derive(Debug, Default)]
pub struct DemoSummary {
    pub seeded: bool,
    pub affiliates: usize,
    pub tickets: usize,
    pub messages: usize,
}

/// The logins a newcomer can use, printed by `serve --demo` and `demo`.
pub fn logins_text() -> String {
    format!(
        "Demo logins (password \"{DEMO_PASSWORD}\" for all):\n  \
         admin panel     http://<host>/admin/login      {ADMIN_EMAIL}, manager1@affdesk.test .. manager{MANAGERS}@affdesk.test\n  \
         affiliate panel http://<host>/affiliate/login  affiliate1@affdesk.test, affiliate2@affdesk.test, ..."
    )
}

/// True when the database holds no users and no affiliates.
pub fn database_is_empty(conn: &mut AnyConnection) -> DomainResult<bool> {
    let users: i64 = users::table.count().get_result(conn)?;
    let affiliates: i64 = affiliates::table.count().get_result(conn)?;
    Ok(users == 0 && affiliates == 0)
}

/// Seeds the demo data unless the demo admin already exists (so it is idempotent).
pub fn seed(
    conn: &mut AnyConnection,
    options: &DemoOptions,
    progress: &mut dyn FnMut(&str),
) -> DomainResult<DemoSummary> {
    let exists: i64 = users::table.filter(users::email.eq(ADMIN_EMAIL)).count().get_result(conn)?;
    if exists > 0 {
        return Ok(DemoSummary::default());
    }
    let mut rng = StdRng::seed_from_u64(20261125);
    let mut generator = Generator::new(conn, options.tickets)?;
    let password_hash = secrets::hash_password(DEMO_PASSWORD);
    if !conn.is_postgres() {
        // A bulk load either finishes or is run again on a fresh file: skip the
        // syncs, and give the index builds room.
        diesel::sql_query("PRAGMA synchronous = OFF").execute(conn)?;
        // Through a rollback journal the load's pages are written once, into the
        // database file; in WAL mode they would go to the log and be copied over
        // again at the checkpoint, and every read in between would look them up in
        // a log of gigabytes. A new database's pages are not journaled at all.
        // When another connection has the file open (`serve --demo`), SQLite refuses
        // the switch and the load goes through WAL as usual.
        let _ = diesel::sql_query("PRAGMA journal_mode = DELETE").execute(conn);
        diesel::sql_query("PRAGMA cache_size = -524288").execute(conn)?;
    }
    let started = std::time::Instant::now();

    // One transaction: a load that is stopped half-way leaves nothing behind (the
    // dropped indexes included), so running it again starts clean.
    crate::db::write_transaction(conn, |conn| -> DomainResult<()> {
        generator.people(conn, &password_hash, &mut rng)?;
        generator.catalogue(conn, &mut rng)?;
        generator.templates(conn)?;
        progress(&format!(
            "seeded {} managers, {} affiliates, offers and Smartlinks",
            MANAGERS,
            generator.affiliates.len()
        ));
        // Building an index once after the load is much faster than keeping it up
        // to date row by row; only done on an empty desk, where nobody is using it.
        let deferred = if generator.next_ticket_id == 1 && options.tickets >= 10 * CHUNK {
            drop_secondary_indexes(conn, &["tickets", "messages", "ticket_search", "daily_stats"])?
        } else {
            Vec::new()
        };
        // One thread makes the rows while this one writes them: both cores work.
        let total = options.tickets;
        std::thread::scope(|scope| -> DomainResult<()> {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Chunk>(2);
            let maker = &mut generator;
            let rng = &mut rng;
            scope.spawn(move || {
                let mut made = 0;
                while made < total {
                    let n = CHUNK.min(total - made);
                    if tx.send(maker.tickets(made, n, rng)).is_err() {
                        break;
                    }
                    made += n;
                }
            });
            let mut done = 0;
            for chunk in rx {
                done += chunk.tickets.len();
                insert_chunk(conn, chunk)?;
                if total >= 10 * CHUNK && (done % (25 * CHUNK) == 0 || done == total) {
                    progress(&format!("tickets: {done} / {total} ({:.0}s)", started.elapsed().as_secs_f64()));
                }
            }
            Ok(())
        })?;
        generator.access_rows(conn)?;
        generator.daily_stats(conn, &mut rng)?;
        progress(&format!("seeded daily statistics ({:.0}s)", started.elapsed().as_secs_f64()));
        if !deferred.is_empty() {
            progress(&format!("building indexes ({:.0}s)", started.elapsed().as_secs_f64()));
            for sql in &deferred {
                let t0 = std::time::Instant::now();
                diesel::sql_query(sql.as_str()).execute(conn)?;
                if std::env::var("AFFDESK_DEMO_TIMINGS").is_ok() {
                    progress(&format!("  {:.1}s {sql}", t0.elapsed().as_secs_f64()));
                }
            }
        }
        reset_sequences(conn)?;
        fill_ticket_times(conn)?;
        ticket_counts::rebuild(conn)
    })?;
    // Fresh planner statistics, so the first list page already uses the right index.
    // On PostgreSQL VACUUM also marks the freshly loaded pages all-visible: until
    // then (autovacuum gets there in its own time) every index-only scan of the list
    // still visits the table for each row.
    match conn {
        AnyConnection::Postgresql(_) => {
            diesel::sql_query("VACUUM (ANALYZE)").execute(conn)?;
        }
        AnyConnection::Sqlite(c) => crate::db::refresh_sqlite_statistics(c)?,
    }
    // Back to the settings every connection has.
    if let AnyConnection::Sqlite(c) = conn {
        crate::db::prepare_sqlite(c)?;
    }
    Ok(DemoSummary {
        seeded: true,
        affiliates: generator.affiliates.len(),
        tickets: options.tickets,
        messages: generator.messages_written,
    })
}

/// The generated tickets' first answers, closes and decisions, read off their
/// messages and states (as the migration that added the columns does).
fn fill_ticket_times(conn: &mut AnyConnection) -> QueryResult<()> {
    let first_answer = if conn.is_postgres() {
        "UPDATE tickets t SET first_answer_at = f.at FROM (SELECT ticket_id, MIN(created_at) AS at FROM messages \
         WHERE author_kind = 'manager' AND NOT internal GROUP BY ticket_id) f WHERE f.ticket_id = t.id"
    } else {
        "UPDATE tickets SET first_answer_at = (SELECT MIN(m.created_at) FROM messages m \
         WHERE m.ticket_id = tickets.id AND m.author_kind = 'manager' AND m.internal = 0)"
    };
    for sql in [
        first_answer,
        "UPDATE tickets SET closed_at = updated_at WHERE status = 'closed'",
        "UPDATE tickets SET decided_at = updated_at WHERE request_state IN ('approved', 'rejected')",
    ] {
        diesel::sql_query(sql).execute(conn)?;
    }
    Ok(())
}
