//! The use cases called directly, without HTTP, on both backends: who may do what,
//! what each decision does, and that no sequence of actions (racing ones included)
//! lets the ticket totals drift from the tickets.

use affdesk::domain::access::{self, Decision};
use affdesk::domain::affiliates::Affiliate;
use affdesk::domain::lifecycle::{self, BulkAction, Outcome, Selection, Skip};
use affdesk::domain::messages::Draft;
use affdesk::domain::opening::{self, NewQuestion, OpenRefused};
use affdesk::domain::requests::{self, Target};
use affdesk::domain::states::{
    AccessGrant, AccessSource, AffiliateStatus, AuditAction, RequestState, TicketKind, TicketStatus,
};
use affdesk::domain::ticket_filter::TicketFilter;
use affdesk::domain::ticket_list::{self, Detail, PageAt, PageRequest};
use affdesk::domain::tickets::Ticket;
use affdesk::domain::users::User;
use affdesk::domain::{Actor, Via, attachments, messages, reply_templates, stats, threads};
use affdesk::http::filter_params::FilterParams;
use affdesk::http::query::Params;
use affdesk::storage::LocalStore;
use affdesk_core::error::DomainError;
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestRunner};

use crate::db_test;
use crate::desk::{AffiliateAccount, Find, StaffMember, TicketId};
use crate::harness::TestApp;
use crate::support::*;

fn store(app: &TestApp) -> LocalStore {
    LocalStore::new(app.data_dir.join("attachments")).unwrap()
}

fn staff(app: &TestApp, email: &str) -> Actor {
    let mut conn = app.conn();
    User::find_by_email(&mut conn, email).unwrap().unwrap().actor(Via::Panel)
}

fn affiliate(app: &TestApp, id: i64) -> Actor {
    let mut conn = app.conn();
    Affiliate::find(&mut conn, id).unwrap().unwrap().actor(Via::Panel)
}

fn ticket(app: &TestApp, id: i64) -> Ticket {
    app.ticket(TicketId(id))
}

fn is_not_found<T>(r: Result<T, DomainError>) -> bool {
    matches!(r, Err(DomainError::NotFound))
}

fn is_forbidden<T>(r: Result<T, DomainError>) -> bool {
    matches!(r, Err(DomainError::NotAllowed(_)))
}

/// Two managers with an affiliate each, and a question of each affiliate.
struct TwoQueues {
    boss: StaffMember,
    maria: StaffMember,
    shop: AffiliateAccount,
    blog: AffiliateAccount,
    mine: TicketId,
    theirs: TicketId,
}

fn two_queues(app: &TestApp) -> TwoQueues {
    let boss = app.with_admin("boss@network.test");
    let maria = app.with_manager("maria@network.test");
    let omar = app.with_manager("omar@network.test");
    let shop = app.with_affiliate_of(&maria, "shop@partners.test");
    let blog = app.with_affiliate_of(&omar, "blog@partners.test");
    let mine = app.as_affiliate(&shop).asks("Payout", "Where is March?");
    let theirs = app.as_affiliate(&blog).asks("Tracking", "Clicks are not counted.");
    TwoQueues { boss, maria, shop, blog, mine, theirs }
}

db_test!(a_manager_reaches_only_their_own_affiliates, |app| {
    let q = two_queues(&app);
    app.with_template(&q.boss, "Thanks", "Thank you.");
    let store = app.store();
    let manager = app.as_manager(&q.maria).actor;
    let (theirs, mine) = (q.theirs.0, q.mine.0);
    let their_affiliate = q.blog.id;
    let before = app.messages_in(q.theirs, false);
    let mut conn = app.conn();
    let c = &mut *conn;
    assert!(is_not_found(threads::read(c, &manager, theirs, true)));
    assert!(is_not_found(messages::reply(c, &store, &manager, theirs, Draft::new("Hi"), false, Vec::new())));
    assert!(is_not_found(messages::add_note(c, &store, &manager, theirs, Draft::new("Note"), Vec::new())));
    assert!(is_not_found(lifecycle::close(c, &manager, theirs)));
    assert!(is_not_found(lifecycle::reopen(c, &manager, theirs)));
    assert!(is_not_found(lifecycle::remove(c, &store, &manager, theirs)));
    assert!(is_not_found(access::decide(c, &manager, theirs, Decision::Approve, None)));
    assert!(is_not_found(access::decide(c, &manager, theirs, Decision::Reject, None)));
    let template = reply_templates::list(c).unwrap()[0].template.id;
    assert!(is_not_found(reply_templates::fill_for_ticket(c, &manager, theirs, Some(template))));
    let day = affdesk::domain::now().date();
    assert!(stats::for_affiliate(c, &manager, their_affiliate, day, day).unwrap().is_none());
    let question = NewQuestion {
        affiliate_id: Some(their_affiliate),
        kind: TicketKind::General,
        title: "Hello".into(),
        body: "Body".into(),
    };
    assert_eq!(
        opening::open_question(c, &store, &manager, question, Vec::new()).settled().unwrap(),
        Err(OpenRefused::AffiliateNotYours(their_affiliate))
    );
    let summary =
        lifecycle::bulk(c, &store, &manager, BulkAction::Close, &Selection::Ids(vec![theirs, mine])).settled().unwrap();
    assert_eq!(summary.not_allowed, vec![theirs]);
    // The list and "all matching" never include another manager's tickets.
    let all = ticket_list::matching_ids(c, &manager, &TicketFilter::default()).unwrap();
    assert!(!all.contains(&theirs) && all.contains(&mine));
    drop(conn);
    assert_eq!(app.messages_in(q.theirs, false), before, "nothing was written");
    assert_eq!(app.ticket(q.theirs).status, TicketStatus::Open);
    assert_eq!(app.newest_ticket(), q.theirs, "no ticket was opened");
    // Their own work goes through.
    let mut conn = app.conn();
    assert!(threads::read(&mut conn, &manager, mine, true).is_ok());
    assert!(stats::for_affiliate(&mut conn, &manager, q.shop.id, day, day).unwrap().is_some());
});

db_test!(an_affiliate_reaches_only_their_own_tickets_and_no_manager_action, |app| {
    let q = two_queues(&app);
    let store = app.store();
    let (own, other) = (q.mine.0, q.theirs.0);
    let me = app.as_affiliate(&q.shop).actor;
    let template = app.with_template(&q.boss, "Thanks", "Thank you.");
    let mut conn = app.conn();
    let c = &mut *conn;
    assert!(is_not_found(threads::read(c, &me, other, false)));
    assert!(is_not_found(messages::reply(c, &store, &me, other, Draft::new("Hi"), false, Vec::new())));
    assert!(is_forbidden(messages::add_note(c, &store, &me, own, Draft::new("Note"), Vec::new())));
    assert!(is_forbidden(lifecycle::close(c, &me, own)));
    assert!(is_forbidden(lifecycle::reopen(c, &me, own)));
    assert!(is_forbidden(lifecycle::remove(c, &store, &me, own)));
    assert!(is_forbidden(access::decide(c, &me, own, Decision::Approve, None)));
    assert!(is_forbidden(lifecycle::bulk(c, &store, &me, BulkAction::Close, &Selection::Ids(vec![own]))));
    assert!(is_forbidden(reply_templates::save(c, &me, None, "Mine", "Text")));
    assert!(is_forbidden(reply_templates::delete(c, &me, template)));
    let day = affdesk::domain::now().date();
    assert!(is_forbidden(stats::for_affiliate(c, &me, q.shop.id, day, day)));
    // A question is always for themself, whatever affiliate it names.
    let question = NewQuestion {
        affiliate_id: Some(q.blog.id),
        kind: TicketKind::Technical,
        title: "Postback".into(),
        body: "?".into(),
    };
    let opened = opening::open_question(c, &store, &me, question, Vec::new()).settled().unwrap().unwrap();
    assert_eq!(opened.affiliate_id, q.shop.id);
    // Internal notes and their files stay with managers.
    let manager = app.as_manager(&q.maria).actor;
    let note = messages::add_note(c, &store, &manager, own, Draft::new("Fraud check"), Vec::new()).settled().unwrap();
    let thread = threads::read(c, &me, own, false).unwrap();
    assert!(thread.entries.iter().all(|e| e.message.id != note.message.id));
    let staff_thread = threads::read(c, &manager, own, false).unwrap();
    assert!(staff_thread.entries.iter().any(|e| e.message.id == note.message.id));
    assert!(is_not_found(attachments::for_download(c, &me, i64::MAX)));
    drop(conn);
    assert_eq!(app.templates().len(), 1, "the template is still there");
});

db_test!(an_inactive_affiliate_cannot_open_or_request, |app| {
    let q = two_queues(&app);
    let offer = app.with_offer(&q.boss, "Summer promo");
    app.set_status(&q.maria, &q.shop, AffiliateStatus::NotActive);
    let store = app.store();
    let me = app.as_affiliate(&q.shop).actor;
    let mut conn = app.conn();
    let question =
        NewQuestion { affiliate_id: None, kind: TicketKind::General, title: "Hello".into(), body: "Body".into() };
    assert!(matches!(
        opening::open_question(&mut conn, &store, &me, question, Vec::new()).settled().unwrap(),
        Err(OpenRefused::AffiliateNotActive(_))
    ));
    assert!(is_forbidden(requests::request_access(&mut conn, &me, Target::Offer(offer.0), "Please")));
    drop(conn);
    assert_eq!(app.newest_ticket(), q.theirs, "nothing was opened");
});

db_test!(each_decision_does_what_it_says, |app| {
    let q = two_queues(&app);
    let (offer, smartlink) = (app.with_offer(&q.boss, "Summer promo"), app.with_smartlink(&q.boss, "Mobile sweeps"));
    let store = app.store();
    let admin = app.as_manager(&q.boss).actor;
    let mut conn = app.conn();
    // Activate: approved, closed, access enabled from the ticket, a system message.
    let pending = app.as_affiliate(&q.shop).asks_for(offer, "I run SEO traffic").0;
    assert_eq!(access::decide(&mut conn, &admin, pending, Decision::Approve, None).settled().unwrap(), Outcome::Done);
    let after = app.ticket(TicketId(pending));
    assert_eq!((after.request_state, after.status), (Some(RequestState::Approved), TicketStatus::Closed));
    assert_eq!(app.offer_access(offer.0, q.shop.id), Some((AccessGrant::Enabled, AccessSource::Ticket)));
    let last = threads::read(&mut conn, &admin, pending, false).unwrap().entries.pop().unwrap();
    assert!(last.by_system() && last.message.body.starts_with("Request approved by"));
    // Approving again, or deciding a question, changes nothing.
    assert_eq!(
        access::decide(&mut conn, &admin, pending, Decision::Approve, None).settled().unwrap(),
        Outcome::Skipped(Skip::AlreadyDecided)
    );
    let question = q.mine.0;
    assert_eq!(
        access::decide(&mut conn, &admin, question, Decision::Approve, None).settled().unwrap(),
        Outcome::Skipped(Skip::NotARequest)
    );
    // The API names the kind it means; another kind is a bad request.
    let smartlink_pending = {
        let me = app.as_affiliate(&q.shop).actor;
        requests::request_access(&mut conn, &me, Target::Smartlink(smartlink.0), "Mobile").settled().unwrap().id
    };
    assert!(matches!(
        access::decide(&mut conn, &admin, smartlink_pending, Decision::Reject, Some(TicketKind::OfferRequest)),
        Err(DomainError::Invalid(_))
    ));
    assert_eq!(
        access::decide(&mut conn, &admin, smartlink_pending, Decision::Reject, Some(TicketKind::SmartlinkRequest))
            .settled()
            .unwrap(),
        Outcome::Done
    );
    // Close and reopen, each once.
    assert_eq!(lifecycle::close(&mut conn, &admin, question).settled().unwrap(), Outcome::Done);
    assert_eq!(lifecycle::close(&mut conn, &admin, question).settled().unwrap(), Outcome::Skipped(Skip::AlreadyClosed));
    assert_eq!(lifecycle::reopen(&mut conn, &admin, question).settled().unwrap(), Outcome::Done);
    assert_eq!(lifecycle::reopen(&mut conn, &admin, question).settled().unwrap(), Outcome::Skipped(Skip::AlreadyOpen));
    // Reply and close; the affiliate's reply reopens.
    let replied =
        messages::reply(&mut conn, &store, &admin, question, Draft::new("Done."), true, Vec::new()).settled().unwrap();
    assert_eq!((replied.status_before, replied.status), (TicketStatus::Open, TicketStatus::Closed));
    let owner = app.as_affiliate(&q.shop).actor;
    let replied = messages::reply(&mut conn, &store, &owner, question, Draft::new("Not yet."), true, Vec::new())
        .settled()
        .unwrap();
    assert_eq!(replied.status, TicketStatus::Open, "an affiliate cannot close, and a reply reopens");
    // Remove takes the ticket, its messages and its search entry.
    lifecycle::remove(&mut conn, &store, &admin, question).unwrap();
    drop(conn);
    assert!(!app.exists(q.mine));
    assert_eq!(app.messages_in(q.mine, false), 0);
    // Every decision left an audit entry through the panel: approve, reject,
    // close, reopen, remove.
    for action in [AuditAction::Approve, AuditAction::Reject, AuditAction::Close, AuditAction::Reopen] {
        assert_eq!(app.audited_as(action, "panel"), 1, "{action:?}");
    }
    assert_eq!(app.audited(AuditAction::Remove, None), 1);
    assert_counts_consistent(&app);
});

db_test!(bulk_by_filter_acts_on_what_matches_when_it_runs, |app| {
    app.seed_demo();
    let store = store(&app);
    let manager = staff(&app, "manager2@affdesk.test");
    let m2 = user_id(&app, "manager2@affdesk.test");
    let (filter, errors) = TicketFilter::parse(&Params::from_query("status=open"));
    assert!(errors.is_empty());
    let expected = ids_where(&app, &format!("manager_id = {m2} AND status = 'open'"));
    let mut conn = app.conn();
    let summary = lifecycle::bulk(&mut conn, &store, &manager, BulkAction::Close, &Selection::Matching(filter))
        .settled()
        .unwrap();
    let mut done = summary.done.clone();
    done.sort_unstable();
    let mut expected_sorted = expected.clone();
    expected_sorted.sort_unstable();
    assert_eq!(done, expected_sorted);
    let named: Vec<String> = expected_sorted.iter().map(|id| format!("#{id}")).collect();
    if expected.len() <= 10 {
        assert_eq!(summary.text(), format!("Closed {}", named.join(", ")));
    } else {
        assert!(summary.text().starts_with(&format!("Closed {} tickets (", expected.len())), "{}", summary.text());
    }
    drop(conn);
    assert!(ids_where(&app, &format!("manager_id = {m2} AND status = 'open'")).is_empty());
    assert_counts_consistent(&app);
    // Enough tickets that PostgreSQL copies their audit and live rows in: one of each
    // per ticket closed; and one email per affiliate (unless banned or opted out).
    assert!(expected.len() >= affdesk::db::COPY_FROM, "{} tickets", expected.len());
    let list = expected_sorted.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let audited = format!(
        "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'close' AND detail = 'bulk' AND ticket_id IN ({list})"
    );
    assert_eq!(scalar(&app, &audited), expected.len() as i64);
    let live = format!("SELECT COUNT(*) AS n FROM live_events WHERE manager_id = {m2} AND ticket_id IN ({list})");
    assert_eq!(scalar(&app, &live), expected.len() as i64);
    let mailable = format!(
        "SELECT COUNT(DISTINCT a.id) AS n FROM tickets t JOIN affiliates a ON a.id = t.affiliate_id WHERE t.id IN ({list}) \
         AND a.status <> 'banned' AND NOT EXISTS (SELECT 1 FROM notification_optouts o WHERE o.recipient_kind = 'affiliate' \
         AND o.recipient_id = a.id AND o.event = 'ticket_closed')"
    );
    let mailed = format!(
        "SELECT COUNT(*) AS n FROM outbox WHERE event = 'ticket_closed' AND recipient_kind = 'affiliate' AND ticket_id IN ({list})"
    );
    assert!(scalar(&app, &mailable) > 0);
    assert_eq!(scalar(&app, &mailed), scalar(&app, &mailable));
});

db_test!(a_page_past_the_end_is_the_last_page, |app| {
    app.seed_demo();
    let admin = staff(&app, "admin@affdesk.test");
    let (filter, _) = TicketFilter::parse(&Params::from_query("affiliate_id=1"));
    let mut conn = app.conn();
    let last = ticket_list::list(
        &mut conn,
        &admin,
        &filter,
        PageRequest { sort: Default::default(), at: PageAt::Last, per_page: 10, detail: Detail::Ticket },
    )
    .unwrap();
    for at in [PageAt::Number(999_999), PageAt::Number(u32::MAX)] {
        let page = ticket_list::page_or_last(
            &mut conn,
            &admin,
            &filter,
            PageRequest { sort: Default::default(), at, per_page: 10, detail: Detail::Ticket },
        )
        .unwrap();
        assert_eq!(page.at, PageAt::Last);
        let ids: Vec<i64> = page.rows.iter().map(|r| r.ticket.id).collect();
        assert_eq!(ids, last.rows.iter().map(|r| r.ticket.id).collect::<Vec<_>>());
        assert!(!ids.is_empty());
    }
});

/// One thing a person can do to a ticket, for the property test.
#[derive(Clone, Debug)]
enum Step {
    StaffReply { ticket: usize, close: bool },
    AffiliateReply { ticket: usize },
    Note { ticket: usize },
    Close { ticket: usize },
    Reopen { ticket: usize },
    Decide { ticket: usize, approve: bool },
    Remove { ticket: usize },
    BulkClose { tickets: Vec<usize> },
    BulkReject { tickets: Vec<usize> },
    Open { affiliate: usize, kind: usize },
}

fn step() -> impl Strategy<Value = Step> {
    let t = 0usize..40;
    prop_oneof![
        (t.clone(), any::<bool>()).prop_map(|(ticket, close)| Step::StaffReply { ticket, close }),
        t.clone().prop_map(|ticket| Step::AffiliateReply { ticket }),
        t.clone().prop_map(|ticket| Step::Note { ticket }),
        t.clone().prop_map(|ticket| Step::Close { ticket }),
        t.clone().prop_map(|ticket| Step::Reopen { ticket }),
        (t.clone(), any::<bool>()).prop_map(|(ticket, approve)| Step::Decide { ticket, approve }),
        t.clone().prop_map(|ticket| Step::Remove { ticket }),
        proptest::collection::vec(t.clone(), 1..6).prop_map(|tickets| Step::BulkClose { tickets }),
        proptest::collection::vec(t, 1..6).prop_map(|tickets| Step::BulkReject { tickets }),
        (0usize..5, 0usize..4).prop_map(|(affiliate, kind)| Step::Open { affiliate, kind }),
    ]
}

/// Runs a step as the manager of its ticket (or as its affiliate); refusals are fine.
fn run(app: &TestApp, store: &LocalStore, tickets: &[i64], step: &Step) {
    let admin = staff(app, "admin@affdesk.test");
    let mut conn = app.conn();
    let c = &mut *conn;
    let pick = |i: &usize| tickets[*i % tickets.len()];
    let _ = match step {
        Step::StaffReply { ticket, close } => {
            messages::reply(c, store, &admin, pick(ticket), Draft::new("Answer"), *close, Vec::new()).map(|_| ())
        }
        Step::AffiliateReply { ticket } => match Ticket::find(c, pick(ticket)).unwrap() {
            Some(t) => {
                let owner = Affiliate::find(c, t.affiliate_id).unwrap().unwrap().actor(Via::Api);
                messages::reply(c, store, &owner, t.id, Draft::new("More"), false, Vec::new()).map(|_| ())
            }
            None => Ok(()),
        },
        Step::Note { ticket } => {
            messages::add_note(c, store, &admin, pick(ticket), Draft::new("Note"), Vec::new()).map(|_| ())
        }
        Step::Close { ticket } => lifecycle::close(c, &admin, pick(ticket)).map(|_| ()),
        Step::Reopen { ticket } => lifecycle::reopen(c, &admin, pick(ticket)).map(|_| ()),
        Step::Decide { ticket, approve } => {
            let decision = if *approve { Decision::Approve } else { Decision::Reject };
            access::decide(c, &admin, pick(ticket), decision, None).map(|_| ())
        }
        Step::Remove { ticket } => lifecycle::remove(c, store, &admin, pick(ticket)),
        Step::BulkClose { tickets: picked } | Step::BulkReject { tickets: picked } => {
            let action = if matches!(step, Step::BulkClose { .. }) { BulkAction::Close } else { BulkAction::Reject };
            let ids = picked.iter().map(pick).collect();
            lifecycle::bulk(c, store, &admin, action, &Selection::Ids(ids)).map(|_| ())
        }
        Step::Open { affiliate, kind } => {
            let me = Affiliate::find(c, *affiliate as i64 + 1).unwrap().unwrap().actor(Via::Panel);
            let question = NewQuestion {
                affiliate_id: None,
                kind: TicketKind::QUESTIONS[*kind],
                title: "Question".into(),
                body: "Body".into(),
            };
            opening::open_question(c, store, &me, question, Vec::new()).map(|_| ())
        }
    };
}

db_test!(no_sequence_of_actions_lets_the_totals_drift, |app| {
    app.seed_demo();
    let store = store(&app);
    // Open and closed questions and requests in every state.
    let tickets = ids_where(&app, "id % 5 = 0");
    let mut runner = TestRunner::new(ProptestConfig { cases: 12, failure_persistence: None, ..Default::default() });
    runner
        .run(&proptest::collection::vec(step(), 1..25), |steps| {
            for s in &steps {
                run(&app, &store, &tickets, s);
            }
            assert_counts_consistent(&app);
            Ok(())
        })
        .unwrap();
});

db_test!(a_reply_racing_a_close_keeps_the_totals, |app| {
    app.seed_demo();
    let targets = ids_where(&app, "status = 'open' AND type = 'general'");
    for id in targets.into_iter().take(6) {
        let owner = ticket(&app, id).affiliate_id;
        let mut handles = Vec::new();
        for by_affiliate in [true, false] {
            let pool = app.pool.clone();
            let data_dir = app.data_dir.clone();
            handles.push(std::thread::spawn(move || {
                let store = LocalStore::new(data_dir.join("attachments")).unwrap();
                let mut conn = pool.get().unwrap();
                for round in 0..4 {
                    if by_affiliate {
                        let me = Affiliate::find(&mut conn, owner).unwrap().unwrap().actor(Via::Panel);
                        messages::reply(
                            &mut conn,
                            &store,
                            &me,
                            id,
                            Draft::new(&format!("Still there? {round}")),
                            false,
                            Vec::new(),
                        )
                        .settled()
                        .unwrap();
                    } else {
                        let mut admin = User::find_by_email(&mut conn, "admin@affdesk.test").unwrap().unwrap();
                        admin.sees_all_tickets = true;
                        lifecycle::close(&mut conn, &admin.actor(Via::Api), id).settled().unwrap();
                    }
                }
            }));
        }
        for h in handles {
            h.join().unwrap();
        }
        assert_counts_consistent(&app);
    }
});

db_test!(closes_and_reopens_at_once_never_deadlock, |app| {
    app.seed_demo();
    // Tickets of one manager and one type: their totals share rows.
    let m1 = user_id(&app, "manager1@affdesk.test");
    let open = ids_where(&app, &format!("manager_id = {m1} AND type = 'general' AND status = 'open'"));
    let closed = ids_where(&app, &format!("manager_id = {m1} AND type = 'general' AND status = 'closed'"));
    let pairs: Vec<(i64, i64)> = open.into_iter().zip(closed).take(5).collect();
    assert!(!pairs.is_empty());
    for (to_close, to_reopen) in pairs {
        let mut handles = Vec::new();
        for closing in [true, false] {
            let pool = app.pool.clone();
            let data_dir = app.data_dir.clone();
            handles.push(std::thread::spawn(move || {
                let store = LocalStore::new(data_dir.join("attachments")).unwrap();
                let mut conn = pool.get().unwrap();
                let admin = User::find_by_email(&mut conn, "admin@affdesk.test").unwrap().unwrap().actor(Via::Panel);
                for _ in 0..6 {
                    if closing {
                        let ids = Selection::Ids(vec![to_close]);
                        lifecycle::bulk(&mut conn, &store, &admin, BulkAction::Close, &ids).settled().unwrap();
                        lifecycle::reopen(&mut conn, &admin, to_close).settled().unwrap();
                    } else {
                        lifecycle::reopen(&mut conn, &admin, to_reopen).settled().unwrap();
                        lifecycle::close(&mut conn, &admin, to_reopen).settled().unwrap();
                    }
                }
            }));
        }
        for h in handles {
            h.join().expect("no deadlock, no error");
        }
    }
    assert_counts_consistent(&app);
});

db_test!(an_export_reads_every_ticket_once_chunk_by_chunk, |app| {
    app.seed_demo();
    let manager = staff(&app, "manager2@affdesk.test");
    let m2 = user_id(&app, "manager2@affdesk.test");
    let mut conn = app.conn();
    let mut after = None;
    let mut seen = Vec::new();
    loop {
        let chunk = ticket_list::export_chunk(&mut conn, &manager, &TicketFilter::default(), after, 7).unwrap();
        let Some(last) = chunk.last() else { break };
        after = Some(ticket_list::Cursor { at: last.ticket.updated_at, id: last.ticket.id });
        seen.extend(chunk.iter().map(|r| r.ticket.id));
    }
    drop(conn);
    let theirs: Vec<i64> = app.find(Find { manager: Some(m2), ..Find::default() }).iter().map(|t| t.0).collect();
    assert_eq!(seen, theirs, "all of theirs, in list order, once");
    let mut conn = app.conn();
    let affiliate = affiliate(&app, 1);
    assert!(is_forbidden(ticket_list::export_chunk(&mut conn, &affiliate, &TicketFilter::default(), None, 7)));
});
