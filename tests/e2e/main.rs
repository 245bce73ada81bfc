//! End-to-end tests: the real `affdesk` binary on a fresh SQLite database with demo
//! data, driven in one headless Chromium through ChromeDriver, as a manager and an
//! affiliate use it.
//!
//! Needs `chromium` and `chromium-driver` (Debian); without them the build marks the
//! suite ignored with the reason, except in CI (`CI` set), where it fails. Screenshots go to
//! `target/tmp/screenshots/`, or to `$AFFDESK_SCREENSHOTS` (the README's pictures come
//! from `AFFDESK_SCREENSHOTS=docs/screenshots cargo test --test e2e`).

mod browser;
mod directory;
mod hand_over_and_targets;
mod journeys;
mod pages;
mod replies_and_decisions;
mod server;

use std::path::{Path, PathBuf};

use browser::{Driver, Tools};
use server::Server;

/// The demo manager of affiliate1, and affiliate1 itself (it has premoderated offers
/// it has not asked for yet).
pub const MANAGER: &str = "manager1@affdesk.test";
pub const AFFILIATE: &str = "affiliate1@affdesk.test";

/// Files the journeys attach.
pub struct Files {
    /// A real PNG (a screenshot of the login page).
    pub screenshot: PathBuf,
    /// An empty but valid zip archive.
    pub report: PathBuf,
    /// A text file renamed .png, which must be refused.
    pub fake_png: PathBuf,
}

impl Files {
    fn write(dir: &Path, png: &[u8]) -> Files {
        let files = Files {
            screenshot: dir.join("receipt.png"),
            report: dir.join("report.zip"),
            fake_png: dir.join("notes.png"),
        };
        std::fs::write(&files.screenshot, png).unwrap();
        let mut zip = b"PK\x05\x06".to_vec();
        zip.extend_from_slice(&[0; 18]);
        std::fs::write(&files.report, zip).unwrap();
        std::fs::write(&files.fake_png, "these are my notes, not a picture\n").unwrap();
        files
    }
}

/// Prints the server's log when a journey fails, so the failure can be read in CI.
struct LogOnFailure<'a>(&'a Server);

impl Drop for LogOnFailure<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- affdesk server log ---\n{}", self.0.log());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_browser, ignore = "needs Chromium: apt install chromium chromium-driver")]
async fn journeys_in_chromium() {
    let Some(tools) = Tools::find() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (profile, downloads, fixtures) =
        (dir.path().join("profile"), dir.path().join("downloads"), dir.path().join("files"));
    for d in [&profile, &downloads, &fixtures] {
        std::fs::create_dir_all(d).unwrap();
    }
    let screenshots = std::env::var_os("AFFDESK_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots"));

    let server = Server::start_demo(dir.path()).await;
    let _log = LogOnFailure(&server);
    let driver = Driver::start(&tools).await;
    let mut b = driver.browser(&tools, &server.base, &profile, &downloads).await;

    b.goto("/admin/login").await;
    let files = Files::write(&fixtures, &b.client.screenshot().await.unwrap());

    b.console_problems().await;
    journeys::filter_and_page(&b).await;
    b.assert_clean_console("filtering and paging").await;
    journeys::bulk_close(&b).await;
    b.assert_clean_console("bulk close").await;
    let ticket = journeys::ticket_conversation(&b, &files).await;
    b.assert_clean_console("the conversation").await;
    journeys::access_request(&b).await;
    b.assert_clean_console("the access request").await;
    journeys::statistics_from_thread(&b, ticket).await;
    b.assert_clean_console("statistics").await;
    journeys::wrong_attachment(&b, &server, &files).await;
    // The refused form's page comes with 422, which Chromium notes as a failed load;
    // nothing else may be in the console.
    let problems = b.console_problems().await;
    assert!(problems.iter().all(|p| p.contains("/affiliate/tickets") && p.contains("status of 422")), "{problems:?}");
    pages::keyboard_only(&b).await;
    b.assert_clean_console("keyboard only").await;
    replies_and_decisions::density_and_history(&b).await;
    replies_and_decisions::templates_and_placeholders(&b).await;
    replies_and_decisions::approve_and_send(&b).await;
    replies_and_decisions::reject_revokes_access_granted_by_hand(&b, &server).await;
    replies_and_decisions::collision(&b, &server).await;
    replies_and_decisions::bulk_on_page_three(&b).await;
    replies_and_decisions::keyboard_triage(&b).await;
    replies_and_decisions::note_mode_and_escape(&b).await;
    replies_and_decisions::phone_cards(&b).await;
    replies_and_decisions::live_updates(&b, &server).await;
    replies_and_decisions::form_buttons_line_up(&b).await;
    directory::invite_set_password_log_in(&b, &server).await;
    // The refused fields come back with 422 and the spent link with 410 (failed loads
    // to Chromium); nothing else.
    let problems = b.console_problems().await;
    assert!(problems.iter().all(|p| p.contains("status of 422") || p.contains("status of 410")), "{problems:?}");
    directory::hand_over(&b, &server).await;
    b.assert_clean_console("hand-over").await;
    hand_over_and_targets::hand_over_from_the_thread(&b, &server).await;
    hand_over_and_targets::send_and_wait_then_the_reply(&b).await;
    hand_over_and_targets::side_panel_breach_and_reports(&b).await;

    b.set_javascript(false).await;
    b.goto("/admin/login").await;
    journeys::filter_and_page(&b).await;
    assert!(!b.find("#select-page").await.is_displayed().await.unwrap(), "scripts are really off");
    journeys::bulk_close(&b).await;
    journeys::ticket_conversation(&b, &files).await;
    b.set_javascript(true).await;

    pages::check_main_pages(&b, ticket, &screenshots).await;
    b.client.close().await.unwrap();
}
