//! End-to-end tests: the real `affdesk` binary on a fresh SQLite database with demo
//! data, driven in a headless Chromium through ChromeDriver, as a manager and an
//! affiliate use it. One test per journey, each on a desk and a browser of its own,
//! one at a time (two browsers at once would share the machine's cores with the
//! servers and make the timings of each other's pages).
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

use browser::{Browser, Driver, Tools};
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

/// One journey's world: a fresh demo desk, a browser on it, the files to attach.
/// Fields drop in order: the browser, its driver, the server, the folder.
struct Run {
    b: Browser,
    _driver: Driver,
    server: Server,
    files: Files,
    screenshots: PathBuf,
    _dir: tempfile::TempDir,
}

impl Run {
    /// `None` (the journey is skipped) without Chromium, except in CI.
    async fn start() -> Option<Run> {
        let tools = Tools::find()?;
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
        let driver = Driver::start(&tools).await;
        let b = driver.browser(&tools, &server.base, &profile, &downloads).await;
        b.goto("/admin/login").await;
        let files = Files::write(&fixtures, &b.client.screenshot().await.unwrap());
        b.console_problems().await;
        Some(Run { b, _driver: driver, server, files, screenshots, _dir: dir })
    }

    /// Failed loads answered 422 (a refused form) or 410 (a spent link) are the
    /// journey's own; nothing else may be in the console.
    async fn assert_only_refusals_in_console(&self) {
        let problems = self.b.console_problems().await;
        assert!(problems.iter().all(|p| p.contains("status of 422") || p.contains("status of 410")), "{problems:?}");
    }
}

/// Prints the server's log when a journey fails, so the failure can be read in CI.
impl Drop for Run {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- affdesk server log ---\n{}", self.server.log());
        }
    }
}

/// One journey at a time, whatever the runner's threads. An async mutex: it is
/// held across the journey's awaits, and a failed journey does not poison it.
async fn one_at_a_time() -> tokio::sync::MutexGuard<'static, ()> {
    static ONE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    ONE.lock().await
}

/// A journey: its own desk and browser, skipped with the reason without Chromium.
macro_rules! journey {
    ($name:ident, |$run:ident| $body:block) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        #[cfg_attr(no_browser, ignore = "needs Chromium: apt install chromium chromium-driver")]
        #[allow(unused_mut)]
        async fn $name() {
            let _one = one_at_a_time().await;
            let Some(mut $run) = Run::start().await else { return };
            $body
        }
    };
}

journey!(filter_and_page, |run| {
    journeys::filter_and_page(&run.b).await;
    run.b.assert_clean_console("filtering and paging").await;
});

journey!(bulk_close, |run| {
    journeys::bulk_close(&run.b).await;
    run.b.assert_clean_console("bulk close").await;
});

journey!(a_conversation_and_its_statistics, |run| {
    let ticket = journeys::ticket_conversation(&run.b, &run.files).await;
    run.b.assert_clean_console("the conversation").await;
    journeys::statistics_from_thread(&run.b, ticket).await;
    run.b.assert_clean_console("statistics").await;
});

journey!(an_access_request, |run| {
    journeys::access_request(&run.b).await;
    run.b.assert_clean_console("the access request").await;
});

journey!(a_wrong_attachment, |run| {
    journeys::wrong_attachment(&run.b, &run.server, &run.files).await;
    // The refused form's page comes with 422, which Chromium notes as a failed load.
    let problems = run.b.console_problems().await;
    assert!(problems.iter().all(|p| p.contains("/affiliate/tickets") && p.contains("status of 422")), "{problems:?}");
});

journey!(keyboard_only, |run| {
    pages::keyboard_only(&run.b).await;
    run.b.assert_clean_console("keyboard only").await;
});

journey!(density_and_history, |run| {
    replies_and_decisions::density_and_history(&run.b).await;
    run.assert_only_refusals_in_console().await;
});

journey!(templates_and_placeholders, |run| {
    replies_and_decisions::templates_and_placeholders(&run.b).await;
    run.assert_only_refusals_in_console().await;
});

journey!(approve_and_send, |run| {
    replies_and_decisions::approve_and_send(&run.b).await;
    run.assert_only_refusals_in_console().await;
});

journey!(reject_revokes_access_granted_by_hand, |run| {
    replies_and_decisions::reject_revokes_access_granted_by_hand(&run.b, &run.server).await;
    run.assert_only_refusals_in_console().await;
});

journey!(collision, |run| {
    replies_and_decisions::collision(&run.b, &run.server).await;
    run.assert_only_refusals_in_console().await;
});

journey!(bulk_on_page_three, |run| {
    replies_and_decisions::bulk_on_page_three(&run.b).await;
    run.assert_only_refusals_in_console().await;
});

journey!(keyboard_triage, |run| {
    replies_and_decisions::keyboard_triage(&run.b).await;
    run.assert_only_refusals_in_console().await;
});

journey!(note_mode_and_escape, |run| {
    replies_and_decisions::note_mode_and_escape(&run.b).await;
    run.assert_only_refusals_in_console().await;
});

journey!(phone_cards, |run| {
    replies_and_decisions::phone_cards(&run.b).await;
    run.assert_only_refusals_in_console().await;
});

journey!(live_updates, |run| {
    replies_and_decisions::live_updates(&run.b, &run.server).await;
    run.assert_only_refusals_in_console().await;
});

journey!(form_buttons_line_up, |run| {
    replies_and_decisions::form_buttons_line_up(&run.b).await;
    run.assert_only_refusals_in_console().await;
});

journey!(an_invited_manager_takes_over_a_colleagues_affiliates, |run| {
    directory::invite_set_password_log_in(&run.b, &run.server).await;
    // The refused fields come back with 422 and the spent link with 410.
    run.assert_only_refusals_in_console().await;
    directory::hand_over(&run.b, &run.server).await;
    run.b.assert_clean_console("hand-over").await;
});

journey!(hand_over_from_the_thread, |run| {
    hand_over_and_targets::hand_over_from_the_thread(&run.b, &run.server).await;
    run.assert_only_refusals_in_console().await;
});

journey!(send_and_wait_then_the_reply, |run| {
    hand_over_and_targets::send_and_wait_then_the_reply(&run.b).await;
    run.assert_only_refusals_in_console().await;
});

journey!(side_panel_breach_and_reports, |run| {
    hand_over_and_targets::side_panel_breach_and_reports(&run.b).await;
    run.assert_only_refusals_in_console().await;
});

journey!(without_javascript, |run| {
    run.b.set_javascript(false).await;
    run.b.goto("/admin/login").await;
    journeys::filter_and_page(&run.b).await;
    assert!(!run.b.find("#select-page").await.is_displayed().await.unwrap(), "scripts are really off");
    journeys::bulk_close(&run.b).await;
    journeys::ticket_conversation(&run.b, &run.files).await;
});

journey!(every_main_page_on_a_laptop_and_a_phone, |run| {
    let ticket = journeys::ticket_conversation(&run.b, &run.files).await;
    pages::check_main_pages(&run.b, ticket, &run.screenshots).await;
});
