//! SIGTERM, as a service manager or an orchestrator sends it: the real binary says
//! it is not ready any more (so the balancer moves away) while it still serves,
//! ends its live streams (their browsers reconnect elsewhere), then stops taking
//! connections and exits cleanly.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::Client;

#[actix_web::test]
async fn sigterm_drains_then_stops() {
    let dir = tempfile::tempdir().unwrap();
    let port = crate::smtp::free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = Command::new(env!("CARGO_BIN_EXE_affdesk"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["serve", "--demo", "--drain", "2", "--bind", &format!("127.0.0.1:{port}")])
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let http = reqwest::Client::new();
    let started = Instant::now();
    while !http.get(format!("{base}/readyz")).send().await.is_ok_and(|r| r.status() == 200) {
        assert!(started.elapsed() < Duration::from_secs(60), "the server never became ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut admin = Client {
        http: reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        base: base.clone(),
        csrf: String::new(),
    };
    admin.login("/admin/login", "admin@affdesk.test", affdesk::seed::DEMO_PASSWORD).await;
    let mut stream = admin.http.get(format!("{base}/admin/events")).send().await.unwrap();
    assert_eq!(stream.status(), 200);
    stream.chunk().await.unwrap();

    let killed = Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap();
    assert!(killed.success());
    // Draining: not ready, still serving, live streams ended.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(http.get(format!("{base}/readyz")).send().await.unwrap().status(), 503);
    assert_eq!(http.get(format!("{base}/healthz")).send().await.unwrap().status(), 200, "still serving");
    let ended =
        tokio::time::timeout(Duration::from_secs(2), async { while let Ok(Some(_)) = stream.chunk().await {} }).await;
    assert!(ended.is_ok(), "the live stream ended so the browser reconnects elsewhere");
    // Then it stops taking connections and exits cleanly.
    let started = Instant::now();
    let status = loop {
        if let Some(status) = server.try_wait().unwrap() {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(15), "the server did not exit");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(status.success(), "{status:?}");
    assert!(http.get(format!("{base}/healthz")).send().await.is_err(), "no longer listening");
}
