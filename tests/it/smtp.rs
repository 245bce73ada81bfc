//! A real SMTP server for the tests: `smtp_sink.py` on Debian's python3-aiosmtpd
//! (`.ci/run` installs it), one process per test, stopped when dropped.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub struct SmtpSink {
    child: Child,
    pub port: u16,
    folder: tempfile::TempDir,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port nobody listens on (yet), never the same twice in this process.
/// The kernel may hand a port out again once its probe is closed, and a test that
/// keeps its port dark on purpose (SMTP down) received another test's emails when
/// that test's sink was started on the same port.
pub fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<std::collections::BTreeSet<u16>> =
        std::sync::Mutex::new(std::collections::BTreeSet::new());
    loop {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        if GIVEN.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(port) {
            return port;
        }
    }
}

/// Whether Debian's aiosmtpd is there. Without it the email tests are skipped with
/// a message, except in CI (`.ci/run` installs it), where they fail.
pub fn available() -> bool {
    let found = std::process::Command::new("/usr/bin/python3")
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(std::env::var_os("CI").is_none(), "CI must install python3-aiosmtpd so the email tests run");
        eprintln!("python3-aiosmtpd is missing (apt-get install python3-aiosmtpd): skipping the email test");
    }
    found
}

impl SmtpSink {
    /// A server on a free port; `None` (the test is skipped) without aiosmtpd, except in CI.
    pub fn start() -> Option<SmtpSink> {
        available().then(|| SmtpSink::start_on(free_port()))
    }

    /// Starts the server on `port` and waits until it accepts.
    pub fn start_on(port: u16) -> SmtpSink {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/it/smtp_sink.py");
        let folder = tempfile::tempdir().unwrap();
        let mut child = Command::new("/usr/bin/python3")
            .arg(&script)
            .args(["127.0.0.1", &port.to_string()])
            .arg(folder.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the SMTP server (/usr/bin/python3 with python3-aiosmtpd)");
        let mut ready = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut ready).unwrap();
        assert_eq!(ready.trim(), "ready", "the SMTP server did not start (is python3-aiosmtpd installed?)");
        SmtpSink { child, port, folder }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far, in the order received.
    pub fn messages(&self) -> Vec<Value> {
        let mut names: Vec<_> = std::fs::read_dir(self.folder.path())
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        names.sort();
        names.iter().map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()).collect()
    }

    /// Waits until at least `n` messages arrived (at most 20 s).
    pub async fn wait_for(&self, n: usize) -> Vec<Value> {
        let started = Instant::now();
        loop {
            let got = self.messages();
            if got.len() >= n {
                return got;
            }
            assert!(started.elapsed() < Duration::from_secs(20), "{} of {n} emails arrived: {got:#?}", got.len());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
