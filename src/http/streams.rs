//! The live event streams open on this instance, and who they belong to. A stream
//! lasts as long as its browser keeps it open, so what was true when it opened is
//! checked again: every few seconds one query asks which of the streams' sessions
//! are still alive (not logged out, not expired, the account not disabled or
//! banned), and the streams of the others end. Streams are also counted: a session
//! or an account keeps at most a few (a new one closes its oldest), and the
//! instance at most `--max-streams` in all (more are refused with 429).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::sync::Notify;

use crate::db::DbPool;

/// Streams one session, or one account, may keep open (tabs of one person).
pub const PER_SESSION: usize = 5;
pub const PER_ACCOUNT: usize = 10;
/// How often the sessions behind the open streams are checked.
pub const RECHECK: Duration = Duration::from_secs(3);

/// Whose a stream is: the session's row id (the hash of its key) and the account.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Owner {
    pub session_id: String,
    /// "user:3" or "affiliate:7".
    pub account: String,
}

struct Entry {
    owner: Owner,
    ended: Arc<Ended>,
}

/// Set when the stream must end; the stream waits on it between events.
#[derive(Default)]
pub struct Ended {
    flag: AtomicBool,
    notify: Notify,
}

impl Ended {
    fn end(&self) {
        self.flag.store(true, Ordering::Release);
        self.notify.notify_one();
    }
    pub fn is_set(&self) -> bool {
        self.flag.load(Ordering::Acquire)
    }
    /// Resolves when the stream must end (at once if it must already).
    pub async fn wait(&self) {
        if !self.is_set() {
            self.notify.notified().await;
        }
    }
}

#[derive(Default)]
struct Registry {
    /// By opening order: the smallest number is the oldest.
    open: std::collections::BTreeMap<u64, Entry>,
    next: u64,
}

pub struct Streams {
    registry: Mutex<Registry>,
    max_total: usize,
}

/// An open stream's place in the registry; dropping it (the stream ends) frees it.
pub struct StreamGuard {
    streams: Weak<Streams>,
    number: u64,
    pub ended: Arc<Ended>,
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        if let Some(streams) = self.streams.upgrade()
            && let Ok(mut r) = streams.registry.lock()
        {
            r.open.remove(&self.number);
        }
    }
}

/// The instance holds as many streams as it may.
#[derive(Debug)]
pub struct Full;

impl Streams {
    pub fn new(max_total: usize) -> Arc<Streams> {
        Arc::new(Streams { registry: Mutex::new(Registry::default()), max_total })
    }

    pub fn open_count(&self) -> usize {
        self.registry.lock().map(|r| r.open.len()).unwrap_or(0)
    }

    /// Registers a new stream of `owner`. The owner's oldest streams past the
    /// session's and the account's allowance are ended; a full instance refuses.
    pub fn open(self: &Arc<Streams>, owner: Owner) -> Result<StreamGuard, Full> {
        let mut r = self.registry.lock().map_err(|_| Full)?;
        let oldest_over = |r: &Registry, same: &dyn Fn(&Owner) -> bool, allowed: usize| -> Vec<u64> {
            let mine: Vec<u64> =
                r.open.iter().filter(|(_, e)| same(&e.owner) && !e.ended.is_set()).map(|(n, _)| *n).collect();
            let over = (mine.len() + 1).saturating_sub(allowed);
            mine.into_iter().take(over).collect()
        };
        let mut closing = oldest_over(&r, &|o| o.session_id == owner.session_id, PER_SESSION);
        closing.extend(oldest_over(&r, &|o| o.account == owner.account, PER_ACCOUNT));
        for n in &closing {
            if let Some(e) = r.open.remove(n) {
                e.ended.end();
            }
        }
        if r.open.len() >= self.max_total {
            return Err(Full);
        }
        r.next += 1;
        let number = r.next;
        let ended = Arc::new(Ended::default());
        r.open.insert(number, Entry { owner, ended: ended.clone() });
        Ok(StreamGuard { streams: Arc::downgrade(self), number, ended })
    }

    /// Ends the streams whose session is not in `alive`.
    fn end_all_but(&self, alive: &HashSet<String>) -> usize {
        let Ok(mut r) = self.registry.lock() else { return 0 };
        let gone: Vec<u64> =
            r.open.iter().filter(|(_, e)| !alive.contains(&e.owner.session_id)).map(|(n, _)| *n).collect();
        for n in &gone {
            if let Some(e) = r.open.remove(n) {
                e.ended.end();
            }
        }
        gone.len()
    }

    fn sessions(&self) -> Vec<String> {
        let Ok(r) = self.registry.lock() else { return Vec::new() };
        let set: HashSet<&String> = r.open.values().map(|e| &e.owner.session_id).collect();
        set.into_iter().cloned().collect()
    }

    /// Every `RECHECK`, asks the database which sessions of the open streams are
    /// still alive and ends the others. Stops when the registry is dropped.
    pub fn start_checks(self: &Arc<Streams>, pool: DbPool, idle: chrono::Duration) {
        if actix_web::rt::System::try_current().is_none() {
            return;
        }
        let streams = Arc::downgrade(self);
        actix_web::rt::spawn(async move {
            loop {
                tokio::time::sleep(RECHECK).await;
                let Some(this) = streams.upgrade() else { return };
                let ids = this.sessions();
                if ids.is_empty() {
                    continue;
                }
                let p = pool.clone();
                let alive = actix_web::web::block(move || {
                    let mut conn = p.get().map_err(|e| e.to_string())?;
                    crate::domain::sessions::alive_sessions(&mut conn, &ids, idle).map_err(|e| e.to_string())
                })
                .await;
                match alive {
                    Ok(Ok(alive)) => {
                        let ended = this.end_all_but(&alive);
                        if ended > 0 {
                            log::debug!("ended {ended} live streams whose session is over");
                        }
                    }
                    // A database that cannot be asked ends nothing: the outage is not the person's.
                    Ok(Err(e)) => log::debug!("checking the live streams' sessions: {e}"),
                    Err(e) => log::debug!("checking the live streams' sessions: {e}"),
                }
            }
        });
    }
}

/// Open streams by account, for tests and the log.
pub fn by_account(streams: &Streams) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    if let Ok(r) = streams.registry.lock() {
        for e in r.open.values() {
            *out.entry(e.owner.account.clone()).or_default() += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner(session: &str, account: &str) -> Owner {
        Owner { session_id: session.into(), account: account.into() }
    }

    #[test]
    fn a_session_keeps_its_newest_streams_and_the_instance_has_a_cap() {
        let streams = Streams::new(12);
        let first: Vec<StreamGuard> = (0..PER_SESSION).map(|_| streams.open(owner("s1", "user:1")).unwrap()).collect();
        assert!(first.iter().all(|g| !g.ended.is_set()));
        let newer = streams.open(owner("s1", "user:1")).unwrap();
        assert!(first[0].ended.is_set(), "the oldest closes");
        assert!(!first[1].ended.is_set() && !newer.ended.is_set());
        assert_eq!(streams.open_count(), PER_SESSION);
        // Another session of the same account: the account's allowance is wider.
        let other: Vec<StreamGuard> = (0..5).map(|_| streams.open(owner("s2", "user:1")).unwrap()).collect();
        assert_eq!(streams.open_count(), PER_ACCOUNT);
        let more = streams.open(owner("s2", "user:1")).unwrap();
        assert!(first[1].ended.is_set(), "the account's oldest closes");
        drop((other, more));
        // The instance's cap refuses, whoever asks.
        let _others: Vec<StreamGuard> =
            (0..8).map(|i| streams.open(owner(&format!("x{i}"), &format!("user:{i}"))).unwrap()).collect();
        assert!(streams.open(owner("y", "user:99")).is_err());
        drop(newer);
        assert!(streams.open(owner("y", "user:99")).is_ok());
    }

    #[test]
    fn streams_of_dead_sessions_end() {
        let streams = Streams::new(100);
        let a = streams.open(owner("alive", "user:1")).unwrap();
        let b = streams.open(owner("dead", "affiliate:2")).unwrap();
        let alive: HashSet<String> = ["alive".to_string()].into();
        assert_eq!(streams.end_all_but(&alive), 1);
        assert!(!a.ended.is_set() && b.ended.is_set());
        assert_eq!(by_account(&streams).len(), 1);
    }
}
