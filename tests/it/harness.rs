//! Starts affdesk on a fresh database (SQLite in a temp folder, or a new PostgreSQL
//! database when `TEST_POSTGRES_URL` is set) and hands out HTTP clients.

use std::path::PathBuf;

use affdesk::config::Config;
use affdesk::db::{AnyConnection, DbPool, DbUrl, PooledConn};
use diesel::prelude::*;
use reqwest::redirect::Policy;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs a test body once on SQLite and once on PostgreSQL (`<name>::sqlite`, `<name>::postgres`).
#[macro_export]
macro_rules! db_test {
    ($name:ident, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[actix_web::test]
            async fn sqlite() {
                let $app = $crate::harness::TestApp::start($crate::harness::Backend::Sqlite).await;
                $body
            }
            #[actix_web::test]
            #[cfg_attr(no_postgres, ignore = "needs PostgreSQL: set TEST_POSTGRES_URL")]
            async fn postgres() {
                let Some($app) = $crate::harness::TestApp::start_postgres().await else { return };
                $body
            }
        }
    };
    // A test that also needs an SMTP server (aiosmtpd).
    ($name:ident, needs_smtp, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[actix_web::test]
            #[cfg_attr(no_smtp, ignore = "needs an SMTP server: apt install python3-aiosmtpd")]
            async fn sqlite() {
                let $app = $crate::harness::TestApp::start($crate::harness::Backend::Sqlite).await;
                $body
            }
            #[actix_web::test]
            #[cfg_attr(no_smtp, ignore = "needs an SMTP server: apt install python3-aiosmtpd")]
            #[cfg_attr(all(no_postgres, not(no_smtp)), ignore = "needs PostgreSQL: set TEST_POSTGRES_URL")]
            async fn postgres() {
                let Some($app) = $crate::harness::TestApp::start_postgres().await else { return };
                $body
            }
        }
    };
}

pub struct TestApp {
    pub base: String,
    pub pool: DbPool,
    pub backend: Backend,
    pub data_dir: PathBuf,
    pub database: DbUrl,
    handle: actix_web::dev::ServerHandle,
    _dir: tempfile::TempDir,
    pg: Option<PgTestDb>,
}

/// Another instance of the app on the same database (behind the same imagined
/// load balancer), with a data folder of its own.
pub struct Instance {
    pub base: String,
    handle: actix_web::dev::ServerHandle,
    _dir: tempfile::TempDir,
}

impl Drop for Instance {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

impl Instance {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A client of this instance (cookies work on every instance: the sessions are in the database).
    pub fn client(&self) -> Client {
        let http = reqwest::Client::builder().cookie_store(true).redirect(Policy::none()).build().unwrap();
        Client { http, base: self.base.clone(), csrf: String::new() }
    }
}

struct PgTestDb {
    admin_url: String,
    name: String,
}

impl Drop for PgTestDb {
    fn drop(&mut self) {
        if let Ok(mut conn) = diesel::PgConnection::establish(&self.admin_url) {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)).execute(&mut conn);
        }
    }
}

impl TestApp {
    pub async fn start(backend: Backend) -> TestApp {
        match backend {
            Backend::Sqlite => TestApp::start_with(backend, |_| {}).await,
            Backend::Postgres => TestApp::start_postgres().await.expect("TEST_POSTGRES_URL"),
        }
    }

    /// `None` (the test is skipped) when `TEST_POSTGRES_URL` is unset, except in CI.
    pub async fn start_postgres() -> Option<TestApp> {
        if std::env::var("TEST_POSTGRES_URL").is_err() {
            if std::env::var("CI").is_ok() {
                panic!("CI must set TEST_POSTGRES_URL so the PostgreSQL tests run");
            }
            eprintln!("TEST_POSTGRES_URL is not set: skipping the PostgreSQL run of this test");
            return None;
        }
        Some(TestApp::start_with(Backend::Postgres, |_| {}).await)
    }

    pub async fn start_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> TestApp {
        // Before libpq first loads OpenSSL: no exit handler that could free it under
        // threads still running when the test process ends (see db::pool).
        openssl_sys::init();
        let dir = tempfile::tempdir().expect("temp dir");
        let (url, pg) = match backend {
            Backend::Sqlite => (DbUrl::Sqlite(dir.path().join("affdesk.db")), None),
            Backend::Postgres => {
                let admin_url = std::env::var("TEST_POSTGRES_URL").expect("TEST_POSTGRES_URL");
                let name = format!("affdesk_test_{}", affdesk::domain::random_token(6));
                let mut conn = diesel::PgConnection::establish(&admin_url).expect("connect to TEST_POSTGRES_URL");
                diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut conn).expect("create test database");
                let mut url = url::Url::parse(&admin_url).expect("TEST_POSTGRES_URL is a URL");
                url.set_path(&format!("/{name}"));
                (DbUrl::Postgres(url.to_string()), Some(PgTestDb { admin_url, name }))
            }
        };
        let mut config = Config::for_tests(url, dir.path().to_path_buf());
        tweak(&mut config);
        let data_dir = config.data_dir.clone();
        let database = config.database.clone();
        let app = affdesk::Application::build(config).expect("app starts");
        let port = app.port();
        let pool = app.pool().clone();
        let server = app.into_server();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        TestApp { base: format!("http://127.0.0.1:{port}"), pool, backend, data_dir, database, handle, _dir: dir, pg }
    }

    /// Starts another instance on this app's database.
    pub async fn another_instance(&self, tweak: impl FnOnce(&mut Config)) -> Instance {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config::for_tests(self.database.clone(), dir.path().to_path_buf());
        tweak(&mut config);
        let app = affdesk::Application::build(config).expect("the second instance starts");
        let port = app.port();
        let server = app.into_server();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        Instance { base: format!("http://127.0.0.1:{port}"), handle, _dir: dir }
    }

    /// Drops the PostgreSQL database under the running app (its connections are cut).
    pub fn pg_drop_database(&self) {
        let pg = self.pg.as_ref().expect("a PostgreSQL test");
        let mut conn = diesel::PgConnection::establish(&pg.admin_url).unwrap();
        diesel::sql_query(format!("DROP DATABASE {} WITH (FORCE)", pg.name)).execute(&mut conn).unwrap();
    }

    /// Creates it again (empty, with the schema), as when a server comes back.
    pub fn pg_create_database(&self) {
        let pg = self.pg.as_ref().expect("a PostgreSQL test");
        let mut conn = diesel::PgConnection::establish(&pg.admin_url).unwrap();
        diesel::sql_query(format!("CREATE DATABASE {}", pg.name)).execute(&mut conn).unwrap();
        // The pool's connections died with the old database: the ones handed out
        // are found dead and dropped until a fresh one does the migrations.
        for _ in 0..64 {
            let mut conn = self.pool.get().expect("the pool reconnects");
            match affdesk::db::run_migrations(&mut conn) {
                Ok(_) => return,
                Err(_) => assert!(affdesk::db::discard_if_dead(&mut conn), "migrations failed on a live connection"),
            }
        }
        panic!("no live connection after the database came back");
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn conn(&self) -> PooledConn {
        self.pool.get().expect("database connection")
    }

    /// Seeds the standard demo data (200 tickets).
    pub fn seed_demo(&self) {
        let mut conn = self.conn();
        affdesk::seed::seed(&mut conn, &Default::default(), &mut |_| {}).expect("demo seed");
    }

    /// A browser-like client: keeps cookies, does not follow redirects (tests look at them).
    pub fn client(&self) -> Client {
        let http = reqwest::Client::builder().cookie_store(true).redirect(Policy::none()).build().unwrap();
        Client { http, base: self.base.clone(), csrf: String::new() }
    }

    pub async fn login_admin(&self, email: &str) -> Client {
        let mut c = self.client();
        c.login("/admin/login", email, affdesk::seed::DEMO_PASSWORD).await;
        c
    }

    pub async fn login_affiliate(&self, email: &str) -> Client {
        let mut c = self.client();
        c.login("/affiliate/login", email, affdesk::seed::DEMO_PASSWORD).await;
        c
    }

    pub fn count(&self, sql_table: &str) -> i64 {
        #[derive(QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn = self.conn();
        diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {sql_table}"))
            .get_result::<N>(&mut *conn as &mut AnyConnection)
            .unwrap()
            .n
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Stop accepting and drop the pool before the PostgreSQL database is dropped.
        // The stop command is sent at once; the returned future only reports completion.
        drop(self.handle.stop(false));
        let _ = self.pg.take();
    }
}

pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    /// The CSRF token of the last page read.
    pub csrf: String,
}

pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    pub fn contains(&self, s: &str) -> bool {
        self.body.contains(s)
    }
}

impl Client {
    pub async fn get(&mut self, path: &str) -> Page {
        let resp = self.http.get(format!("{}{}", self.base, path)).send().await.expect("GET");
        self.read(resp).await
    }

    /// Posts a form, adding the CSRF token of the last page read.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let mut form: Vec<(String, String)> = fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        form.push(("csrf_token".into(), self.csrf.clone()));
        self.post_raw(path, &form).await
    }

    pub async fn post_raw(&mut self, path: &str, form: &[(String, String)]) -> Page {
        let body = serde_html_form_encode(form);
        let resp = self
            .http
            .post(format!("{}{}", self.base, path))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("POST");
        self.read(resp).await
    }

    /// A multipart form with files `(file name, content)` in the `files` field, and
    /// the CSRF token first, as a browser sends the hidden field.
    pub async fn post_multipart(&mut self, path: &str, fields: &[(&str, &str)], files: &[(&str, Vec<u8>)]) -> Page {
        let mut form = reqwest::multipart::Form::new().text("csrf_token", self.csrf.clone());
        for (k, v) in fields {
            form = form.text(k.to_string(), v.to_string());
        }
        for (name, bytes) in files {
            form = form.part("files", reqwest::multipart::Part::bytes(bytes.clone()).file_name(name.to_string()));
        }
        let resp =
            self.http.post(format!("{}{}", self.base, path)).multipart(form).send().await.expect("POST multipart");
        self.read(resp).await
    }

    /// A multipart form with one data file in the `file` field (an import).
    pub async fn post_file(&mut self, path: &str, fields: &[(&str, &str)], file_name: &str, bytes: Vec<u8>) -> Page {
        let mut form = reqwest::multipart::Form::new().text("csrf_token", self.csrf.clone());
        for (k, v) in fields {
            form = form.text(k.to_string(), v.to_string());
        }
        form = form.part("file", reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_string()));
        let resp = self.http.post(format!("{}{}", self.base, path)).multipart(form).send().await.expect("POST file");
        self.read(resp).await
    }

    /// A multipart form as htmx sends it (`hx-encoding="multipart/form-data"`).
    pub async fn htmx_multipart(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let mut form = reqwest::multipart::Form::new().text("csrf_token", self.csrf.clone());
        for (k, v) in fields {
            form = form.text(k.to_string(), v.to_string());
        }
        let resp = self
            .http
            .post(format!("{}{}", self.base, path))
            .header("HX-Request", "true")
            .header("X-CSRF-Token", self.csrf.clone())
            .multipart(form)
            .send()
            .await
            .expect("POST multipart");
        self.read(resp).await
    }

    /// A GET with extra headers (htmx's history restore, for one).
    pub async fn get_with(&mut self, path: &str, headers: &[(&str, &str)]) -> Page {
        let mut req = self.http.get(format!("{}{}", self.base, path));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.send().await.expect("GET");
        self.read(resp).await
    }

    /// A request as htmx sends it (with the CSRF header for POSTs).
    pub async fn htmx_get(&mut self, path: &str) -> Page {
        let resp =
            self.http.get(format!("{}{}", self.base, path)).header("HX-Request", "true").send().await.expect("GET");
        self.read(resp).await
    }

    pub async fn htmx_post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let form: Vec<(String, String)> = fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let resp = self
            .http
            .post(format!("{}{}", self.base, path))
            .header("HX-Request", "true")
            .header("X-CSRF-Token", self.csrf.clone())
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(serde_html_form_encode(&form))
            .send()
            .await
            .expect("POST");
        self.read(resp).await
    }

    async fn read(&mut self, resp: reqwest::Response) -> Page {
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let location = headers.get("location").map(|v| v.to_str().unwrap().to_string());
        let body = resp.text().await.unwrap_or_default();
        if let Some(token) = find_csrf(&body) {
            self.csrf = token;
        }
        Page { status, location, headers, body }
    }

    pub async fn login(&mut self, path: &str, email: &str, password: &str) {
        let page = self.get(path).await;
        assert_eq!(page.status, 200, "login page");
        let page = self.post(path, &[("email", email), ("password", password)]).await;
        assert_eq!(page.status, 303, "login of {email} should succeed: {}", page.body);
    }
}

fn find_csrf(body: &str) -> Option<String> {
    let marker = "name=\"csrf_token\" value=\"";
    let start = body.find(marker)? + marker.len();
    let end = body[start..].find('"')?;
    Some(body[start..start + end].to_string())
}

pub fn serde_html_form_encode(form: &[(String, String)]) -> String {
    url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish()
}
