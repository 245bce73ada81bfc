//! affdesk: the support desk of an affiliate network.

// The core crate's modules, under the names the server has always used.
pub use affdesk_core::{db, domain, seed, storage};

pub mod affise;
pub mod api;
pub mod config;
pub mod error;
pub mod http;
pub mod mail;
pub mod memory;
pub mod web;

use std::net::TcpListener;

use actix_session::SessionMiddleware;
use actix_session::config::{BrowserSession, CookieContentSecurity};
use actix_web::cookie::{Key, SameSite};
use actix_web::dev::Server;
use actix_web::middleware::{Logger, from_fn};
use actix_web::{App, HttpServer, web as aweb};

use crate::config::Config;
use crate::db::{DbPool, DbUrl};

/// Opens the database (creating a SQLite file and its folder if needed) and applies
/// pending migrations.
pub fn open_database(url: &DbUrl, pool_size: u32) -> Result<DbPool, String> {
    open_pool(url, pool_size, db::Checkpoints::OnCommit)
}

/// Opens the database for the server: as `open_database`, and on SQLite the
/// server's own task checkpoints the log (`checkpoint_in_background`), not the
/// request whose commit happens to take it past 1,000 pages.
pub fn open_server_database(url: &DbUrl, pool_size: u32) -> Result<DbPool, String> {
    open_pool(url, pool_size, db::Checkpoints::InBackground)
}

fn open_pool(url: &DbUrl, pool_size: u32, checkpoints: db::Checkpoints) -> Result<DbPool, String> {
    config::ensure_sqlite_parent(url)?;
    let pool = db::build_pool_with(url, pool_size, checkpoints)?;
    let mut conn = pool.get().map_err(|e| format!("cannot get a database connection: {e}"))?;
    db::run_migrations(&mut conn)?;
    Ok(pool)
}

/// Every second SQLite's write-ahead log is copied back into the database file, a
/// passive checkpoint that waits for no reader and no writer. Measured: a bulk
/// close of 22,000 tickets answered in 3.3 s instead of 4.5 s once its request no
/// longer copied and synced the log itself. A task of the system that runs the
/// server, like the sweep below.
fn checkpoint_in_background(pool: DbPool) {
    const EVERY: std::time::Duration = std::time::Duration::from_secs(1);
    if actix_web::rt::System::try_current().is_none() {
        return;
    }
    actix_web::rt::spawn(async move {
        loop {
            actix_web::rt::time::sleep(EVERY).await;
            let pool = pool.clone();
            let done = aweb::block(move || -> Result<(), String> {
                let mut conn = pool.get().map_err(|e| e.to_string())?;
                db::checkpoint(&mut conn).map_err(|e| e.to_string())
            })
            .await;
            match done {
                Ok(Ok(())) => {}
                Ok(Err(e)) => log::warn!("could not checkpoint the database log: {e}"),
                Err(e) => log::warn!("could not checkpoint the database log: {e}"),
            }
        }
    });
}

/// At start and every 10 minutes: files a crash left behind (older than 10 minutes,
/// so no upload in flight) are removed. A task of the system that runs the server,
/// so it ends with it instead of holding the pool open on a thread of its own.
fn sweep_in_background(
    pool: DbPool,
    store: std::sync::Arc<dyn storage::AttachmentStore>,
    pending_close_days: u32,
    instance: http::Instance,
) {
    const EVERY: std::time::Duration = std::time::Duration::from_secs(600);
    if actix_web::rt::System::try_current().is_none() {
        return;
    }
    actix_web::rt::spawn(async move {
        loop {
            let (sweep_pool, store) = (pool.clone(), store.clone());
            let swept = aweb::block(move || -> Result<usize, String> {
                let mut conn = sweep_pool.get().map_err(|e| e.to_string())?;
                // One instance at a time: the others skip a round another is doing.
                let swept = db::exclusively(&mut conn, db::SWEEP_LOCK, |conn| {
                    domain::attachments::sweep_orphans(conn, store.as_ref(), EVERY)
                })
                .map_err(|e| e.to_string())?;
                swept.transpose().map(Option::unwrap_or_default).map_err(|e| e.to_string())
            })
            .await;
            match swept {
                Ok(Ok(0)) => {}
                Ok(Ok(n)) => log::info!("removed {n} attachment files left behind by a crash"),
                Ok(Err(e)) => log::warn!("could not sweep the attachment folder: {e}"),
                Err(e) => log::warn!("could not sweep the attachment folder: {e}"),
            }
            // Holiday covers whose day has come give their affiliates back; tickets
            // that waited on the affiliate too long close.
            let chores_pool = pool.clone();
            let chores = aweb::block(move || -> Result<(usize, usize, domain::Effects), String> {
                let mut conn = chores_pool.get().map_err(|e| e.to_string())?;
                let done = db::exclusively(&mut conn, db::SWEEP_LOCK, |conn| {
                    let back = domain::covers::end_due(conn, domain::now())?;
                    let (closed, effects) = match pending_close_days {
                        0 => (0, domain::Effects::NONE),
                        days => {
                            let cutoff = domain::now() - chrono::Duration::days(i64::from(days));
                            domain::lifecycle::close_unanswered(conn, cutoff, days)?.into_parts()
                        }
                    };
                    Ok::<_, error::AppError>((back, closed, effects))
                })
                .map_err(|e| e.to_string())?;
                done.transpose().map(|d| d.unwrap_or((0, 0, domain::Effects::NONE))).map_err(|e| e.to_string())
            })
            .await;
            match chores {
                Ok(Ok((back, closed, effects))) => {
                    instance.apply(effects);
                    if back > 0 {
                        log::info!("holiday covers ended: {back} affiliates back with their managers");
                    }
                    if closed > 0 {
                        log::info!("{closed} tickets closed after waiting on the affiliate");
                    }
                }
                Ok(Err(e)) => log::warn!("could not run the periodic chores: {e}"),
                Err(e) => log::warn!("could not run the periodic chores: {e}"),
            }
            actix_web::rt::time::sleep(EVERY).await;
        }
    });
}

async fn wait_for_stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        _ => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// A bound, not yet running server.
pub struct Application {
    server: Server,
    port: u16,
    pool: DbPool,
    lifecycle: std::sync::Arc<http::Lifecycle>,
    /// How long `/readyz` says 503 before the server stops taking connections.
    drain: std::time::Duration,
}

impl Application {
    /// Opens the database, binds the address (port 0 picks a free one) and builds the app.
    pub fn build(config: Config) -> Result<Application, String> {
        let pool = open_server_database(&config.database, config.pool_size)?;
        Application::build_with_pool(config, pool)
    }

    pub fn build_with_pool(config: Config, pool: DbPool) -> Result<Application, String> {
        let listener = TcpListener::bind(&config.bind).map_err(|e| format!("cannot listen on {}: {e}", config.bind))?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        let store = config::open_store_at(config.storage.as_deref(), &config.data_dir)?;
        let live = http::live::LiveBus::new(&pool);
        let lookups = std::sync::Arc::new(http::lookups::Lookups::default());
        live.start(pool.clone(), &config.database, lookups.clone());
        let instance = http::Instance { live: live.clone(), lookups: lookups.clone() };
        sweep_in_background(pool.clone(), store.clone(), config.pending_close_days, instance.clone());
        if matches!(config.database, DbUrl::Sqlite(_)) {
            checkpoint_in_background(pool.clone());
        }
        mail::spawn_sender(pool.clone(), config.mail.clone());
        affise::spawn(pool.clone(), config.affise.clone(), instance);
        let streams = http::streams::Streams::new(config.max_streams);
        streams.start_checks(
            pool.clone(),
            chrono::Duration::from_std(config.session_idle).unwrap_or(chrono::Duration::hours(2)),
        );
        let state = http::AppState {
            pool: pool.clone(),
            config: config.clone(),
            db_status: Default::default(),
            storage: store,
            api_limits: std::sync::Arc::new(http::rate_limit::RateLimiter::new(config.api_rate_limit)),
            live,
            streams,
            lookups,
            lifecycle: Default::default(),
        };
        let lifecycle = state.lifecycle.clone();
        let key = Key::from(&config.secret);
        let workers = config.workers;
        let http = HttpServer::new(move || {
            let store = web::session_store::DbSessionStore::new(
                state.pool.clone(),
                state.db_status.clone(),
                state.config.session_idle,
                state.config.session_absolute,
            );
            let sessions = SessionMiddleware::builder(store, key.clone())
                .cookie_name("affdesk_session".into())
                .cookie_secure(state.config.secure_cookies)
                .cookie_http_only(true)
                .cookie_same_site(SameSite::Lax)
                .cookie_content_security(CookieContentSecurity::Private)
                .session_lifecycle(BrowserSession::default())
                .build();
            App::new()
                .app_data(aweb::Data::new(state.clone()))
                .app_data(web::forms::form_config())
                .app_data(web::forms::query_config())
                .wrap(from_fn(nul_in_address))
                .wrap(from_fn(web::htmx_errors))
                .wrap(sessions)
                .wrap(from_fn(web::error_pages))
                .wrap(http::headers::security(state.config.secure_cookies))
                // The request line without an API key a client put in the URL.
                .wrap(
                    Logger::new("%a \"%{line}xi\" %s %b %Dms")
                        .custom_request_replace("line", http::headers::loggable_line),
                )
                .configure(api::routes)
                .configure(web::routes)
                .default_service(aweb::to(web::not_found))
        });
        let http = match workers {
            Some(n) => http.workers(n),
            None => http,
        };
        // Signals are ours (see `run_until_stopped`): readiness goes first, then the server.
        let http = http.disable_signals().shutdown_timeout(30);
        let server = http.listen(listener).map_err(|e| e.to_string())?.run();
        Ok(Application { server, port, pool, lifecycle, drain: config.drain })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn pool(&self) -> &DbPool {
        &self.pool
    }

    /// Runs until SIGTERM or Ctrl-C, then shuts down gracefully: `/readyz` answers
    /// 503 so the load balancer stops sending here, live streams end (their browsers
    /// reconnect elsewhere), and after the drain the server stops taking connections
    /// and finishes the requests in flight.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let handle = self.server.handle();
        let (lifecycle, drain) = (self.lifecycle.clone(), self.drain);
        actix_web::rt::spawn(async move {
            wait_for_stop_signal().await;
            log::info!("stopping: not ready any more; draining for {drain:?}");
            lifecycle.begin_shutdown();
            actix_web::rt::time::sleep(drain).await;
            handle.stop(true).await;
        });
        self.server.await
    }

    /// The server future, for tests that spawn it and stop it with the handle.
    pub fn into_server(self) -> Server {
        self.server
    }
}

/// The middleware that refuses an address (path or query) holding a NUL character,
/// before any handler reads it: the API answers in its JSON, the panels with a page.
async fn nul_in_address(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    use crate::http::params::{NUL_MESSAGE, has_nul};
    use actix_web::ResponseError;
    if has_nul(req.query_string().as_bytes()) || has_nul(req.path().as_bytes()) {
        let error = crate::error::AppError::bad_request(NUL_MESSAGE);
        let response = if req.path().starts_with("/3.0") {
            crate::api::ApiError(error).error_response()
        } else {
            error.error_response()
        };
        return Ok(req.into_response(response));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}
