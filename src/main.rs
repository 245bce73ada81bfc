//! The `affdesk` command line: parses arguments and calls the library.

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use affdesk::config::{self, Config, ServeArgs, StoreArgs};
use affdesk::domain::{affiliates::Affiliate, users};
use affdesk::seed as demo;

#[derive(Parser)]
#[command(
    name = "affdesk",
    version,
    about = "affdesk: the support desk of an affiliate network",
    long_about = "affdesk: the support desk of an affiliate network.\n\n\
        Affiliates ask questions and request access to offers and Smartlinks; affiliate managers \
        answer, approve and reject in the admin panel. Also an Affise-compatible /3.0 API.\n\n\
        Environment: DATABASE_URL (default sqlite://<data-dir>/affdesk.db), AFFDESK_DATA_DIR (default ./data), \
        AFFDESK_BIND (default 127.0.0.1:8080), AFFDESK_SECRET (cookie signing secret; generated into \
        <data-dir>/secret when unset), RUST_LOG (log filter, default info)."
)]
struct Cli {
    #[command(flatten)]
    store: StoreArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server (admin panel, affiliate panel and API).
    Serve(Box<ServeArgs>),
    /// Apply database migrations and exit.
    Migrate,
    /// Seed demonstration or benchmark data (skipped when the demo logins already exist).
    Demo {
        /// How many tickets to create (up to millions; about one affiliate per 50 tickets).
        #[arg(long, default_value_t = 200)]
        tickets: usize,
    },
    /// Manage admin panel users.
    #[command(subcommand)]
    User(UserCommand),
    /// Remove attachment files a crash left behind: temporaries, and stored files no
    /// attachment row names (the server also does this at start and every 10 minutes).
    Sweep {
        /// Only files older than this many seconds (uploads in flight are younger).
        #[arg(long, default_value_t = 600)]
        older_than: u64,
    },
    /// List the email outbox (newest first), or send an email again now.
    Outbox {
        /// Only emails that failed for good.
        #[arg(long)]
        failed: bool,
        /// Send this email again now (a failed or waiting one).
        #[arg(long, value_name = "ID")]
        retry: Option<i64>,
    },
    /// Pull managers, partners, offers, Smartlinks and offer access from the network's
    /// Affise once (--affise-url and --affise-key, or their environment variables).
    Sync {
        #[command(flatten)]
        affise: config::AffiseArgs,
        /// Read every record (not only those changed since the last pull), and disable
        /// affiliates and offers that Affise no longer has.
        #[arg(long)]
        full: bool,
    },
    /// Import affiliates, offers, Smartlinks or access from a CSV file, matched by the
    /// external (Affise) id. Nothing is kept unless every line is right; running a
    /// file again changes nothing. The columns are in the README.
    Import {
        #[arg(value_parser = ["affiliates", "offers", "smartlinks", "access"])]
        kind: String,
        file: std::path::PathBuf,
        /// Check the file and say what it would do, keeping nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Issue a new API key for a user or affiliate and print it once (the old key stops working).
    Apikey {
        /// Email of the user or affiliate.
        #[arg(long)]
        email: String,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add an admin or affiliate manager; the password is read from stdin (or asked for).
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// admin or manager
        #[arg(long, value_parser = ["admin", "manager"])]
        role: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("affdesk: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Serve(serve) => serve_command(&cli.store, &serve),
        Command::Migrate => {
            let url = config::database_url(&cli.store)?;
            affdesk::open_database(&url, 1)?;
            println!("migrations applied to {}", url.display());
            Ok(())
        }
        Command::Demo { tickets } => {
            let url = config::database_url(&cli.store)?;
            // One connection: the load may switch the file out of WAL mode only
            // while no other connection has it open.
            let pool = affdesk::open_database(&url, 1)?;
            let mut conn = pool.get().map_err(|e| e.to_string())?;
            let started = std::time::Instant::now();
            let summary = affdesk::db::under_migration_lock(&mut conn, |conn| {
                demo::seed(conn, &demo::DemoOptions { tickets }, &mut |line| println!("{line}"))
                    .map_err(|e| e.to_string())
            })?;
            if summary.seeded {
                println!(
                    "seeded {} tickets with {} messages for {} affiliates in {:.1}s",
                    summary.tickets,
                    summary.messages,
                    summary.affiliates,
                    started.elapsed().as_secs_f64()
                );
            } else {
                println!("demo data is already there; nothing seeded");
            }
            println!("{}", demo::logins_text());
            Ok(())
        }
        Command::User(UserCommand::Add { email, name, role }) => {
            let url = config::database_url(&cli.store)?;
            let pool = affdesk::open_database(&url, 1)?;
            let password = read_password()?;
            let role = users::Role::parse(&role).ok_or("role must be admin or manager")?;
            let mut conn = pool.get().map_err(|e| e.to_string())?;
            // No instance runs in this process: running ones hear of the new manager
            // through PostgreSQL, or on SQLite when their kept copy goes stale.
            let (user, _effects) =
                users::User::create(&mut conn, &email, &name, role, &password).map_err(|e| e.to_string())?.into_parts();
            println!("added {} {} (id {})", role.as_str(), user.email, user.id);
            Ok(())
        }
        Command::Sweep { older_than } => {
            let url = config::database_url(&cli.store)?;
            let pool = affdesk::open_database(&url, 1)?;
            let store = config::open_store(&cli.store)?;
            let mut conn = pool.get().map_err(|e| e.to_string())?;
            let age = std::time::Duration::from_secs(older_than);
            let removed = affdesk::domain::attachments::sweep_orphans(&mut conn, store.as_ref(), age)
                .map_err(|e| e.to_string())?;
            println!("removed {removed} files left behind");
            Ok(())
        }
        Command::Outbox { failed, retry } => {
            use affdesk::domain::outbox;
            let url = config::database_url(&cli.store)?;
            let pool = affdesk::open_database(&url, 1)?;
            let mut conn = pool.get().map_err(|e| e.to_string())?;
            if let Some(id) = retry {
                let queued = outbox::retry_now(&mut conn, id, affdesk::domain::now()).map_err(|e| e.to_string())?;
                if !queued {
                    return Err(format!("email {id} was already sent, or is not in the outbox"));
                }
                println!("email {id} will be sent again by the next running server");
                return Ok(());
            }
            let state = failed.then_some(outbox::OutboxState::Failed);
            let mails = outbox::list(&mut conn, state, 100).map_err(|e| e.to_string())?;
            for (s, n) in outbox::counts(&mut conn).map_err(|e| e.to_string())? {
                println!("{s}: {n}");
            }
            for m in mails {
                println!(
                    "{:>6}  {:<7}  {:<15}  #{:<7}  {}  attempts {}{}",
                    m.id,
                    m.state,
                    m.event,
                    m.ticket_id,
                    m.recipient_email,
                    m.attempts,
                    m.last_error.map(|e| format!("  ({e})")).unwrap_or_default()
                );
            }
            Ok(())
        }
        Command::Sync { affise, full } => {
            let settings = affise
                .config()
                .ok_or("give --affise-url and --affise-key (or AFFDESK_AFFISE_URL and AFFDESK_AFFISE_KEY)")?;
            let url = config::database_url(&cli.store)?;
            let pool = affdesk::open_database(&url, 2)?;
            let client = affdesk::affise::Client::new(&settings)?;
            let report = actix_web::rt::System::new().block_on(affdesk::affise::sync_once(&pool, &client, full));
            for line in report.lines() {
                println!("{line}");
            }
            if report.is_ok() { Ok(()) } else { Err("some parts of the sync failed (above)".into()) }
        }
        Command::Import { kind, file, dry_run } => {
            use affdesk::domain::import::{self, ImportKind};
            let kind = ImportKind::parse(&kind).ok_or("the kind is affiliates, offers, smartlinks or access")?;
            let input = std::fs::File::open(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let url = config::database_url(&cli.store)?;
            let pool = affdesk::open_database(&url, 1)?;
            let mut conn = pool.get().map_err(|e| e.to_string())?;
            let actor = affdesk::domain::Actor::system();
            let report = import::run(&mut conn, &actor, kind, std::io::BufReader::new(input), !dry_run)
                .map_err(|e| e.to_string())?;
            for e in &report.errors {
                eprintln!("line {}: {}", e.line, e.message);
            }
            if report.error_count > report.errors.len() as u64 {
                eprintln!("... and {} more lines in error", report.error_count - report.errors.len() as u64);
            }
            let verdict = if report.applied { "imported" } else { "nothing was changed" };
            println!("{}: {}; {verdict}", kind.word(), report.summary());
            if report.error_count > 0 { Err("the file has lines in error (above)".into()) } else { Ok(()) }
        }
        Command::Apikey { email } => {
            let url = config::database_url(&cli.store)?;
            let pool = affdesk::open_database(&url, 1)?;
            let mut conn = pool.get().map_err(|e| e.to_string())?;
            let key = if let Some(user) = users::User::find_by_email(&mut conn, &email).map_err(|e| e.to_string())? {
                users::User::issue_api_key(&mut conn, user.id)
            } else if let Some(a) = Affiliate::find_by_email(&mut conn, &email).map_err(|e| e.to_string())? {
                Affiliate::issue_api_key(&mut conn, a.id)
            } else {
                return Err(format!("no user or affiliate with the email {email}"));
            }
            .map_err(|e| e.to_string())?;
            println!("{key}");
            Ok(())
        }
    }
}

fn serve_command(store: &StoreArgs, serve: &ServeArgs) -> Result<(), String> {
    affdesk::memory::return_large_blocks();
    affdesk::memory::give_back_freed_periodically();
    let config = Config::for_serve(store, serve)?;
    let pool = affdesk::open_server_database(&config.database, config.pool_size)?;
    if serve.demo {
        let mut conn = pool.get().map_err(|e| e.to_string())?;
        // Instances started at once on one empty PostgreSQL seed one after another:
        // the second finds the demo there.
        affdesk::db::under_migration_lock(&mut conn, |conn| -> Result<(), String> {
            if demo::database_is_empty(conn).map_err(|e| e.to_string())? {
                demo::seed(conn, &demo::DemoOptions::default(), &mut |line| log::info!("{line}"))
                    .map_err(|e| e.to_string())?;
                println!("demo data seeded");
            }
            Ok(())
        })?;
        println!("{}", demo::logins_text().replace("<host>", &config.bind));
    }
    let bind = config.bind.clone();
    let database = config.database.display();
    actix_web::rt::System::new().block_on(async move {
        let app = affdesk::Application::build_with_pool(config, pool)?;
        println!("affdesk listening on http://{bind} (database {database})");
        app.run_until_stopped().await.map_err(|e| e.to_string())
    })
}

/// The new user's password: from stdin when piped, else asked twice at the terminal.
fn read_password() -> Result<String, String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        let first = rpassword::prompt_password("Password: ").map_err(|e| e.to_string())?;
        let second = rpassword::prompt_password("Repeat password: ").map_err(|e| e.to_string())?;
        if first != second {
            return Err("the passwords do not match".into());
        }
        Ok(first)
    } else {
        let mut line = String::new();
        stdin.lock().read_line(&mut line).map_err(|e| e.to_string())?;
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    }
}
