//! Logins of both panels, and the extractors that give a handler its logged-in
//! manager or affiliate (or send the browser to the login page).

use std::future::Future;
use std::pin::Pin;

use actix_session::{Session, SessionExt};
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse, Responder, dev::Payload, web};
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;

use super::session_store::{AFFILIATE_ROW, USER_ROW};
use super::{AppState, Flash, FlashKind, PageCtx, csrf, redirect, safe_next, set_flash, take_flash};
use crate::domain::account::Account;
use crate::domain::accounts::AccountKind;
use crate::domain::affiliates::Affiliate;
use crate::domain::logins::{self, LoginOutcome};
use crate::domain::users::User;
use crate::error::{AppError, AppResult};

pub(crate) const PRINCIPAL_KEY: &str = "principal";

fn principal(session: &Session) -> Option<Account> {
    let value: String = session.get(PRINCIPAL_KEY).ok().flatten()?;
    Account::from_key(&value)
}

fn next_of(req: &HttpRequest) -> String {
    if req.method() == actix_web::http::Method::GET && !super::is_htmx(req) {
        req.uri().path_and_query().map(|p| p.to_string()).unwrap_or_default()
    } else {
        String::new()
    }
}

/// The account a session belongs to: usually read with the session itself (see
/// `session_store`), looked up for sessions written before that.
async fn account<T>(
    req: &HttpRequest,
    session: &Session,
    key: &str,
    id: i64,
    id_of: fn(&T) -> i64,
    find: fn(&mut crate::db::AnyConnection, i64) -> affdesk_core::error::DomainResult<Option<T>>,
) -> AppResult<Option<T>>
where
    T: serde::de::DeserializeOwned + Send + 'static,
{
    if let Some(row) = session.get::<T>(key).ok().flatten().filter(|row| id_of(row) == id) {
        return Ok(Some(row));
    }
    let state = req.app_data::<web::Data<AppState>>().ok_or_else(|| AppError::internal("no app state"))?;
    state.db(move |conn| Ok(find(conn, id)?)).await
}

/// A logged-in admin or manager. Loaded from the database on every request, so a
/// disabled account loses access at once.
pub struct StaffSession {
    pub user: User,
    pub session: Session,
}

impl StaffSession {
    pub fn actor(&self) -> crate::domain::Actor {
        self.user.actor(crate::domain::Via::Panel)
    }

    pub fn page(&self, nav: &'static str) -> PageCtx {
        PageCtx {
            panel: AccountKind::User,
            user_name: self.user.name.clone(),
            user_detail: if self.user.is_admin() { "Admin".into() } else { "Affiliate manager".into() },
            csrf: csrf::token(&self.session),
            flash: take_flash(&self.session),
            nav,
            is_admin: self.user.is_admin(),
            live: None,
        }
    }
}

impl FromRequest for StaffSession {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let session = req.get_session();
            let login = || AppError::LoginRequired { login_path: "/admin/login", next: next_of(&req) };
            let Some(Account::User(id)) = principal(&session) else { return Err(login()) };
            match account(&req, &session, USER_ROW, id, |u: &User| u.id, User::find).await? {
                Some(user) if !user.disabled => Ok(StaffSession { user, session }),
                _ => {
                    session.purge();
                    Err(login())
                }
            }
        })
    }
}

/// A logged-in affiliate; a banned affiliate loses access at once.
pub struct AffiliateSession {
    pub affiliate: Affiliate,
    pub session: Session,
}

impl AffiliateSession {
    pub fn actor(&self) -> crate::domain::Actor {
        self.affiliate.actor(crate::domain::Via::Panel)
    }

    pub fn page(&self, nav: &'static str) -> PageCtx {
        PageCtx {
            panel: AccountKind::Affiliate,
            user_name: self.affiliate.name.clone(),
            user_detail: format!("Affiliate #{}", self.affiliate.id),
            csrf: csrf::token(&self.session),
            flash: take_flash(&self.session),
            nav,
            is_admin: false,
            live: None,
        }
    }
}

impl FromRequest for AffiliateSession {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let session = req.get_session();
            let login = || AppError::LoginRequired { login_path: "/affiliate/login", next: next_of(&req) };
            let Some(Account::Affiliate(id)) = principal(&session) else { return Err(login()) };
            match account(&req, &session, AFFILIATE_ROW, id, |a: &Affiliate| a.id, Affiliate::find).await? {
                Some(affiliate) if affiliate.may_log_in() => Ok(AffiliateSession { affiliate, session }),
                _ => {
                    session.purge();
                    Err(login())
                }
            }
        })
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
struct LoginPage {
    panel_title: &'static str,
    action: &'static str,
    csrf: String,
    email: String,
    next: String,
    error: Option<String>,
    flash: Option<Flash>,
    /// The account is locked: offer its owner the emailed unlock link.
    offer_unlock: bool,
    /// An unlock link's token, carried by the form.
    unlock: String,
}

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    logged_out: Option<String>,
    /// The token of an unlock link.
    unlock: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
    #[serde(default)]
    unlock: String,
}

fn login_page(panel: AccountKind, session: &Session, email: String, next: String, error: Option<String>) -> LoginPage {
    let (panel_title, action) = match panel {
        AccountKind::User => ("Admin panel", "/admin/login"),
        AccountKind::Affiliate => ("Affiliate panel", "/affiliate/login"),
    };
    LoginPage {
        panel_title,
        action,
        csrf: csrf::token(session),
        email,
        next,
        error,
        flash: take_flash(session),
        offer_unlock: false,
        unlock: String::new(),
    }
}

const WRONG_LOGIN: &str = "Wrong email or password.";

pub async fn admin_login_form(session: Session, query: web::Query<LoginQuery>) -> impl Responder {
    login_form(AccountKind::User, &session, query.into_inner())
}

pub async fn affiliate_login_form(session: Session, query: web::Query<LoginQuery>) -> impl Responder {
    login_form(AccountKind::Affiliate, &session, query.into_inner())
}

fn login_form(panel: AccountKind, session: &Session, query: LoginQuery) -> LoginPage {
    if query.logged_out.is_some() {
        set_flash(session, FlashKind::Info, "You have been logged out.");
    }
    let mut page = login_page(panel, session, String::new(), query.next.unwrap_or_default(), None);
    if let Some(token) = query.unlock.filter(|t| !t.trim().is_empty() && t.len() <= 200) {
        page.unlock = token;
        page.flash = Some(Flash {
            kind: FlashKind::Info,
            text: "Log in with your email and password: this link lets you in although the account is locked.".into(),
        });
    }
    page
}

pub async fn admin_login(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    form: web::Form<LoginForm>,
) -> AppResult<HttpResponse> {
    log_in(AccountKind::User, &req, &state, &session, form.into_inner()).await
}

pub async fn affiliate_login(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    form: web::Form<LoginForm>,
) -> AppResult<HttpResponse> {
    log_in(AccountKind::Affiliate, &req, &state, &session, form.into_inner()).await
}

/// Checks a login, unless the account or the client address has failed too often
/// lately (then 429 and a `Retry-After`, without looking at the password at all).
async fn log_in(
    panel: AccountKind,
    req: &HttpRequest,
    state: &AppState,
    session: &Session,
    form: LoginForm,
) -> AppResult<HttpResponse> {
    let LoginForm { email, password, next, unlock } = form;
    let address = crate::http::client_address(req, &state.config.trusted_proxies);
    let limits = logins::Limits {
        per_account: state.config.login_attempts,
        per_address: state.config.login_attempts_per_address,
    };
    let (who, token) = (email.clone(), unlock.clone());
    let outcome = state
        .db(move |conn| {
            let attempt = logins::Attempt {
                kind: panel,
                email: &who,
                password: &password,
                address: &address,
                unlock: &token,
                limits,
            };
            Ok(logins::log_in(conn, &attempt)?)
        })
        .await?;
    let next = next.unwrap_or_default();
    match outcome {
        LoginOutcome::LoggedIn(account) => {
            start_session(session, account);
            let home = if panel == AccountKind::User { "/admin/tickets" } else { "/affiliate/tickets" };
            Ok(redirect(&safe_next(Some(&next), home)))
        }
        LoginOutcome::WrongLogin => {
            let mut page = login_page(panel, session, email, next, Some(WRONG_LOGIN.into()));
            page.unlock = unlock;
            Ok(refused_page(req, page, None))
        }
        LoginOutcome::Throttled(throttled) => {
            let minutes = throttled.wait_secs.div_ceil(60);
            let plural = if minutes == 1 { "" } else { "s" };
            let message = if throttled.account {
                format!(
                    "Too many failed logins for this account. Try again in {minutes} minute{plural}, or have a \
                     link emailed to you that lets you log in now."
                )
            } else {
                format!("Too many failed logins from this address. Try again in {minutes} minute{plural}.")
            };
            let mut page = login_page(panel, session, email, next, Some(message));
            page.offer_unlock = throttled.account;
            Ok(refused_page(req, page, Some(throttled.wait_secs)))
        }
    }
}

/// 401 for a wrong login; 429 with `Retry-After` while logins are throttled.
fn refused_page(req: &HttpRequest, page: LoginPage, retry_after: Option<u64>) -> HttpResponse {
    let status = if retry_after.is_some() { StatusCode::TOO_MANY_REQUESTS } else { StatusCode::UNAUTHORIZED };
    let mut resp = super::html(req, page, status);
    if let Some(secs) = retry_after {
        resp.headers_mut().insert(actix_web::http::header::RETRY_AFTER, secs.into());
    }
    resp
}

/// A new session key at login (no fixation), a new CSRF token, and whose it is.
fn start_session(session: &Session, account: Account) {
    session.renew();
    let _ = session.insert(PRINCIPAL_KEY, account.key());
    csrf::rotate(session);
}

/// Logout deletes the session row, so the old cookie is worthless everywhere at once.
pub async fn admin_logout(session: Session) -> HttpResponse {
    session.purge();
    redirect("/admin/login?logged_out=1")
}

pub async fn affiliate_logout(session: Session) -> HttpResponse {
    session.purge();
    redirect("/affiliate/login?logged_out=1")
}
