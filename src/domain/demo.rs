//! Demonstration and benchmark data: `serve --demo` and `affdesk demo [--tickets N]`.
//!
//! Rows are generated in Rust with explicit ids and written in large batches inside
//! transactions (PostgreSQL: binary COPY), so a million tickets load in about a minute.

use std::collections::{HashMap, HashSet};

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

use super::{now, secrets};
use crate::db::AnyConnection;
use crate::db::schema::*;
use crate::error::AppResult;

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
pub fn database_is_empty(conn: &mut AnyConnection) -> AppResult<bool> {
    let users: i64 = users::table.count().get_result(conn)?;
    let affiliates: i64 = affiliates::table.count().get_result(conn)?;
    Ok(users == 0 && affiliates == 0)
}

/// Seeds the demo data unless the demo admin already exists (so it is idempotent).
pub fn seed(conn: &mut AnyConnection, options: &DemoOptions, progress: &mut dyn FnMut(&str)) -> AppResult<DemoSummary> {
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
        diesel::sql_query("PRAGMA cache_size = -524288").execute(conn)?;
    }
    let started = std::time::Instant::now();

    // One transaction: a load that is stopped half-way leaves nothing behind (the
    // dropped indexes included), so running it again starts clean.
    crate::db::write_transaction(conn, |conn| -> AppResult<()> {
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
        std::thread::scope(|scope| -> AppResult<()> {
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
        super::ticket_counts::rebuild(conn)
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
    if !conn.is_postgres() {
        diesel::sql_query("PRAGMA synchronous = NORMAL").execute(conn)?;
        diesel::sql_query("PRAGMA cache_size = -65536").execute(conn)?;
    }
    Ok(DemoSummary {
        seeded: true,
        affiliates: generator.affiliates.len(),
        tickets: options.tickets,
        messages: generator.messages_written,
    })
}

const CHUNK: usize = 20_000;

#[derive(Insertable, Clone)]
#[diesel(table_name = tickets, treat_none_as_default_value = false)]
struct TicketRow {
    id: i64,
    affiliate_id: i64,
    manager_id: Option<i64>,
    kind: String,
    status: String,
    request_state: Option<String>,
    offer_id: Option<i64>,
    smartlink_id: Option<i64>,
    title: String,
    description: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    manager_answers: i32,
    affiliate_messages: i32,
    unread_by_manager: i32,
    unread_by_affiliate: i32,
}

#[derive(Insertable, Clone)]
#[diesel(table_name = messages, treat_none_as_default_value = false)]
struct MessageRow {
    id: i64,
    ticket_id: i64,
    author_kind: &'static str,
    author_id: Option<i64>,
    body: String,
    internal: bool,
    created_at: NaiveDateTime,
}

#[derive(Insertable, Clone)]
#[diesel(table_name = daily_stats, treat_none_as_default_value = false)]
struct StatsRow {
    day: NaiveDate,
    affiliate_id: i64,
    offer_id: i64,
    clicks: i64,
    unique_clicks: i64,
    conversions: i64,
    payout: i64,
    revenue: i64,
}

#[derive(Insertable, Clone)]
#[diesel(table_name = offer_access, treat_none_as_default_value = false)]
struct OfferAccessRow {
    offer_id: i64,
    affiliate_id: i64,
    state: &'static str,
    source: &'static str,
    updated_at: NaiveDateTime,
    updated_by: Option<i64>,
}

#[derive(Insertable, Clone)]
#[diesel(table_name = smartlink_access, treat_none_as_default_value = false)]
struct SmartlinkAccessRow {
    smartlink_id: i64,
    affiliate_id: i64,
    state: &'static str,
    source: &'static str,
    updated_at: NaiveDateTime,
    updated_by: Option<i64>,
}

/// Writes a batch: binary COPY on PostgreSQL, multi-row INSERTs on SQLite.
macro_rules! bulk_insert {
    ($conn:expr, $table:expr, $rows:expr) => {{
        let rows = $rows;
        match $conn {
            AnyConnection::Postgresql(c) => {
                diesel::copy_from($table).from_insertable(&rows).execute(c)?;
            }
            AnyConnection::Sqlite(c) => {
                for part in rows.chunks(500) {
                    diesel::insert_into($table).values(part).execute(c)?;
                }
            }
        }
    }};
}

/// Tickets with their threads and search documents, made and written together.
struct Chunk {
    tickets: Vec<TicketRow>,
    messages: Vec<MessageRow>,
    documents: Vec<(i64, String)>,
}

fn insert_chunk(conn: &mut AnyConnection, chunk: Chunk) -> AppResult<()> {
    bulk_insert!(conn, tickets::table, chunk.tickets);
    bulk_insert!(conn, messages::table, chunk.messages);
    super::search::insert_many(conn, &chunk.documents)
}

struct DemoAffiliate {
    id: i64,
    manager_id: i64,
    name: String,
}

struct Generator {
    start: NaiveDateTime,
    total_tickets: usize,
    next_ticket_id: i64,
    next_message_id: i64,
    messages_written: usize,
    managers: Vec<(i64, String)>,
    admin_id: i64,
    affiliates: Vec<DemoAffiliate>,
    /// (id, title, privacy)
    offers: Vec<(i64, String, &'static str)>,
    smartlinks: Vec<(i64, String, &'static str)>,
    /// Premoderated offers kept free of access and requests for affiliate1.
    reserved_for_first: Vec<i64>,
    offer_access: HashMap<(i64, i64), OfferAccessRow>,
    smartlink_access: HashMap<(i64, i64), SmartlinkAccessRow>,
    pending: HashSet<(&'static str, i64, i64)>,
    pending_offer_requests: usize,
    pending_smartlink_requests: usize,
}

impl Generator {
    fn new(conn: &mut AnyConnection, total_tickets: usize) -> AppResult<Generator> {
        let max_ticket: Option<i64> = tickets::table.select(diesel::dsl::max(tickets::id)).first(conn)?;
        let max_message: Option<i64> = messages::table.select(diesel::dsl::max(messages::id)).first(conn)?;
        Ok(Generator {
            start: now(),
            total_tickets,
            next_ticket_id: max_ticket.unwrap_or(0) + 1,
            next_message_id: max_message.unwrap_or(0) + 1,
            messages_written: 0,
            managers: Vec::new(),
            admin_id: 0,
            affiliates: Vec::new(),
            offers: Vec::new(),
            smartlinks: Vec::new(),
            reserved_for_first: Vec::new(),
            offer_access: HashMap::new(),
            smartlink_access: HashMap::new(),
            pending: HashSet::new(),
            pending_offer_requests: 0,
            pending_smartlink_requests: 0,
        })
    }

    fn people(&mut self, conn: &mut AnyConnection, password_hash: &str, rng: &mut StdRng) -> AppResult<()> {
        let t = self.start - Duration::days(400);
        let mut staff = vec![("admin", ADMIN_EMAIL.to_string(), "Alex Admin".to_string())];
        for i in 1..=MANAGERS {
            let name = format!("{} {}", MANAGER_FIRST[i - 1], MANAGER_LAST[i - 1]);
            staff.push(("manager", format!("manager{i}@affdesk.test"), name));
        }
        for (kind, email, name) in staff {
            let id: i64 = diesel::insert_into(users::table)
                .values((
                    users::kind.eq(kind),
                    users::email.eq(&email),
                    users::name.eq(&name),
                    users::password_hash.eq(password_hash),
                    users::disabled.eq(false),
                    users::sees_all_tickets.eq(false),
                    users::created_at.eq(t),
                    users::updated_at.eq(t),
                ))
                .returning(users::id)
                .get_result(conn)?;
            if kind == "admin" {
                self.admin_id = id;
            } else {
                self.managers.push((id, name));
            }
        }
        let count = 20.max(self.total_tickets / 50);
        let statuses = ["active", "active", "active", "active", "active", "not_active", "on_moderation", "banned"];
        for i in 1..=count {
            // The first three are always active so every demo login works.
            let status = if i <= 3 { "active" } else { *statuses.choose(rng).unwrap() };
            let manager = &self.managers[(i - 1) % self.managers.len()];
            let name = format!(
                "{} {}",
                AFFILIATE_FIRST[i % AFFILIATE_FIRST.len()],
                AFFILIATE_LAST[(i / 3) % AFFILIATE_LAST.len()]
            );
            let created = t + Duration::hours(i as i64);
            let id: i64 = diesel::insert_into(affiliates::table)
                .values((
                    affiliates::email.eq(format!("affiliate{i}@affdesk.test")),
                    affiliates::login.eq(format!("affiliate{i}")),
                    affiliates::name.eq(&name),
                    affiliates::status.eq(status),
                    affiliates::manager_id.eq(Some(manager.0)),
                    affiliates::password_hash.eq(password_hash),
                    affiliates::created_at.eq(created),
                    affiliates::updated_at.eq(created),
                ))
                .returning(affiliates::id)
                .get_result(conn)?;
            self.affiliates.push(DemoAffiliate { id, manager_id: manager.0, name });
        }
        Ok(())
    }

    fn catalogue(&mut self, conn: &mut AnyConnection, rng: &mut StdRng) -> AppResult<()> {
        let t = self.start - Duration::days(300);
        let privacies = ["public", "premoderated", "private"];
        for (i, title) in OFFER_TITLES.iter().enumerate() {
            let privacy = privacies[i % 3];
            // Two paused/disabled offers show that the affiliate panel hides them.
            let status = match i {
                13 => "paused",
                14 => "disabled",
                _ => "active",
            };
            let payout = rng.random_range(50..2500) as i64 * 10;
            let id: i64 = diesel::insert_into(offers::table)
                .values((
                    offers::title.eq(*title),
                    offers::privacy.eq(privacy),
                    offers::status.eq(status),
                    offers::payout.eq(payout),
                    offers::currency.eq("USD"),
                    offers::preview_url.eq(format!("https://example.com/offers/{}", i + 1)),
                    offers::created_at.eq(t + Duration::days(i as i64)),
                ))
                .returning(offers::id)
                .get_result(conn)?;
            if status == "active" {
                self.offers.push((id, title.to_string(), privacy));
            }
        }
        // Keep two premoderated offers untouched for affiliate1, to try the request flow.
        self.reserved_for_first = self.offers.iter().filter(|o| o.2 == "premoderated").map(|o| o.0).take(2).collect();
        for (i, name) in SMARTLINK_NAMES.iter().enumerate() {
            let privacy = ["public", "premoderated", "premoderated", "private", "public"][i % 5];
            let id: i64 = diesel::insert_into(smartlinks::table)
                .values((
                    smartlinks::name.eq(*name),
                    smartlinks::privacy.eq(privacy),
                    smartlinks::created_at.eq(t + Duration::days(i as i64)),
                ))
                .returning(smartlinks::id)
                .get_result(conn)?;
            self.smartlinks.push((id, name.to_string(), privacy));
        }
        // A few access rows set by hand: private offers enabled for some affiliates.
        for (n, a) in self.affiliates.iter().take(8).enumerate() {
            let private: Vec<_> = self.offers.iter().filter(|o| o.2 == "private").collect();
            let offer = private[n % private.len()];
            self.offer_access.insert(
                (offer.0, a.id),
                OfferAccessRow {
                    offer_id: offer.0,
                    affiliate_id: a.id,
                    state: "enabled",
                    source: "manual",
                    updated_at: t + Duration::days(30 + n as i64),
                    updated_by: Some(a.manager_id),
                },
            );
        }
        Ok(())
    }

    fn templates(&mut self, conn: &mut AnyConnection) -> AppResult<()> {
        let t = self.start - Duration::days(60);
        for (i, (title, body)) in REPLY_TEMPLATES.iter().enumerate() {
            let author = if i % 2 == 0 { self.admin_id } else { self.managers[i % self.managers.len()].0 };
            diesel::insert_into(reply_templates::table)
                .values((
                    reply_templates::title.eq(*title),
                    reply_templates::body.eq(*body),
                    reply_templates::created_by.eq(Some(author)),
                    reply_templates::updated_by.eq(Some(author)),
                    reply_templates::created_at.eq(t + Duration::days(i as i64)),
                    reply_templates::updated_at.eq(t + Duration::days(i as i64)),
                ))
                .execute(conn)?;
        }
        Ok(())
    }

    /// Tickets `first .. first + n` of the run, with their threads.
    fn tickets(&mut self, first: usize, n: usize, rng: &mut StdRng) -> Chunk {
        let large = self.total_tickets > 10_000;
        let mut tickets_out = Vec::with_capacity(n);
        let mut messages_out = Vec::with_capacity(n * 4);
        let mut documents = Vec::with_capacity(n);
        let span_minutes = 180 * 24 * 60;
        for k in first..first + n {
            let id = self.next_ticket_id;
            self.next_ticket_id += 1;
            // Every affiliate gets tickets: the first ones go round-robin.
            let affiliate =
                if k < self.affiliates.len() { &self.affiliates[k] } else { self.affiliates.choose(rng).unwrap() };
            let (affiliate_id, manager_id, affiliate_name) =
                (affiliate.id, affiliate.manager_id, affiliate.name.clone());
            let manager_name =
                self.managers.iter().find(|m| m.0 == manager_id).map(|m| m.1.clone()).unwrap_or_default();
            // Older tickets have lower ids, as in a real desk.
            let age = span_minutes - (k as i64 * span_minutes / self.total_tickets.max(1) as i64);
            let created = self.start - Duration::minutes(age) + Duration::seconds(rng.random_range(0..59));

            let kind = self.pick_kind(k, rng);
            let mut status = if rng.random_bool(0.45) { "open" } else { "closed" };
            let (mut offer_id, mut smartlink_id, mut request_state) = (None, None, None);
            let (title, description) = match kind {
                "offer_request" | "smartlink_request" => {
                    let is_offer = kind == "offer_request";
                    let (target, title) = if is_offer {
                        let o = self.pick_offer(affiliate_id, rng);
                        (o.0, format!("Connect offer {} ({})", o.1, o.0))
                    } else {
                        let s = self.smartlinks.iter().filter(|s| s.2 != "public").collect::<Vec<_>>();
                        let s = s.choose(rng).unwrap();
                        (s.0, format!("Connect Smartlink {} ({})", s.1, s.0))
                    };
                    let key = (kind, affiliate_id, target);
                    let want_pending = (is_offer && self.pending_offer_requests < 6)
                        || (!is_offer && self.pending_smartlink_requests < 3)
                        || rng.random_bool(0.35);
                    let state = if want_pending && !self.pending.contains(&key) {
                        self.pending.insert(key);
                        if is_offer {
                            self.pending_offer_requests += 1
                        } else {
                            self.pending_smartlink_requests += 1
                        }
                        status = "open";
                        "pending"
                    } else {
                        status = "closed";
                        if rng.random_bool(0.7) { "approved" } else { "rejected" }
                    };
                    request_state = Some(state.to_string());
                    if is_offer {
                        offer_id = Some(target)
                    } else {
                        smartlink_id = Some(target)
                    }
                    (title, REQUEST_COMMENTS.choose(rng).unwrap().to_string())
                }
                _ => {
                    let (t, d) = QUESTIONS
                        .iter()
                        .filter(|q| q.0 == kind)
                        .collect::<Vec<_>>()
                        .choose(rng)
                        .map(|q| (q.1, q.2))
                        .unwrap();
                    (t.to_string(), d.to_string())
                }
            };

            // The thread: replies alternate, starting with the manager's answer.
            let replies = if large { rng.random_range(1..=4) } else { rng.random_range(1..=7) };
            let mut at = created;
            // The opening message carries the affiliate's text, like every ticket's.
            messages_out.push(MessageRow {
                id: self.next_message_id,
                ticket_id: id,
                author_kind: "affiliate",
                author_id: Some(affiliate_id),
                body: description.clone(),
                internal: false,
                created_at: created,
            });
            self.next_message_id += 1;
            let (mut answers, mut from_affiliate, mut unread_m, mut unread_a) = (0, 1, 1, 0);
            for r in 0..replies {
                at += Duration::minutes(rng.random_range(5..1800));
                if at > self.start {
                    at = self.start - Duration::seconds(rng.random_range(1..600));
                }
                let internal = r > 0 && !large && rng.random_bool(0.08);
                let by_manager = r % 2 == 0;
                let (author_kind, author_id, body) = if internal {
                    ("manager", Some(manager_id), INTERNAL_NOTES.choose(rng).unwrap().to_string())
                } else if by_manager {
                    answers += 1;
                    unread_m = 0;
                    unread_a += 1;
                    let body = MANAGER_REPLIES
                        .choose(rng)
                        .unwrap()
                        .replace("{name}", &affiliate_name)
                        .replace("{manager}", &manager_name);
                    ("manager", Some(manager_id), body)
                } else {
                    from_affiliate += 1;
                    unread_m += 1;
                    unread_a = 0;
                    ("affiliate", Some(affiliate_id), AFFILIATE_REPLIES.choose(rng).unwrap().to_string())
                };
                messages_out.push(MessageRow {
                    id: self.next_message_id,
                    ticket_id: id,
                    author_kind,
                    author_id,
                    body,
                    internal,
                    created_at: at,
                });
                self.next_message_id += 1;
            }
            if let Some(state @ ("approved" | "rejected")) = request_state.as_deref() {
                at += Duration::minutes(rng.random_range(1..120));
                if at > self.start {
                    at = self.start - Duration::seconds(1);
                }
                let verb = if state == "approved" { "approved" } else { "rejected" };
                messages_out.push(MessageRow {
                    id: self.next_message_id,
                    ticket_id: id,
                    author_kind: "system",
                    author_id: Some(manager_id),
                    body: format!("Request {verb} by {manager_name}."),
                    internal: false,
                    created_at: at,
                });
                self.next_message_id += 1;
                self.record_decision(kind, affiliate_id, offer_id.or(smartlink_id).unwrap(), state, manager_id, at);
            }
            // Old answered tickets have been read on both sides.
            if status == "closed" || rng.random_bool(0.5) {
                unread_a = 0;
            }
            if status == "closed" {
                unread_m = 0;
            }
            let thread = messages_out.iter().rev().take_while(|m: &&MessageRow| m.ticket_id == id).collect::<Vec<_>>();
            documents.push((id, super::search::document(&title, thread.iter().rev().map(|m| m.body.as_str()))));
            tickets_out.push(TicketRow {
                id,
                affiliate_id,
                manager_id: Some(manager_id),
                kind: kind.to_string(),
                status: status.to_string(),
                request_state,
                offer_id,
                smartlink_id,
                title,
                description,
                created_at: created,
                updated_at: at,
                manager_answers: answers,
                affiliate_messages: from_affiliate,
                unread_by_manager: unread_m,
                unread_by_affiliate: unread_a.min(1),
            });
        }
        self.messages_written += messages_out.len();
        Chunk { tickets: tickets_out, messages: messages_out, documents }
    }

    fn pick_kind(&self, k: usize, rng: &mut StdRng) -> &'static str {
        // The first tickets make sure every kind and the pending requests exist.
        const FIRST: [&str; 8] = [
            "offer_request",
            "smartlink_request",
            "general",
            "financial",
            "technical",
            "other",
            "offer_request",
            "smartlink_request",
        ];
        if k >= self.affiliates.len() && k < self.affiliates.len() + FIRST.len() {
            return FIRST[k - self.affiliates.len()];
        }
        match rng.random_range(0..100) {
            0..30 => "general",
            30..45 => "financial",
            45..65 => "technical",
            65..75 => "other",
            75..93 => "offer_request",
            _ => "smartlink_request",
        }
    }

    fn pick_offer(&self, affiliate_id: i64, rng: &mut StdRng) -> (i64, String) {
        let first = self.affiliates[0].id;
        let candidates: Vec<_> = self
            .offers
            .iter()
            .filter(|o| o.2 != "public" && !(affiliate_id == first && self.reserved_for_first.contains(&o.0)))
            .collect();
        let o = candidates.choose(rng).unwrap();
        (o.0, o.1.clone())
    }

    fn record_decision(&mut self, kind: &str, affiliate_id: i64, target: i64, state: &str, by: i64, at: NaiveDateTime) {
        let state = if state == "approved" { "enabled" } else { "disabled" };
        if kind == "offer_request" {
            let row = OfferAccessRow {
                offer_id: target,
                affiliate_id,
                state,
                source: "ticket",
                updated_at: at,
                updated_by: Some(by),
            };
            self.offer_access.insert((target, affiliate_id), row);
        } else {
            let row = SmartlinkAccessRow {
                smartlink_id: target,
                affiliate_id,
                state,
                source: "ticket",
                updated_at: at,
                updated_by: Some(by),
            };
            self.smartlink_access.insert((target, affiliate_id), row);
        }
    }

    fn access_rows(&mut self, conn: &mut AnyConnection) -> AppResult<()> {
        let offers: Vec<_> = self.offer_access.values().cloned().collect();
        let smartlinks: Vec<_> = self.smartlink_access.values().cloned().collect();
        bulk_insert!(conn, offer_access::table, offers);
        bulk_insert!(conn, smartlink_access::table, smartlinks);
        Ok(())
    }

    /// 90 days per affiliate, on one to three offers each, with weekly rhythm and noise.
    fn daily_stats(&mut self, conn: &mut AnyConnection, rng: &mut StdRng) -> AppResult<()> {
        let today = self.start.date();
        let mut rows = Vec::new();
        let per_affiliate = if self.affiliates.len() > 1000 { 1 } else { 3 };
        for a in &self.affiliates {
            let scale = rng.random_range(20..2000) as f64;
            let offers: Vec<_> = self.offers.choose_multiple(rng, per_affiliate).map(|o| o.0).collect();
            for day in 0..90 {
                let date = today - Duration::days(89 - day);
                for &offer_id in &offers {
                    let weekday = chrono::Datelike::weekday(&date).num_days_from_monday();
                    let rhythm = if weekday >= 5 { 0.7 } else { 1.0 };
                    let clicks = (scale * rhythm * rng.random_range(0.5..1.5)) as i64;
                    let unique = clicks * rng.random_range(60..95) / 100;
                    let conversions = clicks * rng.random_range(0..40) / 1000;
                    let payout = conversions * rng.random_range(200..1500);
                    rows.push(StatsRow {
                        day: date,
                        affiliate_id: a.id,
                        offer_id,
                        clicks,
                        unique_clicks: unique,
                        conversions,
                        payout,
                        revenue: payout * rng.random_range(110..160) / 100,
                    });
                }
            }
            if rows.len() >= 50_000 {
                bulk_insert!(conn, daily_stats::table, std::mem::take(&mut rows));
            }
        }
        bulk_insert!(conn, daily_stats::table, rows);
        Ok(())
    }
}

#[derive(QueryableByName)]
struct IndexDef {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    definition: String,
}

/// Drops the secondary indexes of `tables` (and on PostgreSQL their foreign keys,
/// checked row by row during a load but in one join when added back) and returns
/// the statements that create them again, read from the database's own catalogue
/// so they stay exactly as migrated.
fn drop_secondary_indexes(conn: &mut AnyConnection, tables: &[&str]) -> AppResult<Vec<String>> {
    let list = tables.iter().map(|t| format!("'{t}'")).collect::<Vec<_>>().join(",");
    let mut restore = Vec::new();
    if conn.is_postgres() {
        let keys: Vec<IndexDef> = diesel::sql_query(format!(
            "SELECT c.conname AS name, 'ALTER TABLE ' || r.relname || ' ADD CONSTRAINT ' || c.conname || ' ' || \
             pg_get_constraintdef(c.oid) AS definition FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid \
             WHERE c.contype = 'f' AND r.relname IN ({list}) AND r.relnamespace = current_schema()::regnamespace"
        ))
        .load(conn)?;
        for k in &keys {
            let table = k.definition.split_whitespace().nth(2).unwrap_or_default().to_string();
            diesel::sql_query(format!("ALTER TABLE {table} DROP CONSTRAINT {}", k.name)).execute(conn)?;
        }
        // Index builds sort in memory when they may; the default 64 MB spills to disk.
        diesel::sql_query("SET LOCAL maintenance_work_mem = '512MB'").execute(conn)?;
        let indexes: Vec<IndexDef> = diesel::sql_query(format!(
            "SELECT i.indexname AS name, i.indexdef AS definition FROM pg_indexes i \
             WHERE i.schemaname = current_schema() AND i.tablename IN ({list}) AND NOT EXISTS \
             (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"
        ))
        .load(conn)?;
        for d in &indexes {
            diesel::sql_query(format!("DROP INDEX {}", d.name)).execute(conn)?;
        }
        restore.extend(indexes.into_iter().map(|d| d.definition));
        restore.extend(keys.into_iter().map(|k| k.definition));
    } else {
        let indexes: Vec<IndexDef> = diesel::sql_query(format!(
            "SELECT name, sql AS definition FROM sqlite_master WHERE type = 'index' AND tbl_name IN ({list}) AND sql IS NOT NULL"
        ))
        .load(conn)?;
        for d in &indexes {
            diesel::sql_query(format!("DROP INDEX {}", d.name)).execute(conn)?;
        }
        restore.extend(indexes.into_iter().map(|d| d.definition));
    }
    Ok(restore)
}

/// Explicit ids leave PostgreSQL's sequences behind; move them past the data.
fn reset_sequences(conn: &mut AnyConnection) -> AppResult<()> {
    if conn.is_postgres() {
        for table in ["tickets", "messages"] {
            diesel::sql_query(format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
            ))
            .execute(conn)?;
        }
    }
    Ok(())
}

const MANAGER_FIRST: [&str; 3] = ["Maria", "Oleg", "Priya"];
const MANAGER_LAST: [&str; 3] = ["Keller", "Ivanov", "Nair"];
const AFFILIATE_FIRST: [&str; 12] =
    ["Lena", "Tom", "Aisha", "Carlos", "Mei", "Jonas", "Sofia", "Ravi", "Emma", "Diego", "Yuki", "Omar"];
const AFFILIATE_LAST: [&str; 10] =
    ["Media", "Traffic Co", "Ads", "Digital", "Performance", "Leads", "Partners", "Growth", "Mobile", "Network"];

const OFFER_TITLES: [&str; 15] = [
    "Casino Royale DE",
    "VPN Shield Global",
    "Crypto Wallet Pro",
    "Dating Spark US",
    "Fitness Coach App",
    "Nutra Slim EU",
    "Sweepstakes iPhone",
    "Mobile Game Quest",
    "Insurance Quote UK",
    "Loan Finder PL",
    "E-commerce Fashion",
    "Streaming Plus",
    "Antivirus Total",
    "Forex Academy",
    "Travel Deals",
];
const SMARTLINK_NAMES: [&str; 5] =
    ["Mainstream Mix", "Dating Worldwide", "Nutra Tier 1", "Sweeps Mobile", "Gaming Global"];

/// (type, title, description)
const QUESTIONS: [(&str, &str, &str); 16] = [
    (
        "general",
        "How do I set up postbacks?",
        "Hi! I want to send conversions back to my tracker. Where do I put the postback URL and which macros are available?",
    ),
    (
        "general",
        "Can I run traffic from Telegram?",
        "I have a few Telegram channels with 200k subscribers in total. Is this traffic source allowed for your offers?",
    ),
    (
        "general",
        "Need a personal manager contact",
        "Hello, who is my personal manager and how can I reach them outside the panel?",
    ),
    (
        "general",
        "Question about caps",
        "What happens when an offer reaches its daily cap in the middle of the day? Are extra conversions paid?",
    ),
    (
        "financial",
        "Payout for last month is missing",
        "My balance shows 0 for the previous month although the statistics show 143 approved conversions. Please check.",
    ),
    (
        "financial",
        "Change payment method to USDT",
        "Please switch my payment method from wire transfer to USDT (TRC20). Wallet address in my profile.",
    ),
    ("financial", "Invoice details", "Which company details should I put on my invoice for this month's payout?"),
    ("financial", "Minimum payout threshold", "What is the minimum payout amount and how often are payments sent?"),
    (
        "technical",
        "Tracking link returns 404",
        "The tracking link for offer 12 returns a 404 page since this morning. Clicks still show in statistics.",
    ),
    (
        "technical",
        "Conversions not showing",
        "I see clicks but no conversions for two days; my tracker recorded 37 sales. Is the pixel working?",
    ),
    (
        "technical",
        "API returns 401",
        "Calls to the API with my key return 401 since I regenerated the key. What am I doing wrong?",
    ),
    (
        "technical",
        "Sub-IDs are not passed",
        "sub1 and sub2 are empty in the conversions report although I pass them in the link.",
    ),
    (
        "other",
        "Feedback about the new panel",
        "The new statistics page is great, but exporting to CSV would help a lot.",
    ),
    ("other", "Partnership proposal", "We run a large coupon site and would like to discuss an exclusive deal."),
    ("other", "Update my company name", "Our company was renamed; please update it in my account."),
    ("other", "Holiday schedule", "Will support be available during the holidays?"),
];

const REQUEST_COMMENTS: [&str; 5] = [
    "I run push traffic in Tier 1 countries, about 50k clicks a day.",
    "SEO site with 30k monthly visitors in this vertical. Would love to test it.",
    "Facebook and native ads; we already run similar offers with good CR.",
    "Email list of 120k opted-in subscribers in the target GEO.",
    "Mobile in-app traffic, mostly Android, 100k impressions a day.",
];

const MANAGER_REPLIES: [&str; 8] = [
    "Hi {name}, thanks for reaching out! I've checked and everything looks fine on our side now.",
    "Hello {name}, we are looking into it and will come back to you within 24 hours.",
    "Hi {name}, could you send a screenshot and the click ID so I can investigate?",
    "Done! Please check again and let me know if the issue persists.\n\nBest regards,\n{manager}",
    "Hi {name}, the payment has been sent today; it should arrive within 3 business days.",
    "Thanks {name}, I've forwarded this to our tech team.",
    "Hello {name}, yes, this traffic source is allowed as long as there is no incentivised traffic.",
    "Hi {name}, please use the macros {clickid} and {sub1} in your postback URL.",
];

const AFFILIATE_REPLIES: [&str; 6] = [
    "Thanks! It works now.",
    "Still the same problem, see the attached screenshot please.",
    "Any news on this?",
    "Great, thank you for the quick answer!",
    "Here is the click ID: 5f2b9c1e8a. It happened around 14:00 UTC.",
    "Could you please also check my other offers?",
];

const INTERNAL_NOTES: [&str; 3] = [
    "Checked the logs: the postback was fired with a wrong click ID.",
    "Affiliate had fraud flags last month, be careful with approvals.",
    "Escalated to finance, waiting for their answer.",
];

const REPLY_TEMPLATES: [(&str, &str); 10] = [
    ("Greeting", "Hi {affiliate.name},\n\nthank you for contacting us. "),
    (
        "Looking into it",
        "Hi {affiliate.name},\n\nwe are looking into ticket #{ticket.id} and will get back to you within 24 hours.\n\n{manager.name}",
    ),
    (
        "Offer approved",
        "Hi {affiliate.name},\n\nyou now have access to {offer.title} ({offer.id}). Good luck with the campaign!\n\n{manager.name}",
    ),
    (
        "Offer rejected",
        "Hi {affiliate.name},\n\nunfortunately we cannot give you access to {offer.title} right now: the advertiser limits the traffic sources.\n\n{manager.name}",
    ),
    (
        "Need more details",
        "Hi {affiliate.name},\n\ncould you please send us the click IDs, the time (UTC) and a screenshot?\n\n{manager.name}",
    ),
    (
        "Payment sent",
        "Hi {affiliate.name},\n\nyour payment has been sent. It usually arrives within 3 business days.\n\n{manager.name}",
    ),
    (
        "Postback setup",
        "Hi {affiliate.name},\n\nput your postback URL in Settings → Postbacks and use the macros {clickid} and {sub1}.\n\n{manager.name}",
    ),
    (
        "Forwarded to tech",
        "Hi {affiliate.name},\n\nI've forwarded \"{ticket.title}\" to our technical team.\n\n{manager.name}",
    ),
    (
        "Closing",
        "Hi {affiliate.name},\n\nwe are closing this ticket. Feel free to open a new one if you need anything else.\n\n{manager.name}",
    ),
    (
        "Traffic source allowed",
        "Hi {affiliate.name},\n\nthis traffic source is allowed as long as it is not incentivised.\n\n{manager.name}",
    ),
];
