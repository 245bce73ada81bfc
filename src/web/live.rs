//! Live updates in the browser over Server-Sent Events (htmx's SSE extension):
//! the manager's list says how many tickets changed since it was loaded and the
//! header counts unread tickets; an open thread reloads its messages when they
//! change and shows who is typing. Every event passes the viewer's scope first.
//! A browser that reconnects sends `Last-Event-ID` and gets what it missed.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use futures_util::stream;
use tokio::sync::broadcast::error::RecvError;

use super::auth::{AffiliateSession, StaffSession};
use super::session_store::SESSION_ID;
use super::{AppState, path_id};
use crate::domain::Actor;
use crate::domain::live::{self, LiveEvent};
use crate::domain::threads::{self, Thread};
use crate::domain::ticket_list;
use crate::error::{AppError, AppResult};
use crate::http::paths;
use crate::http::query::Params;
use crate::http::streams::{Owner, StreamGuard};

/// A comment line this often keeps proxies from closing a quiet stream.
const KEEPALIVE: Duration = Duration::from_secs(15);

/// What the page listening shows.
#[derive(Clone, Debug)]
enum View {
    /// The manager's list, at this query: counts changed tickets.
    List(String),
    /// One ticket's thread.
    Thread(i64),
}

struct Listener {
    state: web::Data<AppState>,
    /// Its place among the instance's streams; says when the stream must end.
    guard: StreamGuard,
    viewer: Actor,
    view: View,
    rx: tokio::sync::broadcast::Receiver<Arc<LiveEvent>>,
    /// Events read from the database, to send before live ones.
    backlog: std::collections::VecDeque<Arc<LiveEvent>>,
    last: i64,
    changed: BTreeSet<i64>,
    /// The unread count was sent once at the start.
    greeted: bool,
}

fn message(id: Option<i64>, event: &str, data: &str) -> String {
    let mut out = String::new();
    if let Some(id) = id {
        out.push_str(&format!("id: {id}\n"));
    }
    out.push_str(&format!("event: {event}\n"));
    for line in data.lines() {
        out.push_str(&format!("data: {line}\n"));
    }
    if data.is_empty() {
        out.push_str("data:\n");
    }
    out.push('\n');
    out
}

/// The header's count of unread tickets: the response of `/admin/unread` and the
/// `unread` event's data.
#[derive(Template)]
#[template(path = "admin/_unread_badge.html")]
struct UnreadBadge {
    n: i64,
}

/// `GET /admin/unread`: the header's count, for the pages that listen to no events
/// (every page shows it; the list and threads keep it live).
pub async fn admin_unread(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: StaffSession,
) -> AppResult<HttpResponse> {
    let viewer = staff.actor();
    let n = state.db(move |conn| Ok(ticket_list::unread(conn, &viewer)?)).await?;
    let mut resp = super::page(&req, UnreadBadge { n });
    resp.headers_mut()
        .insert(actix_web::http::header::CACHE_CONTROL, actix_web::http::header::HeaderValue::from_static("no-store"));
    Ok(resp)
}

impl Listener {
    /// What one event tells this page, if anything.
    async fn tell(&mut self, event: &LiveEvent) -> String {
        if !event.visible_to(&self.viewer) {
            return String::new();
        }
        let mine = event.by(&self.viewer);
        let id = Some(event.id);
        match &self.view {
            View::Thread(ticket) if *ticket != event.ticket_id => String::new(),
            View::Thread(_) if event.is_typing() && !mine => {
                let who = super::escape_html(&event.actor_name);
                message(id, "typing", &format!("<span class=\"typing-note\">{who} is replying…</span>"))
            }
            View::Thread(_) if event.is_typing() => String::new(),
            View::Thread(ticket) => message(id, "thread", &ticket.to_string()),
            View::List(_) if event.is_typing() || mine => String::new(),
            View::List(query) => {
                self.changed.insert(event.ticket_id);
                let n = self.changed.len();
                let words =
                    if n == 1 { "1 new or updated ticket".to_string() } else { format!("{n} new or updated tickets") };
                let href = paths::admin_tickets(query);
                let banner =
                    format!("<a class=\"live-banner\" href=\"{}\">{words} — show</a>", super::escape_html(&href));
                let json = serde_json::json!({ "ticket": event.ticket_id, "by": event.actor_name }).to_string();
                let mut out = message(id, "ticket", &json);
                out.push_str(&message(None, "changes", &banner));
                out.push_str(&self.unread_message().await);
                out
            }
        }
    }

    async fn unread_message(&self) -> String {
        let viewer = self.viewer.clone();
        match self.state.db(move |conn| Ok(ticket_list::unread(conn, &viewer)?)).await {
            Ok(n) => message(None, "unread", &UnreadBadge { n }.render().unwrap_or_default()),
            Err(_) => String::new(),
        }
    }

    /// Events the database has after `last` (a reconnect, or a lagging receiver).
    async fn catch_up(&mut self) {
        let after = self.last;
        if let Ok(events) = self.state.db(move |conn| Ok(live::since(conn, after, 1000)?)).await {
            self.backlog.extend(events.into_iter().map(Arc::new));
        }
    }

    /// The next piece of the stream: waits for an event or the keepalive.
    async fn next(mut self) -> Option<(Result<Bytes, actix_web::Error>, Listener)> {
        // The instance is going away: end the stream, the browser reconnects elsewhere.
        // Or the session is over (logged out, expired, the account disabled), or the
        // person opened more streams than a session keeps: end it, telling nothing more.
        if self.state.lifecycle.is_shutting_down() || self.guard.ended.is_set() {
            return None;
        }
        if !self.greeted {
            self.greeted = true;
            let hello = format!("retry: 3000\n\n{}", self.unread_message().await);
            return Some((Ok(Bytes::from(hello)), self));
        }
        loop {
            let event = match self.backlog.pop_front() {
                Some(e) => e,
                None => match tokio::select! {
                    received = tokio::time::timeout(KEEPALIVE, self.rx.recv()) => received,
                    _ = self.state.lifecycle.stopped() => return None,
                    _ = self.guard.ended.wait() => return None,
                } {
                    Err(_) => return Some((Ok(Bytes::from_static(b": keepalive\n\n")), self)),
                    Ok(Ok(e)) => e,
                    Ok(Err(RecvError::Lagged(_))) => {
                        self.catch_up().await;
                        continue;
                    }
                    Ok(Err(RecvError::Closed)) => return None,
                },
            };
            if event.id <= self.last {
                continue;
            }
            self.last = event.id;
            let text = self.tell(&event).await;
            if !text.is_empty() {
                return Some((Ok(Bytes::from(text)), self));
            }
        }
    }
}

/// Where a stream starts: `Last-Event-ID` (a reconnect), else `since` (the page's
/// last event when it was made), else now.
fn start_at(req: &HttpRequest, params: &Params) -> Option<i64> {
    let header = req.headers().get("Last-Event-ID").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse().ok());
    header.or_else(|| params.one("since").and_then(|v| v.parse().ok())).filter(|n: &i64| *n >= 0)
}

async fn stream(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Actor,
    session: &actix_session::Session,
    view: View,
) -> AppResult<HttpResponse> {
    let params = Params::from_query(req.query_string());
    // The stream is its session's: it ends when the session does (see http::streams).
    let owner = Owner {
        session_id: session.get::<String>(SESSION_ID).ok().flatten().unwrap_or_default(),
        account: format!("{}:{}", viewer.kind(), viewer.id().unwrap_or(0)),
    };
    let guard = state.streams.open(owner).map_err(|_| AppError::TooManyRequests { retry_after_secs: 30 })?;
    let rx = state.live.subscribe();
    let start = start_at(&req, &params);
    let last = match start {
        Some(n) => n,
        None => state.db(|conn| Ok(live::last_id(conn)?)).await?,
    };
    let mut listener = Listener {
        state,
        guard,
        viewer,
        view,
        rx,
        backlog: Default::default(),
        last,
        changed: BTreeSet::new(),
        greeted: false,
    };
    if start.is_some() {
        listener.catch_up().await;
    }
    let body = stream::unfold(listener, |l| l.next());
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(body))
}

/// What the page listens to; a thread only if the viewer may see its ticket.
async fn view_of(state: &AppState, viewer: &Actor, params: &Params) -> AppResult<View> {
    match params.one("ticket") {
        Some(t) => {
            let (id, scope) = (path_id(t)?, viewer.scope());
            state.db(move |conn| Ok(crate::domain::tickets::Ticket::find_visible(conn, &scope, id)?)).await?;
            Ok(View::Thread(id))
        }
        None => Ok(View::List(params.one("list").unwrap_or("").to_string())),
    }
}

/// `GET /admin/events?since=N[&ticket=ID | &list=<query>]`
pub async fn admin_events(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: StaffSession,
) -> AppResult<HttpResponse> {
    let view = view_of(&state, &staff.actor(), &Params::from_query(req.query_string())).await?;
    stream(req, state, staff.actor(), &staff.session, view).await
}

/// `GET /affiliate/events?since=N&ticket=ID`: the affiliate's own thread.
pub async fn affiliate_events(
    req: HttpRequest,
    state: web::Data<AppState>,
    affiliate: AffiliateSession,
) -> AppResult<HttpResponse> {
    let view = view_of(&state, &affiliate.actor(), &Params::from_query(req.query_string())).await?;
    stream(req, state, affiliate.actor(), &affiliate.session, view).await
}

/// The listening address of a page, starting after the newest event.
pub async fn url(state: &AppState, panel: &str, what: &str) -> AppResult<String> {
    Ok(format!("/{panel}/events?since={}&{what}", state.live.position()))
}

/// `POST /admin/tickets/{id}/typing` (and the affiliate's): someone is writing a reply.
pub async fn admin_typing(
    state: web::Data<AppState>,
    staff: StaffSession,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let (id, actor) = (path_id(&path)?, staff.actor());
    state.act(move |conn| Ok(live::typing(conn, &actor, id)?.into())).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn affiliate_typing(
    state: web::Data<AppState>,
    affiliate: AffiliateSession,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let (id, actor) = (path_id(&path)?, affiliate.actor());
    state.act(move |conn| Ok(live::typing(conn, &actor, id)?.into())).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The parts of a thread that change (facts and messages), out of band, for the
/// thread to swap in when its event arrives; the reply form stays as it is.
#[derive(Template)]
#[template(path = "_thread_live.html")]
struct LiveParts {
    thread: Thread,
    for_manager: bool,
}

async fn parts(
    req: &HttpRequest,
    state: &AppState,
    actor: Actor,
    id: i64,
    for_manager: bool,
) -> AppResult<HttpResponse> {
    let thread = state.db(move |conn| Ok(threads::read(conn, &actor, id, true)?)).await?;
    Ok(super::page(req, LiveParts { thread, for_manager }))
}

/// `GET /admin/tickets/{id}/live`
pub async fn admin_parts(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: StaffSession,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    parts(&req, &state, staff.actor(), path_id(&path)?, true).await
}

/// `GET /affiliate/tickets/{id}/live`
pub async fn affiliate_parts(
    req: HttpRequest,
    state: web::Data<AppState>,
    affiliate: AffiliateSession,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    parts(&req, &state, affiliate.actor(), path_id(&path)?, false).await
}
