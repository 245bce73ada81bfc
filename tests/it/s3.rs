//! A real S3-compatible server for the tests: moto in server mode (from PyPI;
//! `.ci/run` installs it in a virtual environment and names it in
//! `AFFDESK_MOTO_SERVER`). One server per test, stopped when dropped.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct S3Server {
    child: Child,
    pub port: u16,
    pub bucket: String,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn moto() -> Option<PathBuf> {
    let found = std::env::var_os("AFFDESK_MOTO_SERVER").map(PathBuf::from).or_else(|| {
        let local = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/ci-venv/bin/moto_server");
        local.exists().then_some(local)
    });
    if found.is_none() {
        assert!(std::env::var_os("CI").is_none(), "CI must install moto (AFFDESK_MOTO_SERVER) so the S3 tests run");
        eprintln!("moto_server not found (AFFDESK_MOTO_SERVER): skipping the S3 test");
    }
    found
}

impl S3Server {
    /// Starts moto with an empty bucket; `None` (the test is skipped) without moto, except in CI.
    pub async fn start() -> Option<S3Server> {
        let moto = moto()?;
        // object_store reads its credentials from the environment; moto takes any.
        static CREDENTIALS: std::sync::Once = std::sync::Once::new();
        CREDENTIALS.call_once(|| {
            // SAFETY: set once, to the same values, before any S3 client of the tests reads them.
            unsafe {
                std::env::set_var("AWS_ACCESS_KEY_ID", "affdesk-test");
                std::env::set_var("AWS_SECRET_ACCESS_KEY", "affdesk-test-secret");
            }
        });
        let port = crate::smtp::free_port();
        let child = Command::new(moto)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(30), "moto_server did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let bucket = format!("affdesk-{}", affdesk::domain::random_token(4).to_lowercase());
        let server = S3Server { child, port, bucket };
        let made = reqwest::Client::new().put(server.endpoint() + "/" + &server.bucket).send().await.unwrap();
        assert!(made.status().is_success(), "create the bucket: {}", made.status());
        Some(server)
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The `--storage` setting for this server's bucket.
    pub fn storage(&self) -> String {
        format!("s3://{}?endpoint={}&region=us-east-1", self.bucket, self.endpoint())
    }

    /// The keys of every object in the bucket.
    pub async fn keys(&self) -> Vec<String> {
        let xml = reqwest::Client::new()
            .get(format!("{}/{}?list-type=2", self.endpoint(), self.bucket))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        xml.split("<Key>").skip(1).filter_map(|s| s.split("</Key>").next()).map(str::to_string).collect()
    }

    /// Stops the server (the bucket's answers stop).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
