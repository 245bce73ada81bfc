//! Making the demonstration desk: people, catalogue, templates, tickets with their
//! threads, access rows and daily statistics, from a seeded random generator.

use std::collections::{HashMap, HashSet};

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;

use super::fixtures::*;
use super::load::*;
use super::{ADMIN_EMAIL, MANAGERS};
use crate::db::AnyConnection;
use crate::db::schema::*;
use crate::domain::now;
use crate::domain::states::{
    AccessGrant, AccessSource, AffiliateStatus, AuthorKind, OfferStatus, Privacy, RequestState, Role, TicketKind,
    TicketStatus,
};
use crate::error::DomainResult;

pub(super) struct DemoAffiliate {
    id: i64,
    manager_id: i64,
    name: String,
}

pub(super) struct Generator {
    pub(super) start: NaiveDateTime,
    pub(super) total_tickets: usize,
    pub(super) next_ticket_id: i64,
    pub(super) next_message_id: i64,
    pub(super) messages_written: usize,
    pub(super) managers: Vec<(i64, String)>,
    pub(super) admin_id: i64,
    pub(super) affiliates: Vec<DemoAffiliate>,
    /// (id, title, privacy)
    pub(super) offers: Vec<(i64, String, Privacy)>,
    pub(super) smartlinks: Vec<(i64, String, Privacy)>,
    /// Premoderated offers kept free of access and requests for affiliate1.
    pub(super) reserved_for_first: Vec<i64>,
    pub(super) offer_access: HashMap<(i64, i64), OfferAccessRow>,
    pub(super) smartlink_access: HashMap<(i64, i64), SmartlinkAccessRow>,
    pub(super) pending: HashSet<(TicketKind, i64, i64)>,
    pub(super) pending_offer_requests: usize,
    pub(super) pending_smartlink_requests: usize,
    /// Words already sent to the search vocabulary: the demo's words come from a
    /// small fixed set, so after the first chunk hardly any are new.
    pub(super) words_seen: foldhash::HashSet<String>,
}

impl Generator {
    pub(super) fn new(conn: &mut AnyConnection, total_tickets: usize) -> DomainResult<Generator> {
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
            words_seen: foldhash::HashSet::default(),
        })
    }

    pub(super) fn people(
        &mut self,
        conn: &mut AnyConnection,
        password_hash: &str,
        rng: &mut StdRng,
    ) -> DomainResult<()> {
        let t = self.start - Duration::days(400);
        let mut staff = vec![(Role::Admin, ADMIN_EMAIL.to_string(), "Alex Admin".to_string())];
        for i in 1..=MANAGERS {
            let name = format!("{} {}", MANAGER_FIRST[i - 1], MANAGER_LAST[i - 1]);
            staff.push((Role::Manager, format!("manager{i}@affdesk.test"), name));
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
            if kind == Role::Admin {
                self.admin_id = id;
            } else {
                self.managers.push((id, name));
            }
        }
        let count = 20.max(self.total_tickets / 50);
        let statuses = {
            use AffiliateStatus::*;
            [Active, Active, Active, Active, Active, NotActive, OnModeration, Banned]
        };
        let mut rows = Vec::with_capacity(count);
        for i in 1..=count {
            // The first three are always active so every demo login works.
            let status = if i <= 3 { AffiliateStatus::Active } else { *statuses.choose(rng).unwrap() };
            let manager = &self.managers[(i - 1) % self.managers.len()];
            let name = format!(
                "{} {}",
                AFFILIATE_FIRST[i % AFFILIATE_FIRST.len()],
                AFFILIATE_LAST[(i / 3) % AFFILIATE_LAST.len()]
            );
            let created = t + Duration::hours(i as i64);
            rows.push(AffiliateRow {
                email: format!("affiliate{i}@affdesk.test"),
                login: format!("affiliate{i}"),
                name,
                status,
                manager_id: manager.0,
                password_hash: password_hash.to_string(),
                created_at: created,
                updated_at: created,
            });
        }
        // A thousand a statement (20,000 affiliates at a million tickets); the ids
        // come back by login, as RETURNING gives no order.
        let mut ids: HashMap<String, i64> = HashMap::with_capacity(count);
        for part in rows.chunks(1000) {
            let returned: Vec<(i64, String)> = match conn {
                AnyConnection::Postgresql(c) => diesel::insert_into(affiliates::table)
                    .values(part)
                    .returning((affiliates::id, affiliates::login))
                    .get_results(c)?,
                AnyConnection::Sqlite(c) => diesel::insert_into(affiliates::table)
                    .values(part)
                    .returning((affiliates::id, affiliates::login))
                    .get_results(c)?,
            };
            ids.extend(returned.into_iter().map(|(id, login)| (login, id)));
        }
        for row in rows {
            let id = ids.get(&row.login).copied().ok_or_else(|| {
                crate::error::DomainError::internal(format!("the new affiliate {} came back without its id", row.login))
            })?;
            self.affiliates.push(DemoAffiliate { id, manager_id: row.manager_id, name: row.name });
        }
        Ok(())
    }

    pub(super) fn catalogue(&mut self, conn: &mut AnyConnection, rng: &mut StdRng) -> DomainResult<()> {
        let t = self.start - Duration::days(300);
        let privacies = [Privacy::Public, Privacy::Premoderated, Privacy::Private];
        for (i, title) in OFFER_TITLES.iter().enumerate() {
            let privacy = privacies[i % 3];
            // Two paused/disabled offers show that the affiliate panel hides them.
            let status = match i {
                13 => OfferStatus::Paused,
                14 => OfferStatus::Disabled,
                _ => OfferStatus::Active,
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
            if status == OfferStatus::Active {
                self.offers.push((id, title.to_string(), privacy));
            }
        }
        // Keep two premoderated offers untouched for affiliate1, to try the request flow.
        self.reserved_for_first =
            self.offers.iter().filter(|o| o.2 == Privacy::Premoderated).map(|o| o.0).take(2).collect();
        for (i, name) in SMARTLINK_NAMES.iter().enumerate() {
            let privacy = {
                use Privacy::*;
                [Public, Premoderated, Premoderated, Private, Public][i % 5]
            };
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
            let private: Vec<_> = self.offers.iter().filter(|o| o.2 == Privacy::Private).collect();
            let offer = private[n % private.len()];
            self.offer_access.insert(
                (offer.0, a.id),
                OfferAccessRow {
                    offer_id: offer.0,
                    affiliate_id: a.id,
                    state: AccessGrant::Enabled,
                    source: AccessSource::Manual,
                    updated_at: t + Duration::days(30 + n as i64),
                    updated_by: Some(a.manager_id),
                },
            );
        }
        Ok(())
    }

    pub(super) fn templates(&mut self, conn: &mut AnyConnection) -> DomainResult<()> {
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
    pub(super) fn tickets(&mut self, first: usize, n: usize, rng: &mut StdRng) -> Chunk {
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

            let mut kind = self.pick_kind(k, rng);
            // A request names something the affiliate could ask for at that moment;
            // when nothing is left to ask for, the ticket is a general question.
            let target = if kind.is_request() { self.pick_request_target(kind, affiliate_id, rng) } else { None };
            if target.is_none() && kind.is_request() {
                kind = TicketKind::General;
            }
            let mut status = if rng.random_bool(0.45) { TicketStatus::Open } else { TicketStatus::Closed };
            let (mut offer_id, mut smartlink_id, mut request_state) = (None, None, None);
            let (title, description) = match (kind, target) {
                (TicketKind::OfferRequest | TicketKind::SmartlinkRequest, Some((target, name))) => {
                    let is_offer = kind == TicketKind::OfferRequest;
                    let title = if is_offer {
                        format!("Connect offer {name} ({target})")
                    } else {
                        format!("Connect Smartlink {name} ({target})")
                    };
                    let key = (kind, affiliate_id, target);
                    let want_pending = (is_offer && self.pending_offer_requests < 6)
                        || (!is_offer && self.pending_smartlink_requests < 3)
                        || rng.random_bool(0.35);
                    let state = if want_pending {
                        self.pending.insert(key);
                        if is_offer {
                            self.pending_offer_requests += 1
                        } else {
                            self.pending_smartlink_requests += 1
                        }
                        status = TicketStatus::Open;
                        RequestState::Pending
                    } else {
                        status = TicketStatus::Closed;
                        if rng.random_bool(0.7) { RequestState::Approved } else { RequestState::Rejected }
                    };
                    request_state = Some(state);
                    if is_offer {
                        offer_id = Some(target)
                    } else {
                        smartlink_id = Some(target)
                    }
                    (title, REQUEST_COMMENTS.choose(rng).unwrap().to_string())
                }
                (kind, _) => {
                    let (t, d) = QUESTIONS
                        .iter()
                        .filter(|q| q.0 == kind.as_str())
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
                author_kind: AuthorKind::Affiliate,
                author_id: Some(affiliate_id),
                body: description.clone(),
                internal: false,
                created_at: created,
            });
            self.next_message_id += 1;
            let (mut answers, mut from_affiliate, mut unread_m, mut unread_a) = (0, 1, 1, 0);
            let mut waiting_since = Some(created);
            for r in 0..replies {
                at += Duration::minutes(rng.random_range(5..1800));
                if at > self.start {
                    at = self.start - Duration::seconds(rng.random_range(1..600));
                }
                let internal = r > 0 && !large && rng.random_bool(0.08);
                let by_manager = r % 2 == 0;
                let (author_kind, author_id, body) = if internal {
                    (AuthorKind::Manager, Some(manager_id), INTERNAL_NOTES.choose(rng).unwrap().to_string())
                } else if by_manager {
                    answers += 1;
                    waiting_since = None;
                    unread_m = 0;
                    unread_a += 1;
                    let body = MANAGER_REPLIES
                        .choose(rng)
                        .unwrap()
                        .replace("{name}", &affiliate_name)
                        .replace("{manager}", &manager_name);
                    (AuthorKind::Manager, Some(manager_id), body)
                } else {
                    from_affiliate += 1;
                    waiting_since = waiting_since.or(Some(at));
                    unread_m += 1;
                    unread_a = 0;
                    (AuthorKind::Affiliate, Some(affiliate_id), AFFILIATE_REPLIES.choose(rng).unwrap().to_string())
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
            if let Some(state @ (RequestState::Approved | RequestState::Rejected)) = request_state {
                at += Duration::minutes(rng.random_range(1..120));
                if at > self.start {
                    at = self.start - Duration::seconds(1);
                }
                let verb = if state == RequestState::Approved { "approved" } else { "rejected" };
                messages_out.push(MessageRow {
                    id: self.next_message_id,
                    ticket_id: id,
                    author_kind: AuthorKind::System,
                    author_id: Some(manager_id),
                    body: format!("Request {verb} by {manager_name}."),
                    internal: false,
                    created_at: at,
                });
                self.next_message_id += 1;
                self.record_decision(kind, affiliate_id, offer_id.or(smartlink_id).unwrap(), state, manager_id, at);
            }
            // Old answered tickets have been read on both sides.
            if status == TicketStatus::Closed || rng.random_bool(0.5) {
                unread_a = 0;
            }
            if status == TicketStatus::Closed {
                unread_m = 0;
                waiting_since = None;
            }
            let thread = messages_out.iter().rev().take_while(|m: &&MessageRow| m.ticket_id == id).collect::<Vec<_>>();
            documents.push((id, crate::domain::search::document(&title, thread.iter().rev().map(|m| m.body.as_str()))));
            let last = thread.iter().find(|m| !m.internal);
            tickets_out.push(TicketRow {
                id,
                affiliate_id,
                manager_id: Some(manager_id),
                kind,
                status,
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
                waiting_since,
                last_author_kind: last.map(|m| m.author_kind),
                last_preview: last.map(|m| crate::domain::messages::start_of(&m.body).to_string()),
            });
        }
        self.messages_written += messages_out.len();
        // Found here, on the making thread, so the writing thread only stores them.
        let mut new_words: Vec<String> = Vec::new();
        for (_, doc) in &documents {
            for w in doc.split(' ') {
                if !w.is_empty() && !self.words_seen.contains(w) {
                    self.words_seen.insert(w.to_string());
                    new_words.push(w.to_string());
                }
            }
        }
        new_words.sort_unstable();
        Chunk { tickets: tickets_out, messages: messages_out, documents, new_words }
    }

    pub(super) fn pick_kind(&self, k: usize, rng: &mut StdRng) -> TicketKind {
        use TicketKind::*;
        // The first tickets make sure every kind and the pending requests exist.
        const FIRST: [TicketKind; 8] =
            [OfferRequest, SmartlinkRequest, General, Financial, Technical, Other, OfferRequest, SmartlinkRequest];
        if k >= self.affiliates.len() && k < self.affiliates.len() + FIRST.len() {
            return FIRST[k - self.affiliates.len()];
        }
        match rng.random_range(0..100) {
            0..30 => General,
            30..45 => Financial,
            45..65 => Technical,
            65..75 => Other,
            75..93 => OfferRequest,
            _ => SmartlinkRequest,
        }
    }

    /// A premoderated offer or Smartlink (`kind`) that the affiliate could ask for
    /// now, as the panel allows: not enabled for them and without a pending request.
    /// Two offers stay free for affiliate1, to try the request flow on.
    pub(super) fn pick_request_target(
        &self,
        kind: TicketKind,
        affiliate_id: i64,
        rng: &mut StdRng,
    ) -> Option<(i64, String)> {
        let first = self.affiliates[0].id;
        let targets = if kind == TicketKind::OfferRequest { &self.offers } else { &self.smartlinks };
        let enabled = |target: i64| {
            let key = (target, affiliate_id);
            if kind == TicketKind::OfferRequest {
                self.offer_access.get(&key).is_some_and(|r| r.state == AccessGrant::Enabled)
            } else {
                self.smartlink_access.get(&key).is_some_and(|r| r.state == AccessGrant::Enabled)
            }
        };
        let candidates: Vec<_> = targets
            .iter()
            .filter(|t| t.2 == Privacy::Premoderated)
            .filter(|t| !(affiliate_id == first && self.reserved_for_first.contains(&t.0)))
            .filter(|t| !enabled(t.0) && !self.pending.contains(&(kind, affiliate_id, t.0)))
            .collect();
        candidates.choose(rng).map(|t| (t.0, t.1.clone()))
    }

    pub(super) fn record_decision(
        &mut self,
        kind: TicketKind,
        affiliate_id: i64,
        target: i64,
        state: RequestState,
        by: i64,
        at: NaiveDateTime,
    ) {
        let state = if state == RequestState::Approved { AccessGrant::Enabled } else { AccessGrant::Disabled };
        if kind == TicketKind::OfferRequest {
            let row = OfferAccessRow {
                offer_id: target,
                affiliate_id,
                state,
                source: AccessSource::Ticket,
                updated_at: at,
                updated_by: Some(by),
            };
            self.offer_access.insert((target, affiliate_id), row);
        } else {
            let row = SmartlinkAccessRow {
                smartlink_id: target,
                affiliate_id,
                state,
                source: AccessSource::Ticket,
                updated_at: at,
                updated_by: Some(by),
            };
            self.smartlink_access.insert((target, affiliate_id), row);
        }
    }

    pub(super) fn access_rows(&mut self, conn: &mut AnyConnection) -> DomainResult<()> {
        let offers: Vec<_> = self.offer_access.values().cloned().collect();
        let smartlinks: Vec<_> = self.smartlink_access.values().cloned().collect();
        bulk_insert!(conn, offer_access::table, offers);
        bulk_insert!(conn, smartlink_access::table, smartlinks);
        Ok(())
    }

    /// 90 days per affiliate, on one to three offers each, with weekly rhythm and noise.
    pub(super) fn daily_stats(&mut self, conn: &mut AnyConnection, rng: &mut StdRng) -> DomainResult<()> {
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
