//! The live bus of one instance: reads new live events from the database and hands
//! them to every browser connected to this instance (`web::live`). It reads when
//! poked: by this instance after its own writes, by PostgreSQL's `NOTIFY` after any
//! instance's writes, and every two seconds in any case. The same listener hears
//! when another instance (or the command line) changed the lookups.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::sync::{Notify, broadcast};

use super::lookups::Lookups;
use crate::db::{DbPool, DbUrl};
use crate::domain::live::{self, LiveEvent};

/// Events a slow browser may lag behind before it is told to reload.
const BACKLOG: usize = 1024;
/// The longest the bus waits without a poke.
const IDLE: Duration = Duration::from_secs(2);
/// The shortest pause between two reads, so a burst of writes costs one read.
const SETTLE: Duration = Duration::from_millis(30);

pub struct LiveBus {
    tx: broadcast::Sender<Arc<LiveEvent>>,
    wake: Notify,
    /// The last event handed out.
    last: AtomicI64,
}

impl LiveBus {
    /// A bus starting after the newest event in the database. `start` runs it.
    pub fn new(pool: &DbPool) -> Arc<LiveBus> {
        let last = pool.get().ok().and_then(|mut c| live::last_id(&mut c).ok()).unwrap_or(0);
        Arc::new(LiveBus { tx: broadcast::channel(BACKLOG).0, wake: Notify::new(), last: AtomicI64::new(last) })
    }

    /// Runs the bus on the current actix system, and on PostgreSQL a listener
    /// thread for other instances' events and changes to `lookups`. Both stop when
    /// the bus is dropped.
    pub fn start(self: &Arc<LiveBus>, pool: DbPool, url: &DbUrl, lookups: Arc<Lookups>) {
        if actix_web::rt::System::try_current().is_none() {
            return;
        }
        if let DbUrl::Postgres(url) = url {
            listen(Arc::downgrade(self), lookups, url.clone());
        }
        let bus = Arc::downgrade(self);
        actix_web::rt::spawn(async move {
            let mut pruned = std::time::Instant::now();
            loop {
                let Some(this) = bus.upgrade() else { return };
                let _ = tokio::time::timeout(IDLE, this.wake.notified()).await;
                let after = this.last.load(Ordering::Acquire);
                let p = pool.clone();
                let prune = pruned.elapsed() > Duration::from_secs(600);
                let read = actix_web::web::block(move || {
                    let mut conn = p.get().map_err(|e| e.to_string())?;
                    if prune {
                        crate::db::exclusively(&mut conn, crate::db::PRUNE_LOCK, |conn| {
                            live::prune(conn, crate::domain::now())
                        })
                        .map_err(|e| e.to_string())?;
                    }
                    live::since(&mut conn, after, 500).map_err(|e| e.to_string())
                })
                .await;
                if prune {
                    pruned = std::time::Instant::now();
                }
                match read {
                    Ok(Ok(events)) => {
                        for event in events {
                            this.last.store(event.id, Ordering::Release);
                            // No one listening is not an error.
                            let _ = this.tx.send(Arc::new(event));
                        }
                    }
                    Ok(Err(e)) => log::debug!("live events: {e}"),
                    Err(e) => log::debug!("live events: {e}"),
                }
                drop(this);
                actix_web::rt::time::sleep(SETTLE).await;
            }
        });
    }

    /// Something may have been written: read soon.
    pub fn poke(&self) {
        self.wake.notify_one();
    }

    /// The last event this instance has handed out: where a page made now starts
    /// listening (no database round trip per page; an event still on its way is
    /// replayed to the page at worst, never missed).
    pub fn position(&self) -> i64 {
        self.last.load(Ordering::Acquire)
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<LiveEvent>> {
        self.tx.subscribe()
    }
}

/// PostgreSQL: a connection of its own that `LISTEN`s, pokes the bus when any
/// instance commits an event, and has `lookups` read again when someone changed
/// them. Reconnects after a failure; ends with the bus.
fn listen(bus: Weak<LiveBus>, lookups: Arc<Lookups>, url: String) {
    use diesel::Connection;
    use diesel::connection::SimpleConnection;
    let spawned = std::thread::Builder::new().name("live-listen".into()).spawn(move || {
        while bus.strong_count() > 0 {
            let mut conn = match diesel::PgConnection::establish(&url) {
                Ok(c) => c,
                Err(_) => {
                    std::thread::sleep(Duration::from_secs(1));
                    continue;
                }
            };
            let channels = format!("LISTEN {}; LISTEN {}", live::CHANNEL, crate::domain::lookups::CHANNEL);
            if conn.batch_execute(&channels).is_err() {
                std::thread::sleep(Duration::from_secs(1));
                continue;
            }
            // A change made while no one listened went unheard.
            lookups.forget();
            for round in 0u64.. {
                let Some(this) = bus.upgrade() else { return };
                let mut heard = false;
                for n in conn.notifications_iter() {
                    match n {
                        Ok(n) if n.channel == crate::domain::lookups::CHANNEL => lookups.forget(),
                        Ok(_) => heard = true,
                        Err(_) => break,
                    }
                }
                if heard {
                    this.poke();
                }
                drop(this);
                std::thread::sleep(Duration::from_millis(50));
                // A dead connection shows on a trivial query (every two seconds): reconnect.
                if round % 40 == 39 && conn.batch_execute("SELECT 1").is_err() {
                    break;
                }
            }
        }
    });
    if let Err(e) = spawned {
        log::warn!("cannot listen for other instances' live events: {e}");
    }
}
