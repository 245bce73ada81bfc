//! One `Config` from CLI flags and the `AFFDESK_*` / `DATABASE_URL` environment.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;

use crate::db::DbUrl;

/// Where the data lives; every subcommand takes these.
#[derive(Args, Debug, Clone)]
pub struct StoreArgs {
    /// Database URL: sqlite://path/to/file.db or postgres://user:password@host/db.
    /// Default: SQLite at <data-dir>/affdesk.db, created on first start.
    #[arg(long, env = "DATABASE_URL", global = true)]
    pub database_url: Option<String>,

    /// Folder for the SQLite database, attachments and the generated session secret.
    #[arg(long, env = "AFFDESK_DATA_DIR", default_value = "./data", global = true)]
    pub data_dir: PathBuf,

    /// Where attachments live: the data folder (default), or S3-compatible object
    /// storage, s3://bucket[/prefix]?endpoint=http://host:9000&region=us-east-1
    /// (credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY).
    #[arg(long, env = "AFFDESK_STORAGE", global = true)]
    pub storage: Option<String>,
}

/// Opens the attachment store the arguments name.
pub fn open_store(store: &StoreArgs) -> Result<std::sync::Arc<dyn crate::storage::AttachmentStore>, String> {
    open_store_at(store.storage.as_deref(), &store.data_dir)
}

pub fn open_store_at(
    spec: Option<&str>,
    data_dir: &std::path::Path,
) -> Result<std::sync::Arc<dyn crate::storage::AttachmentStore>, String> {
    match spec.map(str::trim).filter(|s| !s.is_empty()) {
        None => {
            let root = data_dir.join("attachments");
            crate::storage::LocalStore::new(root.clone())
                .map(|s| std::sync::Arc::new(s) as std::sync::Arc<dyn crate::storage::AttachmentStore>)
                .map_err(|e| format!("cannot create attachment folder {}: {e}", root.display()))
        }
        Some(spec) => {
            let location = crate::storage::s3::S3Location::parse(spec)?;
            let store = crate::storage::s3::S3Store::open(&location, data_dir.join("uploads"))?;
            Ok(std::sync::Arc::new(store))
        }
    }
}

/// Options of `affdesk serve`.
#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "AFFDESK_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,

    /// Secret that signs session cookies (at least 32 characters). Without it, one is
    /// generated on first start and kept in <data-dir>/secret, so restarts keep sessions.
    #[arg(long, env = "AFFDESK_SECRET", hide_env_values = true)]
    pub secret: Option<String>,

    /// Seed demonstration data when the database is empty and print the logins.
    #[arg(long)]
    pub demo: bool,

    /// Send session cookies only over HTTPS (turn on behind a TLS-terminating proxy).
    #[arg(long, env = "AFFDESK_SECURE_COOKIES")]
    pub secure_cookies: bool,

    /// API requests allowed per key and minute.
    #[arg(long, env = "AFFDESK_API_RATE_LIMIT", default_value_t = 600)]
    pub api_rate_limit: u32,

    /// Failed logins allowed per account in 15 minutes; past it, the account's
    /// logins are refused (429) until the oldest failure is 15 minutes old, except
    /// with the unlock link its owner can have emailed.
    #[arg(long, env = "AFFDESK_LOGIN_ATTEMPTS", default_value_t = 10)]
    pub login_attempts: u32,

    /// Failed logins allowed per client address and panel in 15 minutes, whatever
    /// the accounts: higher, so one account's guesser does not lock out the others
    /// who log in from the same office or proxy.
    #[arg(long, env = "AFFDESK_LOGIN_ATTEMPTS_PER_ADDRESS", default_value_t = 100)]
    pub login_attempts_per_address: u32,
    /// Accept API keys in the URL (`?API-Key=...`) from clients that cannot send the
    /// header. Off by default: URLs end up in proxies' logs and browser histories.
    #[arg(long, env = "AFFDESK_API_KEY_IN_URL")]
    pub api_key_in_url: bool,

    /// Live event streams (open pages listening for changes) this instance keeps at
    /// once; more are refused with 429. Each is a connection: the service's
    /// open-file limit must be above it (see docs/deploy.md).
    #[arg(long, env = "AFFDESK_MAX_STREAMS", default_value_t = 2000)]
    pub max_streams: usize,

    /// Days a ticket answered with "Send and wait" stays waiting on the affiliate
    /// before it closes by itself, with a notice in the thread (0: never).
    #[arg(long, env = "AFFDESK_PENDING_CLOSE_DAYS", default_value_t = 7)]
    pub pending_close_days: u32,

    /// The network's working days, as "mon-fri" or "mon,tue,thu": targets and
    /// report times count only working time.
    #[arg(long, env = "AFFDESK_BUSINESS_DAYS", default_value = "mon-fri")]
    pub business_days: String,

    /// The working hours of those days, as "09:00-18:00", in `--time-zone`.
    #[arg(long, env = "AFFDESK_BUSINESS_HOURS", default_value = "09:00-18:00")]
    pub business_hours: String,

    /// The network's time zone, an IANA name such as Europe/Berlin.
    #[arg(long, env = "AFFDESK_TIME_ZONE", default_value = "UTC")]
    pub time_zone: String,

    /// Working hours within which an affiliate's question gets its first answer.
    #[arg(long, env = "AFFDESK_SLA_FIRST_ANSWER", default_value_t = 4)]
    pub sla_first_answer: u32,

    /// Working hours within which an access request is decided.
    #[arg(long, env = "AFFDESK_SLA_DECISION", default_value_t = 8)]
    pub sla_decision: u32,

    /// Seconds a client has to send a request body, beyond what its size needs at
    /// 16 KB/s; a client trickling bytes is cut off then (408).
    #[arg(long, env = "AFFDESK_BODY_TIMEOUT", default_value_t = 60)]
    pub body_timeout: u64,

    /// Worker threads (default: one per core).
    #[arg(long, env = "AFFDESK_WORKERS")]
    pub workers: Option<usize>,

    /// The currency the network pays and earns in (statistics show money in it).
    #[arg(long, env = "AFFDESK_CURRENCY", default_value = "USD")]
    pub currency: String,

    /// SMTP server for notifications: smtp://host:25, smtps://user:pass@host:465 or
    /// smtp://user:pass@host:587?tls=starttls. Without it the outbox fills and waits.
    #[arg(long, env = "AFFDESK_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,

    /// The sender of notifications, e.g. "Support <support@network.example>".
    #[arg(long, env = "AFFDESK_MAIL_FROM", default_value = "affdesk <affdesk@localhost>")]
    pub mail_from: String,

    /// The address people open affdesk at, for links in emails (default http://<bind>).
    #[arg(long, env = "AFFDESK_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Attempts to send an email before it is marked failed.
    #[arg(long, env = "AFFDESK_MAIL_ATTEMPTS", default_value_t = 8)]
    pub mail_attempts: i32,

    /// Seconds to wait after a failed attempt; the pause doubles after each one.
    #[arg(long, env = "AFFDESK_MAIL_RETRY", default_value_t = 30)]
    pub mail_retry: u64,

    /// Addresses of the load balancers in front (comma-separated): from them, the
    /// client's address is read from X-Forwarded-For (for login throttling).
    #[arg(long, env = "AFFDESK_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<std::net::IpAddr>,

    #[command(flatten)]
    pub affise: AffiseArgs,

    /// After SIGTERM: seconds /readyz answers 503 (so a load balancer moves away)
    /// before the server stops taking connections and finishes those in flight.
    #[arg(long, env = "AFFDESK_DRAIN", default_value_t = 3)]
    pub drain: u64,
}

/// The network's Affise: where it is and its admin API key. Off when either is unset.
#[derive(Args, Debug, Clone, Default)]
pub struct AffiseArgs {
    /// The network's Affise API address, e.g. https://api-network.affise.com: partners,
    /// managers, offers and Smartlinks are pulled from it, and access decisions pushed.
    #[arg(long, env = "AFFDESK_AFFISE_URL")]
    pub affise_url: Option<String>,

    /// An Affise admin API key (sent in the API-Key header).
    #[arg(long, env = "AFFDESK_AFFISE_KEY", hide_env_values = true)]
    pub affise_key: Option<String>,

    /// Seconds between pulls of the directory from Affise (0: only `affdesk sync`).
    #[arg(long, env = "AFFDESK_AFFISE_SYNC_EVERY", default_value_t = 300)]
    pub affise_sync_every: u64,

    /// Seconds before a decision Affise did not take is pushed again; the pause doubles each time.
    #[arg(long, env = "AFFDESK_AFFISE_RETRY", default_value_t = 30)]
    pub affise_retry: u64,
}

impl AffiseArgs {
    /// The Affise settings, or `None` when the sync is off.
    pub fn config(&self) -> Option<crate::affise::AffiseConfig> {
        let url = self.affise_url.as_deref().map(str::trim).filter(|u| !u.is_empty())?;
        let key = self.affise_key.as_deref().map(str::trim).filter(|k| !k.is_empty())?;
        Some(crate::affise::AffiseConfig {
            url: url.to_string(),
            key: key.to_string(),
            sync_every: (self.affise_sync_every > 0).then(|| Duration::from_secs(self.affise_sync_every)),
            retry_after: Duration::from_secs(self.affise_retry.max(1)),
            timeout: Duration::from_secs(30),
            poll: Duration::from_secs(2),
        })
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    pub database: DbUrl,
    pub data_dir: PathBuf,
    pub bind: String,
    /// Signs the session cookie; 64 bytes derived from the configured secret.
    pub secret: Vec<u8>,
    pub secure_cookies: bool,
    pub session_idle: Duration,
    pub session_absolute: Duration,
    pub api_rate_limit: u32,
    pub login_attempts: u32,
    pub login_attempts_per_address: u32,
    pub max_streams: usize,
    pub pending_close_days: u32,
    pub sla: crate::domain::sla::Targets,
    pub api_key_in_url: bool,
    pub body_timeout: Duration,
    pub workers: Option<usize>,
    pub pool_size: u32,
    pub currency: String,
    pub mail: crate::mail::MailConfig,
    /// `--storage`: `None` for the data folder.
    pub storage: Option<String>,
    /// After SIGTERM, how long `/readyz` says 503 before connections stop being taken.
    pub drain: Duration,
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The network's Affise, when the sync is on.
    pub affise: Option<crate::affise::AffiseConfig>,
}

/// The service targets from the command line: a bad calendar stops the start, said.
fn sla_targets(serve: &ServeArgs) -> Result<crate::domain::sla::Targets, String> {
    let hours = crate::domain::business_hours::BusinessHours::parse(
        &serve.business_days,
        &serve.business_hours,
        &serve.time_zone,
    )
    .map_err(|e| format!("--business-days/--business-hours/--time-zone: {e}"))?;
    if serve.sla_first_answer == 0 || serve.sla_decision == 0 {
        return Err("--sla-first-answer and --sla-decision are hours of working time, at least 1".into());
    }
    Ok(crate::domain::sla::Targets {
        hours,
        first_answer: chrono::Duration::hours(i64::from(serve.sla_first_answer)),
        decision: chrono::Duration::hours(i64::from(serve.sla_decision)),
    })
}

impl Config {
    /// Builds the configuration for `serve`: checks the data folder is writable and
    /// loads (or creates) the session secret.
    pub fn for_serve(store: &StoreArgs, serve: &ServeArgs) -> Result<Config, String> {
        let database = database_url(store)?;
        ensure_data_dir(&store.data_dir)?;
        let secret = match &serve.secret {
            Some(s) if s.len() < 32 => return Err("AFFDESK_SECRET must be at least 32 characters long".into()),
            Some(s) => s.clone(),
            None => load_or_create_secret(&store.data_dir)?,
        };
        Ok(Config {
            pool_size: pool_size(&database),
            database,
            data_dir: store.data_dir.clone(),
            bind: serve.bind.clone(),
            secret: derive_key(&secret),
            secure_cookies: serve.secure_cookies,
            session_idle: Duration::from_secs(2 * 3600),
            session_absolute: Duration::from_secs(24 * 3600),
            api_rate_limit: serve.api_rate_limit,
            login_attempts: serve.login_attempts,
            login_attempts_per_address: serve.login_attempts_per_address,
            max_streams: serve.max_streams,
            pending_close_days: serve.pending_close_days,
            sla: sla_targets(serve)?,
            api_key_in_url: serve.api_key_in_url,
            body_timeout: Duration::from_secs(serve.body_timeout),
            workers: serve.workers,
            currency: serve.currency.trim().to_uppercase(),
            storage: store.storage.clone(),
            drain: Duration::from_secs(serve.drain),
            trusted_proxies: serve.trusted_proxies.clone(),
            affise: serve.affise.config(),
            mail: crate::mail::MailConfig {
                smtp_url: serve.smtp_url.clone().filter(|u| !u.trim().is_empty()),
                from: serve.mail_from.clone(),
                public_url: serve.public_url.clone().unwrap_or_else(|| format!("http://{}", serve.bind)),
                attempts: serve.mail_attempts.max(1),
                retry_after: Duration::from_secs(serve.mail_retry.max(1)),
                poll: Duration::from_secs(1),
                lease: Duration::from_secs(120),
            },
        })
    }

    /// A configuration for tests and tools: fixed secret, given database and folder.
    pub fn for_tests(database: DbUrl, data_dir: PathBuf) -> Config {
        Config {
            pool_size: pool_size(&database),
            database,
            data_dir,
            bind: "127.0.0.1:0".into(),
            secret: derive_key("affdesk test secret, not for production use"),
            secure_cookies: false,
            session_idle: Duration::from_secs(2 * 3600),
            session_absolute: Duration::from_secs(24 * 3600),
            api_rate_limit: 600,
            login_attempts: 10,
            login_attempts_per_address: 100,
            max_streams: 200,
            pending_close_days: 7,
            sla: crate::domain::sla::Targets::default(),
            api_key_in_url: false,
            body_timeout: Duration::from_secs(60),
            workers: Some(2),
            currency: "USD".into(),
            storage: None,
            drain: Duration::from_secs(0),
            trusted_proxies: Vec::new(),
            affise: None,
            mail: crate::mail::MailConfig {
                smtp_url: None,
                from: "affdesk <affdesk@localhost>".into(),
                public_url: "http://affdesk.test".into(),
                attempts: 8,
                retry_after: Duration::from_secs(30),
                poll: Duration::from_millis(200),
                lease: Duration::from_secs(120),
            },
        }
    }

    pub fn attachments_dir(&self) -> PathBuf {
        self.data_dir.join("attachments")
    }
}

/// The database URL from the flag or `DATABASE_URL`, else SQLite in the data folder.
pub fn database_url(store: &StoreArgs) -> Result<DbUrl, String> {
    match &store.database_url {
        Some(url) if !url.trim().is_empty() => DbUrl::parse(url),
        _ => Ok(DbUrl::Sqlite(store.data_dir.join("affdesk.db"))),
    }
}

/// Creates the data folder (and the SQLite file's folder) and proves it is writable.
pub fn ensure_data_dir(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create data directory {}: {e}", dir.display()))?;
    let probe = dir.join(".write-test");
    std::fs::write(&probe, b"ok").map_err(|e| format!("data directory {} is not writable: {e}", dir.display()))?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

/// Makes sure the folder that will hold a SQLite file exists.
pub fn ensure_sqlite_parent(url: &DbUrl) -> Result<(), String> {
    if let DbUrl::Sqlite(path) = url
        && let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create folder {} for the database: {e}", parent.display()))?;
    }
    Ok(())
}

fn pool_size(database: &DbUrl) -> u32 {
    match database {
        DbUrl::Sqlite(_) => 8,
        DbUrl::Postgres(_) => 16,
    }
}

fn load_or_create_secret(dir: &Path) -> Result<String, String> {
    let path = dir.join("secret");
    match std::fs::read_to_string(&path) {
        Ok(s) if s.trim().len() >= 32 => Ok(s.trim().to_string()),
        _ => {
            let secret = crate::domain::random_token(48);
            write_private(&path, secret.as_bytes())
                .map_err(|e| format!("cannot write session secret {}: {e}", path.display()))?;
            Ok(secret)
        }
    }
}

#[cfg(unix)]
fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    f.write_all(data)
}

#[cfg(not(unix))]
fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, data)
}

/// Cookie keys need 64 bytes; a SHA-512 of the secret gives exactly that.
fn derive_key(secret: &str) -> Vec<u8> {
    use sha2::{Digest, Sha512};
    Sha512::digest(secret.as_bytes()).to_vec()
}
