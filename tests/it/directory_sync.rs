//! The directory sync and the decision push, against a fake Affise over real HTTP:
//! a first pull, an incremental one, a renamed offer, a removed partner, a decision
//! pushed, Affise down then up (pushed once), Affise refusing (shown, retried,
//! never lost) and answers that do not parse.

use std::time::Duration;

use affdesk::affise::{self, Client};
use affdesk::config::Config;
use affdesk::domain::requests::{self, Target};
use affdesk::domain::states::{AccessGrant, AccessSource, AffiliateStatus, Privacy, PushState, RequestState, Role};
use affdesk::domain::users::User;

use crate::desk::TicketId;
use crate::fake_affise::{Failure, FakeAffise, MANAGER};
use crate::harness::{Backend, TestApp};
use crate::support::Settle;

async fn start(backend: Backend, fake: &FakeAffise) -> Option<TestApp> {
    if backend == Backend::Postgres && std::env::var("TEST_POSTGRES_URL").is_err() {
        assert!(std::env::var("CI").is_err(), "CI must set TEST_POSTGRES_URL");
        return None;
    }
    let settings = fake.config();
    Some(TestApp::start_with(backend, move |c: &mut Config| c.affise = Some(settings)).await)
}

/// Runs a sync test on both backends, each with its own fake Affise.
macro_rules! sync_test {
    ($name:ident, |$app:ident, $fake:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[actix_web::test]
            async fn sqlite() {
                let $fake = FakeAffise::start();
                let Some($app) = start(Backend::Sqlite, &$fake).await else { return };
                $body
            }
            #[actix_web::test]
            #[cfg_attr(no_postgres, ignore = "needs PostgreSQL: set TEST_POSTGRES_URL")]
            async fn postgres() {
                let $fake = FakeAffise::start();
                let Some($app) = start(Backend::Postgres, &$fake).await else { return };
                $body
            }
        }
    };
}

async fn wait_until(what: &str, mut ok: impl FnMut() -> bool) {
    let started = std::time::Instant::now();
    while !ok() {
        assert!(started.elapsed() < Duration::from_secs(20), "waited 20 s for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn sync(app: &TestApp, fake: &FakeAffise, full: bool) -> affise::SyncReport {
    let client = Client::new(&fake.config()).unwrap();
    affise::sync_once(&app.pool, &client, full).await
}

fn admin(app: &TestApp) {
    let mut conn = app.conn();
    User::create(&mut conn, "boss@network.test", "Boss", Role::Admin, affdesk::seed::DEMO_PASSWORD).settled().unwrap();
}

/// Pushes Affise took.
fn done(app: &TestApp) -> usize {
    app.affise_pushes().iter().filter(|p| p.state == PushState::Done).count()
}

/// What Affise last answered to the (one) push.
fn last_error(app: &TestApp) -> String {
    app.affise_pushes().first().and_then(|p| p.last_error.clone()).unwrap_or_default()
}

/// Partner `affise_id` asks for offer `offer` (by Affise id): the ticket's id.
fn request(app: &TestApp, partner: &str, offer: &str) -> i64 {
    let affiliate = app.affiliate_from_affise(partner).id;
    let offer = app.offer_from_affise(offer).id;
    let mut conn = app.conn();
    let actor = affdesk::domain::Actor::affiliate(
        affiliate,
        affdesk::domain::states::AffiliateStatus::Active,
        affdesk::domain::Via::Panel,
    );
    requests::request_access(&mut conn, &actor, Target::Offer(offer), "I run SEO traffic").settled().unwrap().id
}

sync_test!(first_sync_brings_the_network_directory, |app, fake| {
    fake.seed(150);
    let report = sync(&app, &fake, false).await;
    assert!(report.is_ok(), "{:?}", report.lines());
    // The affiliate manager (not the advertiser manager), with Affise's id.
    let from_affise: Vec<User> = app.all_staff().into_iter().filter(|u| u.affise_id.is_some()).collect();
    assert_eq!(from_affise.len(), 1);
    assert_eq!(from_affise[0].affise_id.as_deref(), Some(MANAGER));
    assert_eq!((from_affise[0].name.as_str(), from_affise[0].kind), ("Olga Petrova", Role::Manager));
    let manager = from_affise[0].id;
    // 150 partners over two pages, all with that manager; statuses in affdesk's words.
    let partners = app.all_affiliates();
    assert_eq!(partners.iter().filter(|a| a.affise_id.is_some()).count(), 150);
    assert_eq!(partners.iter().filter(|a| a.manager_id == Some(manager)).count(), 150);
    assert_eq!(app.affiliate_from_affise("3").status, AffiliateStatus::NotActive);
    assert!(fake.calls().iter().any(|c| c.starts_with("GET /3.0/admin/partners?page=2")));
    // Offers with Affise's privacy words mapped, payout in cents.
    assert_eq!(app.offer_from_affise("102").privacy, Privacy::Premoderated);
    assert_eq!(app.offer_from_affise("103").privacy, Privacy::Private);
    assert_eq!(app.offer_from_affise("101").payout, 250);
    assert_eq!(app.all_smartlinks().iter().filter(|s| s.affise_id.is_some()).count(), 2);
    // Partner 5 may run the private offer, granted in Affise.
    let (private, five) = (app.offer_from_affise("103").id, app.affiliate_from_affise("5").id);
    assert_eq!(app.offer_access(private, five), Some((AccessGrant::Enabled, AccessSource::Affise)));
    // The same full pull again changes nothing.
    let again = sync(&app, &fake, true).await;
    let lines = again.lines().join("\n");
    assert!(lines.contains("partners: 0 new, 0 updated, 150 unchanged"), "{lines}");
    // Admins see where each part stands.
    admin(&app);
    let mut boss = app.login_admin("boss@network.test").await;
    let page = boss.get("/admin/outbox").await;
    assert_eq!(page.status, 200);
    assert!(page.contains("id=\"sync-partners\""), "{}", page.body);
});

sync_test!(incremental_sync_renames_and_a_full_one_removes, |app, fake| {
    fake.seed(4);
    assert!(sync(&app, &fake, false).await.is_ok());
    let affiliate4 = app.affiliate_from_affise("4").id;
    let disabled = |app: &TestApp| app.all_affiliates().into_iter().find(|a| a.id == affiliate4).map(|a| a.disabled);
    // Affise renames an offer and removes partner 4.
    fake.with(|s| {
        let offer = s.offers.get_mut(&101).unwrap();
        offer.title = "Casino FR (new landing)".into();
        offer.updated = "2099-01-01".into();
        s.partners.remove(&4);
    });
    let report = sync(&app, &fake, false).await;
    assert!(report.is_ok(), "{:?}", report.lines());
    assert_eq!(app.offer_from_affise("101").title, "Casino FR (new landing)");
    let calls = fake.calls();
    let last_partners = calls.iter().rev().find(|c| c.starts_with("GET /3.0/admin/partners")).unwrap();
    assert!(last_partners.contains("updated_from="), "an incremental pull asks for changes only: {last_partners}");
    // An incremental pull cannot see a removal; a full one can.
    assert_eq!(disabled(&app), Some(false));
    assert!(sync(&app, &fake, true).await.is_ok());
    // Disabled, and still there with their history.
    assert_eq!(disabled(&app), Some(true));
});

sync_test!(an_approval_lands_in_affise_once, |app, fake| {
    fake.seed(6);
    assert!(sync(&app, &fake, false).await.is_ok());
    admin(&app);
    let ticket = request(&app, "2", "102");
    let mut boss = app.login_admin("boss@network.test").await;
    boss.get(&format!("/admin/tickets/{ticket}")).await;
    let done = boss.post(&format!("/admin/tickets/{ticket}/activate"), &[]).await;
    assert_eq!(done.status, 303, "{}", done.body);
    wait_until("the push to reach Affise", || !fake.access_calls().is_empty()).await;
    assert_eq!(fake.access_calls(), vec![(true, 102, 2, "0".to_string())]);
    wait_until("the push to be marked done", || {
        app.affise_pushes().iter().any(|p| p.ticket_id == Some(ticket) && p.state == PushState::Done)
    })
    .await;
    let thread = boss.get(&format!("/admin/tickets/{ticket}")).await;
    assert!(thread.contains("Enabled in Affise at"), "{}", thread.body);
    // Nothing is pushed again.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(fake.access_calls().len(), 1);
    // A local offer (no Affise id) has nothing to push.
    assert_eq!(app.affise_pushes().len(), 1);
});

sync_test!(affise_down_then_up_gets_the_decision_once, |app, fake| {
    fake.seed(6);
    assert!(sync(&app, &fake, false).await.is_ok());
    admin(&app);
    let ticket = request(&app, "2", "102");
    fake.fail_next("enable-affiliate", 2, Failure::Http500);
    let mut boss = app.login_admin("boss@network.test").await;
    boss.get(&format!("/admin/tickets/{ticket}")).await;
    assert_eq!(boss.post(&format!("/admin/tickets/{ticket}/activate"), &[]).await.status, 303);
    // The decision stands in affdesk at once; the push waits and says why.
    assert_eq!(app.ticket(TicketId(ticket)).request_state, Some(RequestState::Approved));
    wait_until("a failed attempt", || {
        app.affise_pushes().iter().filter(|p| p.last_error.is_some() && p.state == PushState::Pending).count() == 1
    })
    .await;
    let thread = boss.get(&format!("/admin/tickets/{ticket}")).await;
    assert!(
        thread.contains("Waiting for Affise: POST /3.0/offer/enable-affiliate: Affise answered HTTP 500"),
        "{}",
        thread.body
    );
    // Affise comes back: the decision lands, once.
    wait_until("the push after Affise came back", || !fake.access_calls().is_empty()).await;
    wait_until("the push marked done", || done(&app) == 1).await;
    assert_eq!(fake.access_calls(), vec![(true, 102, 2, "0".to_string())]);
    assert!(app.affise_pushes()[0].attempts >= 3);
});

sync_test!(a_refusal_is_shown_retried_and_never_lost, |app, fake| {
    fake.seed(6);
    assert!(sync(&app, &fake, false).await.is_ok());
    admin(&app);
    let ticket = request(&app, "2", "102");
    // Affise refuses with its envelope, and once is too slow to answer.
    fake.fail_next("disable-affiliate", 1, Failure::Status2("Partner is blocked".into()));
    fake.fail_next("disable-affiliate", 1, Failure::Slow(Duration::from_secs(4)));
    let mut boss = app.login_admin("boss@network.test").await;
    boss.get(&format!("/admin/tickets/{ticket}")).await;
    assert_eq!(boss.post(&format!("/admin/tickets/{ticket}/reject"), &[]).await.status, 303);
    wait_until("the refusal recorded", || last_error(&app).contains("Partner is blocked")).await;
    let outbox = boss.get("/admin/outbox").await;
    assert!(
        outbox.contains("Affise said &#34;Partner is blocked&#34;")
            || outbox.contains("Affise said &quot;Partner is blocked&quot;"),
        "{}",
        outbox.body
    );
    wait_until("the slow answer recorded", || last_error(&app).contains("timeout")).await;
    // Still pending: retried until Affise takes it.
    wait_until("the push taken", || done(&app) == 1).await;
    // Reject disables the partner on the offer in Affise.
    assert!(fake.access_calls().iter().any(|c| *c == (false, 102, 2, "0".to_string())), "{:?}", fake.access_calls());
});

sync_test!(answers_that_do_not_parse_change_nothing, |app, fake| {
    fake.seed(3);
    fake.fail_next("/3.0/admin/partners", 1, Failure::NotJson);
    let report = sync(&app, &fake, false).await;
    assert!(!report.is_ok());
    let lines = report.lines().join("\n");
    assert!(lines.contains("partners: failed: GET /3.0/admin/partners: the answer is not JSON"), "{lines}");
    assert!(app.all_affiliates().is_empty());
    let recorded = app.sync_part("partners").and_then(|p| p.last_error).unwrap_or_default();
    assert!(recorded.contains("not JSON"), "{recorded}");
    // A partner with an unknown status fails the page with a message naming it, and nothing of it is applied.
    fake.with(|s| s.partners.get_mut(&2).unwrap().status = "sleeping".into());
    let report = sync(&app, &fake, false).await;
    let lines = report.lines().join("\n");
    assert!(lines.contains("partner 2: unknown status \"sleeping\""), "{lines}");
    assert!(app.all_affiliates().is_empty());
    // A wrong key is Affise's own refusal, in its words.
    let mut wrong = fake.config();
    wrong.key = "not-the-key".into();
    let client = Client::new(&wrong).unwrap();
    let report = affise::sync_once(&app.pool, &client, false).await;
    assert!(report.lines().join("\n").contains("Affise said \"API-Key is wrong\" (HTTP 401)"));
    // Fixed in Affise: the next pull brings everyone.
    fake.with(|s| s.partners.get_mut(&2).unwrap().status = "active".into());
    assert!(sync(&app, &fake, false).await.is_ok());
    assert_eq!(app.all_affiliates().len(), 3);
});
