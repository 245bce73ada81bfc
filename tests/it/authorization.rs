//! The authorisation matrix: every route of both panels and the API, taken from the
//! route tables the router is built from, called by every kind of caller. Each pair
//! has one expected outcome, and after every refused call the database and the
//! attachment folder are as they were. A route without an entry here fails.

use affdesk::domain::affiliates::Affiliate;
use affdesk::domain::states::AffiliateStatus;
use affdesk::domain::users::User;

use crate::harness::{Backend, Client, TestApp};
use crate::support::PNG;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Caller {
    Anonymous,
    Admin,
    ManagerA,
    ManagerB,
    AffiliateA,
    AffiliateB,
    DisabledUser,
    BannedAffiliate,
    KeyAdmin,
    KeyManagerA,
    KeyManagerB,
    KeyAffiliateA,
    WrongKey,
}

const CALLERS: [Caller; 13] = [
    Caller::Anonymous,
    Caller::Admin,
    Caller::ManagerA,
    Caller::ManagerB,
    Caller::AffiliateA,
    Caller::AffiliateB,
    Caller::DisabledUser,
    Caller::BannedAffiliate,
    Caller::KeyAdmin,
    Caller::KeyManagerA,
    Caller::KeyManagerB,
    Caller::KeyAffiliateA,
    Caller::WrongKey,
];

/// What a caller gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    /// Let in: any answer but a refusal (a 409 "already closed" is being let in).
    Allowed,
    /// Sent to a login page.
    ToLogin,
    NotFound,
    Forbidden,
    Unauthorized,
    /// Exactly this status, and nothing changed.
    Exactly(u16),
}

impl Expect {
    fn refused(self) -> bool {
        self != Expect::Allowed
    }
}

/// The objects the calls name: all of manager A's affiliate A, except where said.
struct World {
    ticket: i64,
    /// Tickets the API's remove may take: one for the admin's key, one for manager A's.
    removable: [i64; 2],
    attachment: i64,
    /// Templates written by the admin: one the panel edits, one the API removes.
    template: i64,
    api_template: i64,
    affiliate_a: i64,
    /// Manager A, and an affiliate of theirs who is banned (disabled and enabled by the matrix).
    manager_a: i64,
    banned: i64,
    /// A user the People routes may disable and enable (the disabled caller).
    spare_user: i64,
    cover: i64,
    offer: i64,
    smartlink: i64,
}

struct Callers {
    clients: Vec<(Caller, Client)>,
    keys: Vec<(Caller, String)>,
}

fn is_staff(c: Caller) -> bool {
    matches!(c, Caller::Admin | Caller::ManagerA | Caller::ManagerB)
}

fn is_affiliate(c: Caller) -> bool {
    matches!(c, Caller::AffiliateA | Caller::AffiliateB)
}

fn staff_key(c: Caller) -> bool {
    matches!(c, Caller::KeyAdmin | Caller::KeyManagerA | Caller::KeyManagerB)
}

fn key_caller(c: Caller) -> bool {
    staff_key(c) || matches!(c, Caller::KeyAffiliateA | Caller::WrongKey)
}

/// The outcome of a panel route for a caller, by the rule of its area.
fn panel(route: &str, c: Caller) -> Expect {
    let admin_area = route.contains(" /admin");
    // An API client has no session, so no CSRF token: no panel form is taken from it.
    if key_caller(c) && route.starts_with("POST") {
        return Expect::Exactly(403);
    }
    // A password link's page: without a valid token the link does not work, for anyone.
    if route.ends_with("/password") && !route.contains("/profile/") {
        return Expect::Exactly(410);
    }
    if route.ends_with("/password/forgot") {
        return Expect::Allowed;
    }
    // The same answer for anyone: back to the login page with a banner.
    if route.ends_with("/login/unlock") {
        return Expect::Exactly(303);
    }
    let public = [" /admin/login", " /affiliate/login", " /admin", " /admin/", " /affiliate", " /affiliate/"];
    if public.iter().any(|p| route.ends_with(p)) && route.starts_with("GET") {
        return Expect::Allowed;
    }
    if route.ends_with("/login") {
        return Expect::Exactly(401);
    }
    if route.ends_with("/logout") {
        return Expect::ToLogin;
    }
    let member = if admin_area { is_staff(c) } else { is_affiliate(c) };
    if !member {
        return Expect::ToLogin;
    }
    // Objects of manager A's affiliate A.
    let object = route.contains("{id}");
    let templates = route.contains("/templates/{id}");
    // A thread's live events are its ticket's.
    if route.ends_with("/events") && matches!(c, Caller::ManagerB | Caller::AffiliateB) {
        return Expect::NotFound;
    }
    // The catalogue is every staff member's to see; admins add and edit it and import.
    let admin_only = route.contains("/admin/import")
        || matches!(
            route,
            "GET /admin/offers/new"
                | "POST /admin/offers"
                | "POST /admin/offers/{id}"
                | "GET /admin/smartlinks/new"
                | "POST /admin/smartlinks"
                | "POST /admin/smartlinks/{id}"
        );
    match c {
        Caller::ManagerA | Caller::ManagerB if admin_only => Expect::Forbidden,
        // The matrix sends no file: the form comes back asking for one.
        Caller::Admin if route == "POST /admin/import" => Expect::Exactly(422),
        // Access to affiliate A is manager A's to change: B is told so, and nothing changes.
        Caller::ManagerB if route.ends_with("/access") => Expect::Exactly(303),
        Caller::ManagerB if route == "GET /admin/offers/{id}" || route == "GET /admin/smartlinks/{id}" => {
            Expect::Allowed
        }
        // The outbox is for admins.
        Caller::ManagerA | Caller::ManagerB if route.contains("/admin/outbox") => Expect::Forbidden,
        // People are for admins.
        Caller::ManagerA | Caller::ManagerB if route.contains("/admin/people") => Expect::Forbidden,
        Caller::ManagerB if templates => Expect::Forbidden,
        Caller::ManagerA if templates => Expect::Forbidden,
        Caller::ManagerB if route == "POST /admin/tickets" => Expect::Exactly(422),
        Caller::ManagerB if route == "POST /admin/tickets/bulk" => Expect::Exactly(303),
        Caller::ManagerB | Caller::AffiliateB if object && !route.contains("/request") => Expect::NotFound,
        _ => Expect::Allowed,
    }
}

/// The outcome of an API method for a caller.
fn api(route: &str, c: Caller) -> Expect {
    if route == "GET /3.0/openapi.json" {
        return Expect::Allowed;
    }
    let partner = route.contains("/partner/");
    match c {
        Caller::WrongKey => return Expect::Unauthorized,
        _ if !staff_key(c) && c != Caller::KeyAffiliateA => return Expect::Unauthorized,
        Caller::KeyAffiliateA if !partner => return Expect::Forbidden,
        _ if staff_key(c) && partner => return Expect::Forbidden,
        _ => {}
    }
    let object = route.contains("{id}");
    match c {
        Caller::KeyManagerA | Caller::KeyManagerB if route.contains("/template/{id}") => Expect::Forbidden,
        // Deciding a question (not a request) is a bad request for those who may see it.
        Caller::KeyAdmin | Caller::KeyManagerA
            if !partner && (route.ends_with("/offer") || route.ends_with("/smartlink")) =>
        {
            Expect::Exactly(400)
        }
        Caller::KeyManagerB if route == "POST /3.0/admin/ticket" => Expect::Exactly(400),
        Caller::KeyManagerB if object => Expect::NotFound,
        _ => Expect::Allowed,
    }
}

/// How a route is called: the path with its ids, and the fields it sends.
fn call_of(route: &str, c: Caller, w: &World) -> (String, Vec<(String, String)>, bool) {
    let (_, path) = route.split_once(' ').unwrap();
    let tag = format!("{c:?}");
    let f = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>();
    let id = match path {
        p if p.contains("/attachments/") => w.attachment,
        p if p.contains("/templates/") => w.template,
        p if p.contains("/template/") => w.api_template,
        p if p.contains("/offers/") => w.offer,
        p if p.contains("/smartlinks/") => w.smartlink,
        p if p.contains("/people/covers/") => w.cover,
        p if p.contains("/people/") => w.spare_user,
        p if p.ends_with("/disable") || p.ends_with("/enable") || p.ends_with("/invite") => w.banned,
        p if p.contains("/affiliates/") => w.affiliate_a,
        p if p.ends_with("/remove") && c == Caller::KeyAdmin => w.removable[0],
        p if p.ends_with("/remove") => w.removable[1],
        _ => w.ticket,
    };
    let mut path = path.replace("{id}", &id.to_string()).replace("{action}", "close").replace("{file}", "app.css");
    if path.ends_with("/events") {
        path.push_str(&format!("?since=0&ticket={}", w.ticket));
    }
    let affiliate = w.affiliate_a.to_string();
    let ticket = w.ticket.to_string();
    let (fields, multipart) = match route {
        r if !r.starts_with("POST") => (Vec::new(), false),
        "POST /admin/login" | "POST /affiliate/login" => {
            (f(&[("email", "admin@affdesk.test"), ("password", "wrong-password")]), false)
        }
        "POST /admin/tickets" => {
            (f(&[("affiliate_id", &affiliate), ("type", "general"), ("title", "Matrix"), ("body", "Hi")]), true)
        }
        "POST /affiliate/tickets" => (f(&[("type", "technical"), ("title", "Matrix"), ("body", "Hi")]), true),
        "POST /admin/tickets/bulk" => (f(&[("action", "close"), ("ids", &ticket)]), false),
        "POST /admin/people/{id}/queues" => (f(&[("all", "1")]), false),
        "POST /admin/people/covers/{id}/end" => (Vec::new(), false),
        // To the manager it is with: those allowed move nothing, and are told so.
        "POST /admin/tickets/{id}/assign" => (f(&[("assign_to", &w.manager_a.to_string())]), false),
        r if r.ends_with("/messages") => (f(&[("body", &format!("Reply from {tag}"))]), true),
        "POST /admin/templates" => (f(&[("title", &format!("Matrix {tag}")), ("body", "Text")]), false),
        "POST /admin/templates/{id}" => (f(&[("title", "Edited by the matrix"), ("body", "Text")]), false),
        r if r.ends_with("/request") => (f(&[("comment", "I run SEO traffic")]), false),
        "POST /3.0/admin/ticket" => {
            (f(&[("pid", &affiliate), ("type", "common"), ("title", "Matrix"), ("description", "Hi")]), false)
        }
        r if r.starts_with("POST /3.0/admin/ticket/{id}/") && (r.ends_with("/offer") || r.ends_with("/smartlink")) => {
            (f(&[("do", "reject")]), false)
        }
        "POST /3.0/admin/ticket/{id}/comment" => (f(&[("text", "From the API")]), false),
        "POST /3.0/admin/template" => (f(&[("title", &format!("API {tag}")), ("text", "Text")]), false),
        "POST /3.0/admin/template/{id}" => (f(&[("title", "API edit"), ("text", "Text")]), false),
        "POST /3.0/partner/activation/offer" => {
            (f(&[("offer_id", &w.offer.to_string()), ("comment", "From the API")]), false)
        }
        "POST /admin/password" | "POST /affiliate/password" => (
            f(&[("token", "not-a-token"), ("password", "a long enough pass"), ("repeat", "a long enough pass")]),
            false,
        ),
        "POST /admin/password/forgot"
        | "POST /affiliate/password/forgot"
        | "POST /admin/login/unlock"
        | "POST /affiliate/login/unlock" => (f(&[("email", "nobody@example.com")]), false),
        "POST /admin/profile/password" | "POST /affiliate/profile/password" => (
            f(&[
                ("old_password", "wrong-password"),
                ("new_password", "a new password"),
                ("repeat_password", "a new password"),
            ]),
            false,
        ),
        "POST /admin/people" => {
            (f(&[("email", &format!("matrix-{tag}@network.test")), ("name", "Matrix"), ("role", "manager")]), false)
        }
        "POST /admin/people/hand-over" => {
            let spare = w.spare_user.to_string();
            (f(&[("from", &spare), ("to", &spare)]), false)
        }
        "POST /admin/affiliates" => (
            f(&[("email", &format!("new-{tag}@network.test")), ("name", "Matrix partner"), ("status", "active")]),
            false,
        ),
        "POST /admin/affiliates/{id}" => {
            let manager = w.manager_a.to_string();
            (
                f(&[
                    ("email", &format!("affiliate-a-{tag}@network.test")),
                    ("name", "Affiliate A"),
                    ("status", "active"),
                    ("manager_id", &manager),
                ]),
                false,
            )
        }
        "POST /admin/offers" | "POST /admin/offers/{id}" | "POST /admin/smartlinks" | "POST /admin/smartlinks/{id}" => {
            (
                f(&[
                    ("name", &format!("Matrix {tag}")),
                    ("privacy", "protected"),
                    ("status", "active"),
                    ("payout", "1.00"),
                    ("currency", "USD"),
                ]),
                false,
            )
        }
        "POST /admin/offers/{id}/access" | "POST /admin/smartlinks/{id}/access" => {
            (f(&[("affiliate_id", &affiliate), ("state", "enabled")]), false)
        }
        "POST /admin/import" => (f(&[("kind", "affiliates")]), true),
        "POST /admin/import/apply" => (f(&[("kind", "affiliates")]), false),
        "POST /admin/logout"
        | "POST /affiliate/logout"
        | "POST /admin/people/{id}/invite"
        | "POST /admin/people/{id}/disable"
        | "POST /admin/people/{id}/enable"
        | "POST /admin/affiliates/{id}/disable"
        | "POST /admin/affiliates/{id}/enable"
        | "POST /admin/affiliates/{id}/invite"
        | "POST /admin/profile/api-key"
        | "POST /affiliate/profile/api-key"
        | "POST /admin/profile/notifications"
        | "POST /affiliate/profile/notifications"
        | "POST /admin/outbox/{id}/retry"
        | "POST /admin/outbox/affise/{id}/retry"
        | "POST /admin/tickets/{id}/typing"
        | "POST /affiliate/tickets/{id}/typing"
        | "POST /admin/templates/{id}/delete"
        | "POST /admin/tickets/{id}/{action}"
        | "POST /3.0/admin/ticket/{id}/close"
        | "POST /3.0/admin/ticket/{id}/reopen"
        | "POST /3.0/admin/ticket/{id}/remove"
        | "POST /3.0/admin/template/{id}/remove" => (Vec::new(), false),
        other => panic!("the route {other} has no entry in the authorisation matrix"),
    };
    (path, fields, multipart)
}

/// What must not change when a call is refused.
fn snapshot(app: &TestApp) -> (Vec<i64>, usize) {
    let counts = app.fingerprint();
    let files = walk(&app.data_dir.join("attachments"));
    (counts, files)
}

fn walk(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| entries.flatten().map(|e| if e.path().is_dir() { walk(&e.path()) } else { 1 }).sum())
        .unwrap_or(0)
}

async fn setup(app: &TestApp) -> (World, Callers) {
    app.seed_demo();
    let (first, second) = (app.staff("manager1@affdesk.test"), app.staff("manager2@affdesk.test"));
    let m1 = first.id;
    let mine = app.active_affiliates_of(&first);
    let (a, banned) = (mine[0].clone(), mine.last().expect("two active affiliates").clone());
    let b = app.active_affiliates_of(&second)[0].clone();
    let (affiliate_a, banned_account, banned) = (a.id, banned.clone(), banned.id);
    let mut clients = Vec::new();
    clients.push((Caller::Anonymous, app.client()));
    clients.push((Caller::Admin, app.login_admin("admin@affdesk.test").await));
    clients.push((Caller::ManagerA, app.login_admin("manager1@affdesk.test").await));
    clients.push((Caller::ManagerB, app.login_admin("manager2@affdesk.test").await));
    let mut affiliate = app.browser_of(&a).await;
    clients.push((Caller::AffiliateB, app.browser_of(&b).await));
    clients.push((Caller::DisabledUser, app.login_admin("manager3@affdesk.test").await));
    clients.push((Caller::BannedAffiliate, app.browser_of(&banned_account).await));
    // Affiliate A's own ticket, with a file, and two more for the API's remove.
    let (mut tickets, mut attachments) = (Vec::new(), Vec::new());
    for title in ["Matrix ticket", "Removable one", "Removable two"] {
        affiliate.get("/affiliate/tickets/new").await;
        let page = affiliate
            .post_multipart(
                "/affiliate/tickets",
                &[("type", "general"), ("title", title), ("body", "Please look")],
                &[("proof.png", PNG.to_vec())],
            )
            .await;
        assert_eq!(page.status, 303);
        tickets.push(app.newest_ticket().0);
        attachments.push(app.newest_attachment());
    }
    clients.push((Caller::AffiliateA, affiliate));
    let attachment = attachments[0];
    let boss = app.staff("admin@affdesk.test");
    let mut theirs: Vec<i64> =
        app.templates().into_iter().filter(|t| t.created_by == Some(boss.id)).map(|t| t.id).collect();
    theirs.sort_unstable();
    let (template, api_template) = (theirs[0], *theirs.last().expect("the admin's templates"));
    let offer = app.with_offer(&boss, "Matrix offer").0;
    let smartlink = app.with_smartlink(&boss, "Matrix Smartlink").0;
    let mut conn = app.conn();
    let key = |conn: &mut affdesk::db::PooledConn, email: &str| {
        let u = User::find_by_email(conn, email).unwrap().unwrap();
        User::issue_api_key(conn, u.id).unwrap()
    };
    let keys = vec![
        (Caller::KeyAdmin, key(&mut conn, "admin@affdesk.test")),
        (Caller::KeyManagerA, key(&mut conn, "manager1@affdesk.test")),
        (Caller::KeyManagerB, key(&mut conn, "manager2@affdesk.test")),
        (Caller::KeyAffiliateA, Affiliate::issue_api_key(&mut conn, affiliate_a).unwrap()),
        (Caller::WrongKey, "not-a-key-of-anyone".to_string()),
    ];
    // The disabled and the banned were logged in before they were shut out.
    let spare = app.staff("manager3@affdesk.test").id;
    User::set_disabled(&mut conn, spare, true).unwrap();
    Affiliate::set_status(&mut conn, banned, AffiliateStatus::Banned).unwrap();
    // A holiday cover with nobody in it, for the route that ends one.
    let cover: i64 = {
        use affdesk::db::schema::covers;
        use diesel::prelude::*;
        diesel::insert_into(covers::table)
            .values((
                covers::absent_id.eq(spare),
                covers::cover_id.eq(m1),
                covers::until.eq(affdesk::domain::now() + chrono::Duration::days(30)),
                covers::created_at.eq(affdesk::domain::now()),
            ))
            .returning(covers::id)
            .get_result(&mut conn)
            .unwrap()
    };
    drop(conn);
    let world = World {
        ticket: tickets[0],
        removable: [tickets[1], tickets[2]],
        attachment,
        template,
        api_template,
        affiliate_a,
        manager_a: m1,
        banned,
        spare_user: spare,
        cover,
        offer,
        smartlink,
    };
    (world, Callers { clients, keys })
}

/// Calls one route as one caller; the status, and whether it was a login redirect.
async fn call(app: &TestApp, callers: &mut Callers, c: Caller, route: &str, w: &World) -> (u16, bool) {
    let (method, _) = route.split_once(' ').unwrap();
    let (path, fields, multipart) = call_of(route, c, w);
    let key = callers.keys.iter().find(|(k, _)| *k == c).map(|(_, v)| v.clone());
    if route.contains(" /3.0") || key.is_some() {
        // API callers have no cookies; panel callers have no key.
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let mut req = if method == "GET" { http.get(app.url(&path)) } else { http.post(app.url(&path)).form(&fields) };
        if let Some(key) = &key {
            req = req.header("API-Key", key);
        }
        if !route.contains(" /3.0") {
            let resp = req.send().await.unwrap();
            let to_login = resp.headers().get("location").is_some_and(|l| l.to_str().unwrap().contains("/login"));
            return (resp.status().as_u16(), to_login);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        if status == 400 {
            eprintln!("{route} as {c:?}: {}", resp.text().await.unwrap_or_default());
        }
        return (status, false);
    }
    let client = &mut callers.clients.iter_mut().find(|(k, _)| *k == c).unwrap().1;
    if method == "POST" {
        // A fresh token from a page of the caller's panel (or a login page).
        let page = if route.contains(" /admin") { "/admin/profile" } else { "/affiliate/profile" };
        let fresh = client.get(page).await;
        if fresh.status != 200 {
            client.get(if route.contains(" /admin") { "/admin/login" } else { "/affiliate/login" }).await;
        }
    }
    // A live stream never ends: its answer is its status.
    if path.contains("/events?") {
        let resp = client.http.get(app.url(&path)).send().await.unwrap();
        let to_login = resp.headers().get("location").is_some_and(|l| l.to_str().unwrap().contains("/login"));
        return (resp.status().as_u16(), to_login);
    }
    let page = if method == "GET" {
        client.get(&path).await
    } else if multipart {
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        client.post_multipart(&path, &pairs, &[]).await
    } else {
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        client.post(&path, &pairs).await
    };
    (page.status, page.location.as_deref().is_some_and(|l| l.contains("/login")))
}

async fn matrix(backend: Backend) {
    let app = TestApp::start_with(backend, |c| c.login_attempts = 10_000).await;
    let (world, mut callers) = setup(&app).await;
    let mut routes: Vec<String> = affdesk::api::API_ROUTES
        .iter()
        .chain(affdesk::web::PUBLIC_ROUTES)
        .chain(affdesk::web::ADMIN_ROUTES)
        .chain(affdesk::web::AFFILIATE_ROUTES)
        .map(|(m, p)| format!("{m} {p}"))
        .collect();
    // Calls that end a caller's session or key come last.
    routes.sort_by_key(|r| (r.contains("logout"), r.contains("api-key")));
    let mut checked = 0;
    for route in &routes {
        let expect_of = |c: Caller| {
            if route.contains(" /3.0") {
                api(route, c)
            } else if ["GET /healthz", "GET /readyz", "GET /static/{file}", "GET /", "GET /favicon.ico"]
                .contains(&route.as_str())
            {
                Expect::Allowed
            } else {
                panel(route, c)
            }
        };
        // Refused calls first, while the objects they name are still there.
        let mut order = CALLERS.to_vec();
        order.sort_by_key(|c| !expect_of(*c).refused());
        for c in order {
            let expect = expect_of(c);
            let before = expect.refused().then(|| snapshot(&app));
            let (status, to_login) = call(&app, &mut callers, c, route, &world).await;
            let ok = match expect {
                Expect::Allowed => status < 400 && !to_login || status == 409,
                Expect::ToLogin => status == 303 && to_login,
                Expect::NotFound => status == 404,
                Expect::Forbidden => status == 403,
                Expect::Unauthorized => status == 401,
                Expect::Exactly(s) => status == s,
            };
            assert!(
                ok,
                "{route} as {c:?}: expected {expect:?}, got {status}{}",
                if to_login { " (to login)" } else { "" }
            );
            if let Some(before) = before
                && !route.ends_with("/logout")
                && !route.ends_with("/login")
            {
                assert_eq!(snapshot(&app), before, "{route} as {c:?} was refused but changed something");
            }
            checked += 1;
        }
    }
    assert!(checked >= 13 * 60, "every route with every caller ({checked} calls)");
}

#[actix_web::test]
async fn every_route_with_every_caller_sqlite() {
    matrix(Backend::Sqlite).await;
}

#[actix_web::test]
#[cfg_attr(no_postgres, ignore = "needs PostgreSQL: set TEST_POSTGRES_URL")]
async fn every_route_with_every_caller_postgres() {
    if TestApp::start_postgres().await.is_none() {
        return;
    }
    matrix(Backend::Postgres).await;
}
