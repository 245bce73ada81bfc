//! The real `affdesk` binary on a fresh SQLite database with demonstration data.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Every demo account's password.
pub const PASSWORD: &str = "demo-password";

pub struct Server {
    pub base: String,
    pub data_dir: PathBuf,
    log: PathBuf,
    process: Child,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

impl Server {
    /// `affdesk --data-dir <dir> serve --demo`, answering on a free loopback port.
    pub async fn start_demo(dir: &Path) -> Server {
        let data_dir = dir.join("data");
        let log = dir.join("server.log");
        let port = free_port();
        let process = Command::new(env!("CARGO_BIN_EXE_affdesk"))
            .arg("--data-dir")
            .arg(&data_dir)
            .args(["serve", "--demo", "--bind"])
            .arg(format!("127.0.0.1:{port}"))
            .env_remove("DATABASE_URL")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(File::create(&log).expect("server log"))
            .spawn()
            .expect("start affdesk");
        let server = Server { base: format!("http://127.0.0.1:{port}"), data_dir, log, process };
        wait_until_up(&format!("{}/healthz", server.base), "affdesk").await;
        server
    }

    /// A connection to the server's database, for what the journeys set up behind
    /// the panels (access granted by hand, a message written meanwhile).
    pub fn db(&self) -> affdesk::db::pool::PooledConn {
        let url = affdesk::db::pool::DbUrl::Sqlite(self.data_dir.join("affdesk.db"));
        affdesk::db::pool::build_pool(&url, 1).expect("open the database").get().expect("a connection")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Every stored attachment file, to prove a refused upload left nothing behind.
    pub fn attachment_files(&self) -> Vec<PathBuf> {
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            let Ok(entries) = std::fs::read_dir(dir) else { return };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, out);
                } else {
                    out.push(path);
                }
            }
        }
        let mut files = Vec::new();
        walk(&self.data_dir.join("attachments"), &mut files);
        files.sort();
        files
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().unwrap().port()
}

pub async fn wait_until_up(url: &str, what: &str) {
    let client = reqwest::Client::new();
    let started = Instant::now();
    loop {
        if let Ok(r) = client.get(url).send().await
            && r.status().is_success()
        {
            return;
        }
        if started.elapsed() > Duration::from_secs(60) {
            panic!("{what} did not answer at {url} within a minute");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
