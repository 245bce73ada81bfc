//! What the panels (`web`) and the API (`api`) share on the HTTP side: the state
//! every handler reaches, reading parameters and uploads, sending attachments, and
//! the headers of every response. Neither front door imports the other.

pub mod download;
pub mod export;
pub mod filter_params;
pub mod headers;
pub mod live;
pub mod lookups;
pub mod params;
pub mod paths;
pub mod query;
pub mod rate_limit;
pub mod stamp;
pub mod streams;
pub mod upload;

use std::time::Duration;

use actix_web::{HttpRequest, web};
use futures_util::{Stream, StreamExt};
use tokio::time::Instant;

use crate::db::{AnyConnection, DbPool};
use crate::domain::{Acted, Effects};
use crate::error::{AppError, AppResult};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub pool: DbPool,
    pub config: crate::config::Config,
    pub db_status: crate::db::DbStatus,
    pub storage: std::sync::Arc<dyn crate::storage::AttachmentStore>,
    pub api_limits: std::sync::Arc<rate_limit::RateLimiter>,
    pub live: std::sync::Arc<live::LiveBus>,
    pub streams: std::sync::Arc<streams::Streams>,
    pub lookups: std::sync::Arc<lookups::Lookups>,
    pub lifecycle: std::sync::Arc<Lifecycle>,
}

/// Whether the instance is going away: `/readyz` says so to the load balancer, and
/// live streams end so their browsers reconnect to another instance.
#[derive(Default)]
pub struct Lifecycle {
    shutting_down: std::sync::atomic::AtomicBool,
    stopping: tokio::sync::Notify,
}

impl Lifecycle {
    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(std::sync::atomic::Ordering::Acquire)
    }

    pub fn begin_shutdown(&self) {
        self.shutting_down.store(true, std::sync::atomic::Ordering::Release);
        self.stopping.notify_waiters();
    }

    /// Resolves when the shutdown begins (at once if it has).
    pub async fn stopped(&self) {
        let notified = self.stopping.notified();
        if self.is_shutting_down() {
            return;
        }
        notified.await;
    }
}

impl AppState {
    /// Where clients reach this desk (`--public-url`), without a trailing slash:
    /// the base of absolute links in emails and API objects.
    pub fn public_url(&self) -> String {
        self.config.mail.public_url.trim_end_matches('/').to_string()
    }

    /// Runs `f` with a pooled connection on the blocking thread pool: database work
    /// never runs on the async executor, and no connection is held across `.await`.
    /// For reads, and for writes that ask nothing of the instances; a use case
    /// that returns effects runs through `act`.
    pub async fn db<T, F>(&self, f: F) -> AppResult<T>
    where
        F: FnOnce(&mut AnyConnection) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        let status = self.db_status.clone();
        web::block(move || {
            let mut conn = pool.get().inspect_err(|_| status.mark_unavailable())?;
            let result = f(&mut conn);
            // A statement that failed on a dead connection is an outage (503), and
            // the connection must not serve another request.
            if let Err(AppError::Internal(_) | AppError::Unavailable(_)) = &result
                && crate::db::discard_if_dead(&mut conn)
            {
                status.mark_unavailable();
                return Err(AppError::Unavailable("the connection to the database was lost".into()));
            }
            result
        })
        .await?
    }

    /// Runs `f` with a pooled connection and the attachment store, as `db` does.
    pub async fn db_with_store<T, F>(&self, f: F) -> AppResult<T>
    where
        F: FnOnce(&mut AnyConnection, &dyn crate::storage::AttachmentStore) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let store = self.storage.clone();
        self.db(move |conn| f(conn, store.as_ref())).await
    }

    /// Runs a use case that changes something, as `db` does, and applies the
    /// effects it returned once it committed: the outcome is only reached so.
    pub async fn act<T, F>(&self, f: F) -> AppResult<T>
    where
        F: FnOnce(&mut AnyConnection) -> AppResult<Acted<T>> + Send + 'static,
        T: Send + 'static,
    {
        let (value, effects) = self.db(f).await?.into_parts();
        self.apply(effects);
        Ok(value)
    }

    /// `act` with the attachment store.
    pub async fn act_with_store<T, F>(&self, f: F) -> AppResult<T>
    where
        F: FnOnce(&mut AnyConnection, &dyn crate::storage::AttachmentStore) -> AppResult<Acted<T>> + Send + 'static,
        T: Send + 'static,
    {
        let store = self.storage.clone();
        self.act(move |conn| f(conn, store.as_ref())).await
    }

    /// What a committed change asks of this instance (see `Instance::apply`).
    pub fn apply(&self, effects: Effects) {
        self.instance().apply(effects);
    }

    pub fn instance(&self) -> Instance {
        Instance { live: self.live.clone(), lookups: self.lookups.clone() }
    }
}

/// What of this running instance a committed change reaches: its live bus and its
/// kept lookups. Handlers reach it through `AppState::act`; the background work
/// (chores, the Affise pull) holds one of its own.
#[derive(Clone)]
pub struct Instance {
    pub live: std::sync::Arc<live::LiveBus>,
    pub lookups: std::sync::Arc<lookups::Lookups>,
}

impl Instance {
    /// A live event is read at once (other instances hear of it through
    /// `NOTIFY`); changed lookups are read again on the next page.
    pub fn apply(&self, effects: Effects) {
        if effects.wakes_live() {
            self.live.poke();
        }
        if effects.changes_lookups() {
            self.lookups.forget();
        }
    }
}

/// The client's address. Walks `X-Forwarded-For` from the right, starting at the
/// TCP peer, past every trusted proxy: the first address that is not a trusted
/// proxy is the client. An entry that is not an address ends the walk at the
/// nearest hop named so far: nothing to its left (anyone could have written it)
/// is believed.
pub fn client_address(req: &HttpRequest, trusted: &[std::net::IpAddr]) -> String {
    let peer = req.peer_addr().map(|a| a.ip());
    let forwarded: Vec<&str> = req
        .headers()
        .get_all("X-Forwarded-For")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    walk_forwarded(peer, &forwarded, trusted).map(|a| a.to_string()).unwrap_or_default()
}

fn walk_forwarded(
    peer: Option<std::net::IpAddr>,
    forwarded: &[&str],
    trusted: &[std::net::IpAddr],
) -> Option<std::net::IpAddr> {
    let mut hop = peer?;
    for entry in forwarded.iter().rev() {
        if !trusted.contains(&hop) {
            break;
        }
        let parsed = entry
            .parse::<std::net::IpAddr>()
            .ok()
            .or_else(|| entry.parse::<std::net::SocketAddr>().ok().map(|s| s.ip()));
        match parsed {
            Some(address) => hop = address,
            None => break,
        }
    }
    Some(hop)
}

pub fn url_encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// A body past its cap (413), saying the cap in words.
pub fn too_large(cap: usize) -> AppError {
    let size = if cap >= 1024 * 1024 {
        format!("{} MB", cap.div_ceil(1024 * 1024))
    } else {
        format!("{} KB", cap.div_ceil(1024))
    };
    AppError::TooLarge(format!("The request is too large: at most {size}."))
}

/// A slow link's speed: a body may take as long as its size needs at this rate,
/// plus the configured grace.
const SLOWEST_BYTES_PER_SEC: u64 = 16 * 1024;

/// When reading a request's body must be done. A client trickling bytes (one a
/// second holds a worker's memory and a connection for hours) is cut off then.
pub fn body_deadline(req: &HttpRequest) -> Instant {
    let grace = req.app_data::<web::Data<AppState>>().map_or(Duration::from_secs(60), |s| s.config.body_timeout);
    let size = upload::declared_length(req.headers()).unwrap_or(0) as u64;
    Instant::now() + grace + Duration::from_secs(size / SLOWEST_BYTES_PER_SEC)
}

/// The next item of a body's stream, unless the deadline passes first (408).
pub async fn next_before<S: Stream + Unpin>(stream: &mut S, deadline: Instant) -> AppResult<Option<S::Item>> {
    tokio::time::timeout_at(deadline, stream.next()).await.map_err(|_| AppError::TimedOut)
}

#[cfg(test)]
mod forwarded_tests {
    use std::net::IpAddr;

    use super::walk_forwarded;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn walks_past_trusted_proxies_only() {
        let proxies = [ip("10.0.0.1"), ip("10.0.0.2")];
        let walk = |peer: &str, header: &[&str]| walk_forwarded(Some(ip(peer)), header, &proxies).unwrap().to_string();
        // An untrusted peer's header is not read.
        assert_eq!(walk("203.0.113.9", &["1.1.1.1"]), "203.0.113.9");
        // One proxy, then two: the first untrusted hop from the right.
        assert_eq!(walk("10.0.0.1", &["198.51.100.7"]), "198.51.100.7");
        assert_eq!(walk("10.0.0.1", &["6.6.6.6", "198.51.100.7", "10.0.0.2"]), "198.51.100.7");
        // A forged entry to the left of the real client is never used.
        assert_eq!(walk("10.0.0.1", &["6.6.6.6", "198.51.100.7"]), "198.51.100.7");
        // Not an address: the walk ends at the nearest hop named, nothing to its left.
        assert_eq!(walk("10.0.0.1", &["6.6.6.6", "garbage", "10.0.0.2"]), "10.0.0.2");
        assert_eq!(walk("10.0.0.1", &["6.6.6.6", "unknown"]), "10.0.0.1");
        assert_eq!(walk("10.0.0.1", &["198.51.100.7:4711"]), "198.51.100.7");
        assert_eq!(walk("10.0.0.1", &[]), "10.0.0.1");
    }
}
