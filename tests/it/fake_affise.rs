//! A fake of the network's Affise, served over real HTTP inside the test: it keeps
//! partners, managers, offers, Smartlinks and who may run each offer, answers the
//! admin API paths the directory sync and the decision push call (with Affise's
//! envelope and pagination), checks the `API-Key` header, records every call, and
//! can be told to fail: a timeout, HTTP 500, `status: 2`, or an answer that is not JSON.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::{Value, json};

pub const KEY: &str = "fake-affise-admin-key";

/// How the fake misbehaves.
#[derive(Clone, Debug, PartialEq)]
pub enum Failure {
    /// Answers after this long (longer than the client waits).
    Slow(Duration),
    Http500,
    /// `{"status": 2, "error": ...}` with HTTP 200, as Affise answers a refusal.
    Status2(String),
    NotJson,
}

#[derive(Clone, Debug)]
pub struct Partner {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub status: String,
    pub manager: Option<String>,
    /// The day it last changed (`updated_from` compares with it).
    pub updated: String,
}

#[derive(Clone, Debug)]
pub struct Offer {
    pub id: i64,
    pub title: String,
    pub status: String,
    pub privacy: String,
    pub updated: String,
}

#[derive(Default)]
pub struct State {
    pub partners: BTreeMap<i64, Partner>,
    /// (id, email, first name, last name, roles)
    pub users: Vec<(String, String, String, String, Vec<String>)>,
    pub offers: BTreeMap<i64, Offer>,
    pub smartlinks: Vec<(i64, String)>,
    /// Offer id -> the partners enabled on it.
    pub enabled: BTreeMap<i64, Vec<i64>>,
    /// Every call: "GET /3.0/admin/partners?page=1&limit=100".
    pub calls: Vec<String>,
    /// The enable/disable calls it took: (enable, offer id, partner id, notice).
    pub access_calls: Vec<(bool, i64, i64, String)>,
    /// Failures for the next calls whose path contains the key ("" for any).
    pub failures: Vec<(String, Failure)>,
}

pub struct FakeAffise {
    pub url: String,
    pub state: Arc<Mutex<State>>,
    handle: actix_web::dev::ServerHandle,
}

impl Drop for FakeAffise {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

impl FakeAffise {
    pub fn start() -> FakeAffise {
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let server = HttpServer::new(move || {
            App::new().app_data(web::Data::new(shared.clone())).default_service(web::to(answer))
        })
        .workers(1)
        .disable_signals()
        .bind("127.0.0.1:0")
        .expect("the fake Affise binds");
        let port = server.addrs()[0].port();
        let server = server.run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        FakeAffise { url: format!("http://127.0.0.1:{port}"), state, handle }
    }

    pub fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().unwrap())
    }

    /// Fails the next `n` calls whose path contains `path` this way.
    pub fn fail_next(&self, path: &str, n: usize, failure: Failure) {
        self.with(|s| s.failures.extend(std::iter::repeat_n((path.to_string(), failure), n)));
    }

    pub fn calls(&self) -> Vec<String> {
        self.with(|s| s.calls.clone())
    }

    pub fn access_calls(&self) -> Vec<(bool, i64, i64, String)> {
        self.with(|s| s.access_calls.clone())
    }

    /// The settings that point affdesk here, with short pauses for tests.
    pub fn config(&self) -> affdesk::affise::AffiseConfig {
        affdesk::affise::AffiseConfig {
            url: self.url.clone(),
            key: KEY.into(),
            sync_every: None,
            retry_after: Duration::from_secs(1),
            timeout: Duration::from_secs(2),
            poll: Duration::from_millis(200),
        }
    }

    /// A network: an affiliate manager (and an advertiser manager, not for the desk),
    /// `partners` partners of that manager, a public, a protected and a private offer
    /// (partner 5 enabled on the private one), and two Smartlinks.
    pub fn seed(&self, partners: i64) {
        self.with(|s| {
            s.users.push((
                MANAGER.into(),
                "olga@network.test".into(),
                "Olga".into(),
                "Petrova".into(),
                vec!["ROLE_MANAGER_AFFILIATE".into()],
            ));
            s.users.push((
                "5a0c0a5b3b7d9b00aaaaaaaa".into(),
                "adv@network.test".into(),
                "Adv".into(),
                "Manager".into(),
                vec!["ROLE_MANAGER_ADVERTISER".into()],
            ));
            for id in 1..=partners {
                s.partners.insert(
                    id,
                    Partner {
                        id,
                        email: format!("partner{id}@network.test"),
                        name: format!("Partner {id}"),
                        status: if id == 3 { "not active".into() } else { "active".into() },
                        manager: Some(MANAGER.into()),
                        updated: "2026-11-01".into(),
                    },
                );
            }
            for (id, title, privacy) in
                [(101, "Casino FR", "public"), (102, "Dating DE", "protected"), (103, "VIP Crypto", "private")]
            {
                s.offers.insert(
                    id,
                    Offer {
                        id,
                        title: title.into(),
                        status: "active".into(),
                        privacy: privacy.into(),
                        updated: "2026-11-01".into(),
                    },
                );
            }
            s.enabled.insert(103, vec![5]);
            s.smartlinks = vec![(7, "Sweepstakes mix".into()), (8, "Nutra worldwide".into())];
        });
    }
}

/// The affiliate manager's Affise id.
pub const MANAGER: &str = "5a0c0a5b3b7d9b0012345678";

fn page_of(items: Vec<Value>, key: &str, query: &BTreeMap<String, String>) -> Value {
    let limit: usize = query.get("limit").and_then(|l| l.parse().ok()).unwrap_or(100).clamp(1, 500);
    let page: usize = query.get("page").and_then(|p| p.parse().ok()).unwrap_or(1).max(1);
    let total = items.len();
    let shown: Vec<Value> = items.into_iter().skip((page - 1) * limit).take(limit).collect();
    let mut pagination = json!({"per_page": limit, "total_count": total, "page": page});
    if page * limit < total {
        pagination["next_page"] = json!(page + 1);
    }
    json!({"status": 1, key: shown, "pagination": pagination})
}

fn error(status: u16, text: &str) -> HttpResponse {
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap())
        .json(json!({"status": 2, "error": text, "message": text}))
}

async fn answer(req: HttpRequest, body: web::Bytes, state: web::Data<Arc<Mutex<State>>>) -> HttpResponse {
    let path = req.path().to_string();
    let query: BTreeMap<String, String> =
        url::form_urlencoded::parse(req.query_string().as_bytes()).into_owned().collect();
    let failure = {
        let mut s = state.lock().unwrap();
        s.calls.push(format!("{} {}?{}", req.method(), path, req.query_string()));
        let at = s.failures.iter().position(|(p, _)| path.contains(p.as_str()));
        at.map(|i| s.failures.remove(i).1)
    };
    match failure {
        Some(Failure::Slow(d)) => actix_web::rt::time::sleep(d).await,
        Some(Failure::Http500) => {
            return HttpResponse::InternalServerError().body("<html>Internal Server Error</html>");
        }
        Some(Failure::Status2(e)) => return HttpResponse::Ok().json(json!({"status": 2, "error": e})),
        Some(Failure::NotJson) => return HttpResponse::Ok().content_type("text/html").body("<html>maintenance</html>"),
        None => {}
    }
    if req.headers().get("API-Key").and_then(|v| v.to_str().ok()) != Some(KEY) {
        return error(401, "API-Key is wrong");
    }
    let mut s = state.lock().unwrap();
    let since = query.get("updated_from").cloned();
    let changed = |day: &str| since.as_deref().is_none_or(|from| day >= from);
    match (req.method().as_str(), path.as_str()) {
        ("GET", "/3.0/admin/partners") => {
            let items = s
                .partners
                .values()
                .filter(|p| changed(&p.updated))
                .map(|p| {
                    json!({"id": p.id, "email": p.email, "login": p.email.split('@').next(), "name": p.name,
                        "status": p.status, "created_at": "2026-01-01 00:00:00", "updated_at": format!("{} 00:00:00", p.updated),
                        "manager": p.manager.as_ref().map(|m| json!({"id": m, "first_name": "Olga"}))})
                })
                .collect();
            HttpResponse::Ok().json(page_of(items, "partners", &query))
        }
        ("GET", "/3.0/admin/users") => {
            let items = s
                .users
                .iter()
                .map(|(id, email, first, last, roles)| {
                    json!({"id": id, "email": email, "first_name": first, "last_name": last, "roles": roles})
                })
                .collect();
            HttpResponse::Ok().json(page_of(items, "users", &query))
        }
        ("GET", "/3.0/offers") => {
            let items = s
                .offers
                .values()
                .filter(|o| changed(&o.updated))
                .map(|o| {
                    json!({"id": o.id, "offer_id": o.id.to_string(), "title": o.title, "status": o.status,
                        "privacy": o.privacy, "preview_url": format!("https://offers.test/{}", o.id),
                        "payments": [{"countries": [], "revenue": 3.0, "payouts": 2.5, "currency": "usd"}]})
                })
                .collect();
            HttpResponse::Ok().json(page_of(items, "offers", &query))
        }
        ("GET", "/3.0/admin/smartlinks") => {
            let items = s.smartlinks.iter().map(|(id, name)| json!({"id": id, "name": name})).collect();
            HttpResponse::Ok().json(page_of(items, "smartlinks", &query))
        }
        ("GET", p) if p.starts_with("/3.1/offers/") && p.ends_with("/privacy") => {
            let id: i64 = p.trim_start_matches("/3.1/offers/").trim_end_matches("/privacy").parse().unwrap_or(0);
            let Some(offer) = s.offers.get(&id) else { return error(404, "Offer not found") };
            let partners: Vec<Value> =
                s.enabled.get(&id).cloned().unwrap_or_default().into_iter().map(|p| json!({"id": p})).collect();
            HttpResponse::Ok().json(json!({"status": 1, "privacy": offer.privacy, "partners": partners}))
        }
        ("POST", "/3.0/offer/enable-affiliate") | ("POST", "/3.0/offer/disable-affiliate") => {
            let enable = path.ends_with("enable-affiliate");
            let form: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
            let offer_ids: Vec<i64> =
                form.iter().filter(|(k, _)| k == "offer_id[]").filter_map(|(_, v)| v.parse().ok()).collect();
            let Some(pid) = form.iter().find(|(k, _)| k == "pid").and_then(|(_, v)| v.parse::<i64>().ok()) else {
                return error(400, "pid is required");
            };
            let notice = form.iter().find(|(k, _)| k == "notice").map(|(_, v)| v.clone()).unwrap_or_default();
            if offer_ids.is_empty() {
                return error(400, "offer_id is required");
            }
            for id in &offer_ids {
                if !s.offers.contains_key(id) {
                    return HttpResponse::Ok().json(json!({"status": 2, "error": format!("Offer {id} not found")}));
                }
                let list = s.enabled.entry(*id).or_default();
                list.retain(|p| *p != pid);
                if enable {
                    list.push(pid);
                }
                s.access_calls.push((enable, *id, pid, notice.clone()));
            }
            HttpResponse::Ok().json(json!({"status": 1, "message": "Affiliates are updated"}))
        }
        _ => error(404, "Not found"),
    }
}
