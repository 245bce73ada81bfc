//! One headless Chromium, driven through ChromeDriver, with the few verbs the
//! journeys need: go, fill, click, wait for what a person would see.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

/// How long a journey waits for something to appear before it fails.
const PATIENCE: Duration = Duration::from_secs(15);

/// The flags every Chromium start gets: headless, no sandbox (CI runs as root) and
/// nothing that reaches for the network beyond the server under test.
const CHROMIUM_FLAGS: [&str; 8] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
];

pub struct Tools {
    chromium: PathBuf,
    chromedriver: PathBuf,
}

impl Tools {
    /// Debian's Chromium and ChromeDriver (or `CHROMIUM` / `CHROMEDRIVER`). `None` skips
    /// the browser suite with a message, except in CI, where a missing browser fails it.
    pub fn find() -> Option<Tools> {
        let chromium = std::env::var_os("CHROMIUM").map(PathBuf::from).unwrap_or("/usr/bin/chromium".into());
        let chromedriver =
            std::env::var_os("CHROMEDRIVER").map(PathBuf::from).unwrap_or("/usr/bin/chromedriver".into());
        if chromium.exists() && chromedriver.exists() {
            return Some(Tools { chromium, chromedriver });
        }
        let missing = format!("{} or {} is missing", chromium.display(), chromedriver.display());
        if std::env::var_os("CI").is_some() {
            panic!("{missing}: CI must install chromium and chromium-driver so the browser tests run");
        }
        eprintln!("{missing}: skipping the browser tests (apt install chromium chromium-driver)");
        None
    }
}

/// A running ChromeDriver in a process group of its own; the whole group (the
/// driver and every Chromium process it started) is killed when dropped, so a
/// failed journey leaves no browser behind.
pub struct Driver {
    url: String,
    process: Child,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let group = format!("-{}", self.process.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.process.wait();
    }
}

impl Driver {
    pub async fn start(tools: &Tools) -> Driver {
        let port = crate::server::free_port();
        let process = Command::new(&tools.chromedriver)
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let url = format!("http://127.0.0.1:{port}");
        let driver = Driver { url, process };
        crate::server::wait_until_up(&format!("{}/status", driver.url), "chromedriver").await;
        driver
    }

    /// Starts the one browser all journeys share, with a fresh profile and a download folder.
    pub async fn browser(&self, tools: &Tools, base: &str, profile: &Path, downloads: &Path) -> Browser {
        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|s| s.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        args.push("--window-size=1366,768".into());
        let caps = json!({
            "browserName": "chrome",
            // The console, read after each journey: it must stay free of errors.
            "goog:loggingPrefs": { "browser": "ALL" },
            // A confirm() stays open until the journey answers it.
            "unhandledPromptBehavior": "ignore",
            "goog:chromeOptions": {
                "binary": tools.chromium,
                "args": args,
                "prefs": {
                    "download.default_directory": downloads,
                    "download.prompt_for_download": false,
                },
            },
        });
        let Value::Object(caps) = caps else { unreachable!() };
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&self.url)
            .await
            .expect("open a Chromium session through chromedriver");
        Browser { client, base: base.to_string(), downloads: downloads.to_path_buf(), javascript: true }
    }
}

pub struct Browser {
    pub client: Client,
    base: String,
    pub downloads: PathBuf,
    javascript: bool,
}

/// ChromeDriver's passage to the DevTools protocol, for what WebDriver cannot say
/// (turning JavaScript off for the no-script journeys).
#[derive(Debug)]
struct DevTools {
    cmd: &'static str,
    params: Value,
}

impl WebDriverCompatibleCommand for DevTools {
    fn endpoint(&self, base_url: &url::Url, session_id: Option<&str>) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/goog/cdp/execute", session_id.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(json!({ "cmd": self.cmd, "params": self.params }).to_string()))
    }
}

/// ChromeDriver's console log of the page (`browser` entries since the last read).
#[derive(Debug)]
struct ConsoleLog;

impl WebDriverCompatibleCommand for ConsoleLog {
    fn endpoint(&self, base_url: &url::Url, session_id: Option<&str>) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/se/log", session_id.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(json!({ "type": "browser" }).to_string()))
    }
}

impl Browser {
    /// The console's errors and warnings since the last call (reading empties it).
    pub async fn console_problems(&self) -> Vec<String> {
        let entries = self.client.issue_cmd(ConsoleLog).await.expect("read the console");
        let Value::Array(entries) = entries else { return Vec::new() };
        entries
            .into_iter()
            .filter(|e| matches!(e["level"].as_str(), Some("SEVERE" | "WARNING")))
            .map(|e| format!("{}: {}", e["level"].as_str().unwrap_or(""), e["message"].as_str().unwrap_or("")))
            .collect()
    }

    /// Fails when anything was logged to the console as an error or a warning.
    pub async fn assert_clean_console(&self, journey: &str) {
        let problems = self.console_problems().await;
        assert!(problems.is_empty(), "the console after {journey}:\n{}", problems.join("\n"));
    }

    pub fn javascript(&self) -> bool {
        self.javascript
    }

    /// Turns page scripts (htmx, app.js) on or off for the pages loaded from now on.
    pub async fn set_javascript(&mut self, enabled: bool) {
        self.client
            .issue_cmd(DevTools { cmd: "Emulation.setScriptExecutionDisabled", params: json!({ "value": !enabled }) })
            .await
            .expect("switch JavaScript");
        self.javascript = enabled;
    }

    pub async fn goto(&self, path: &str) {
        self.client.goto(&format!("{}{path}", self.base)).await.unwrap_or_else(|e| panic!("open {path}: {e}"));
    }

    /// The address bar without the host: path and query.
    pub async fn location(&self) -> String {
        let url = self.client.current_url().await.expect("current url");
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        }
    }

    pub async fn find(&self, css: &str) -> Element {
        self.wait_for(css).await
    }

    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        self.client.find_all(Locator::Css(css)).await.unwrap_or_else(|e| panic!("find {css}: {e}"))
    }

    /// The element's text, read in one script call: an htmx swap between finding the
    /// element and reading it cannot leave the read holding a replaced element.
    pub async fn text(&self, css: &str) -> String {
        self.read(css, "e.innerText").await
    }

    pub async fn value(&self, css: &str) -> String {
        self.read(css, "e.value").await
    }

    /// Waits for an element matching `css`, then evaluates `expr` on it (as `e`).
    async fn read(&self, css: &str, expr: &str) -> String {
        let script = format!("const e = document.querySelector(arguments[0]); return e ? String({expr} ?? '') : null;");
        let started = Instant::now();
        loop {
            match self.client.execute(&script, vec![json!(css)]).await {
                Ok(Value::String(s)) => return s,
                Ok(_) => {}
                Err(e) => panic!("read {css}: {e}"),
            }
            self.give_up_after(started, &format!("an element {css}")).await;
        }
    }

    /// Does `act` on the element matching `css`, finding it again when htmx replaced
    /// it between the finding and the acting.
    async fn on_element<F, Fut>(&self, css: &str, what: &str, act: F)
    where
        F: Fn(Element) -> Fut,
        Fut: std::future::Future<Output = Result<(), fantoccini::error::CmdError>>,
    {
        let started = Instant::now();
        loop {
            let element = self.wait_for(css).await;
            match act(element).await {
                Ok(()) => return,
                Err(e) if is_stale(&e) => self.give_up_after(started, &format!("{css} to stay on the page")).await,
                Err(e) => panic!("{what} {css}: {e}"),
            }
        }
    }

    pub async fn click(&self, css: &str) {
        self.on_element(css, "click", |e| async move { e.click().await.map(|_| ()) }).await;
    }

    /// Replaces a text field's value the way a person would: clear it, type.
    pub async fn fill(&self, css: &str, value: &str) {
        self.on_element(css, "type into", |e| async move {
            e.clear().await?;
            e.send_keys(value).await
        })
        .await;
    }

    pub async fn select(&self, css: &str, value: &str) {
        self.on_element(css, &format!("choose {value} in"), |e| async move { e.select_by_value(value).await }).await;
    }

    pub async fn attach(&self, css: &str, file: &Path) {
        let path = file.display().to_string();
        self.on_element(css, "attach a file to", |e| {
            let path = path.clone();
            async move { e.send_keys(&path).await }
        })
        .await;
    }

    /// Waits until an element matching `css` is on the page.
    pub async fn wait_for(&self, css: &str) -> Element {
        let started = Instant::now();
        loop {
            if let Ok(e) = self.client.find(Locator::Css(css)).await {
                return e;
            }
            self.give_up_after(started, &format!("an element {css}")).await;
        }
    }

    /// Waits until the element's text contains `needle`.
    pub async fn wait_text(&self, css: &str, needle: &str) -> String {
        let started = Instant::now();
        loop {
            if let Ok(e) = self.client.find(Locator::Css(css)).await
                && let Ok(t) = e.text().await
                && t.contains(needle)
            {
                return t;
            }
            self.give_up_after(started, &format!("{needle:?} in {css}")).await;
        }
    }

    /// Waits until the address (path and query) satisfies `ok`.
    pub async fn wait_location(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let started = Instant::now();
        loop {
            let here = self.location().await;
            if ok(&here) {
                return here;
            }
            self.give_up_after(started, &format!("the address to {what} (it is {here})")).await;
        }
    }

    /// Waits until no htmx request is in flight (htmx marks the requesting element).
    pub async fn wait_idle(&self) {
        if !self.javascript() {
            return;
        }
        let started = Instant::now();
        while self.run_script("return document.querySelector('.htmx-request') !== null;").await == json!(true) {
            self.give_up_after(started, "htmx to finish its requests").await;
        }
    }

    async fn give_up_after(&self, started: Instant, what: &str) {
        if started.elapsed() > PATIENCE {
            let here = self.location().await;
            let body = self.client.find(Locator::Css("body")).await.ok();
            let text = match body {
                Some(b) => b.text().await.unwrap_or_default(),
                None => String::new(),
            };
            panic!("waited {PATIENCE:?} for {what} on {here}; the page says:\n{text}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    pub async fn log_in(&self, panel: &str, email: &str) {
        self.client.delete_all_cookies().await.expect("forget the last login");
        self.goto(&format!("/{panel}/login")).await;
        self.fill("#email", email).await;
        self.fill("#password", crate::server::PASSWORD).await;
        self.click("button[type=submit]").await;
        self.wait_location("leave the login page", |l| !l.contains("/login")).await;
    }

    /// Leaves a mark in the page's window; `still_same_page` tells whether it survived,
    /// i.e. whether an action updated the page in place instead of loading a new one.
    pub async fn mark_page(&self) {
        self.client.execute("window.__e2eMark = true; return true;", vec![]).await.expect("mark the page");
    }

    pub async fn still_same_page(&self) -> bool {
        self.client.execute("return window.__e2eMark === true;", vec![]).await.expect("read the mark") == json!(true)
    }

    pub async fn screenshot(&self, dir: &Path, name: &str) {
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::create_dir_all(dir).expect("screenshot folder");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("save screenshot");
    }

    pub async fn resize(&self, width: u32, height: u32) {
        self.client.set_window_size(width, height).await.expect("resize the window");
    }

    /// True when the page itself is wider than the window (a table may scroll in its box).
    pub async fn scrolls_sideways(&self) -> bool {
        let v = self
            .client
            .execute("return document.documentElement.scrollWidth > window.innerWidth;", vec![])
            .await
            .expect("measure the page");
        v == json!(true)
    }

    pub async fn run_script(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.unwrap_or_else(|e| panic!("run script: {e}"))
    }

    pub async fn run_async_script(&self, script: &str) -> Value {
        self.client.execute_async(script, vec![]).await.unwrap_or_else(|e| panic!("run script: {e}"))
    }
}

fn is_stale(e: &fantoccini::error::CmdError) -> bool {
    matches!(e, fantoccini::error::CmdError::Standard(w) if w.error == fantoccini::error::ErrorStatus::StaleElementReference)
}
