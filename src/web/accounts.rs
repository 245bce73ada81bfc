//! Passwords without a manager at hand: the emailed link's "set your password"
//! page, "forgot your password", and changing it on the profile. Both panels.

use actix_session::Session;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::auth::{AffiliateSession, StaffSession};
use super::{AppState, FlashKind, csrf, html, page, redirect, set_flash, take_flash};
use crate::domain::accounts::{self, AccountKind, TokenPurpose};
use crate::error::AppResult;

fn base(panel: AccountKind) -> &'static str {
    match panel {
        AccountKind::User => "/admin",
        AccountKind::Affiliate => "/affiliate",
    }
}

fn title(panel: AccountKind) -> &'static str {
    match panel {
        AccountKind::User => "Admin panel",
        AccountKind::Affiliate => "Affiliate panel",
    }
}

#[derive(Template)]
#[template(path = "account_password.html")]
struct SetPasswordPage {
    panel_title: &'static str,
    base: &'static str,
    csrf: String,
    token: String,
    /// Whose password, when the link works.
    email: Option<String>,
    heading: &'static str,
    problem: Option<&'static str>,
    error: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "account_forgot.html")]
struct ForgotPage {
    panel_title: &'static str,
    base: &'static str,
    csrf: String,
    email: String,
    sent: bool,
    flash: Option<super::Flash>,
}

#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

#[derive(Deserialize)]
pub struct SetPasswordForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    repeat: String,
}

fn heading(purpose: TokenPurpose) -> &'static str {
    match purpose {
        TokenPurpose::Invite => "Welcome: set your password",
        // Unlock links never reach this page (check_link refuses them).
        TokenPurpose::Reset | TokenPurpose::Unlock => "Set a new password",
    }
}

async fn show_link(
    panel: AccountKind,
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    token: String,
) -> AppResult<HttpResponse> {
    let kind = panel;
    let t = token.clone();
    let checked = state.db(move |conn| Ok(accounts::check_link(conn, kind, &t)?)).await?;
    let (email, heading, problem) = match checked {
        Ok(owner) => (Some(owner.email), heading(owner.purpose), None),
        Err(p) => (None, "This link does not work", Some(p.message())),
    };
    let status = if problem.is_some() { actix_web::http::StatusCode::GONE } else { actix_web::http::StatusCode::OK };
    let page = SetPasswordPage {
        panel_title: title(panel),
        base: base(panel),
        csrf: csrf::token(&session),
        token,
        email,
        heading,
        problem,
        error: None,
    };
    Ok(html(&req, page, status))
}

async fn set_password(
    panel: AccountKind,
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    form: SetPasswordForm,
) -> AppResult<HttpResponse> {
    let kind = panel;
    if let Some(problem) = accounts::password_problem(&form.password, &form.repeat) {
        let t = form.token.clone();
        let owner = state.db(move |conn| Ok(accounts::check_link(conn, kind, &t)?)).await?;
        let (email, heading, link_problem) = match owner {
            Ok(o) => (Some(o.email), heading(o.purpose), None),
            Err(p) => (None, "This link does not work", Some(p.message())),
        };
        let page = SetPasswordPage {
            panel_title: title(panel),
            base: base(panel),
            csrf: csrf::token(&session),
            token: form.token,
            email,
            heading,
            problem: link_problem,
            error: Some(problem),
        };
        return Ok(html(&req, page, actix_web::http::StatusCode::UNPROCESSABLE_ENTITY));
    }
    let (token, password) = (form.token.clone(), form.password);
    let done = state.db(move |conn| Ok(accounts::set_password_with_link(conn, kind, &token, &password)?)).await?;
    match done {
        Ok(owner) => {
            set_flash(&session, FlashKind::Success, format!("Your password is set. Log in as {}.", owner.email));
            Ok(redirect(&format!("{}/login", base(panel))))
        }
        Err(problem) => {
            let page = SetPasswordPage {
                panel_title: title(panel),
                base: base(panel),
                csrf: csrf::token(&session),
                token: form.token,
                email: None,
                heading: "This link does not work",
                problem: Some(problem.message()),
                error: None,
            };
            Ok(html(&req, page, actix_web::http::StatusCode::GONE))
        }
    }
}

pub async fn admin_link(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    q: web::Query<TokenQuery>,
) -> AppResult<HttpResponse> {
    show_link(AccountKind::User, req, state, session, q.into_inner().token).await
}

pub async fn affiliate_link(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    q: web::Query<TokenQuery>,
) -> AppResult<HttpResponse> {
    show_link(AccountKind::Affiliate, req, state, session, q.into_inner().token).await
}

pub async fn admin_set(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    form: web::Form<SetPasswordForm>,
) -> AppResult<HttpResponse> {
    set_password(AccountKind::User, req, state, session, form.into_inner()).await
}

pub async fn affiliate_set(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    form: web::Form<SetPasswordForm>,
) -> AppResult<HttpResponse> {
    set_password(AccountKind::Affiliate, req, state, session, form.into_inner()).await
}

fn forgot_page(panel: AccountKind, session: &Session, email: String, sent: bool) -> ForgotPage {
    ForgotPage {
        panel_title: title(panel),
        base: base(panel),
        csrf: csrf::token(session),
        email,
        sent,
        flash: take_flash(session),
    }
}

pub async fn admin_forgot_form(req: HttpRequest, session: Session) -> AppResult<HttpResponse> {
    Ok(page(&req, forgot_page(AccountKind::User, &session, String::new(), false)))
}

pub async fn affiliate_forgot_form(req: HttpRequest, session: Session) -> AppResult<HttpResponse> {
    Ok(page(&req, forgot_page(AccountKind::Affiliate, &session, String::new(), false)))
}

#[derive(Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    email: String,
}

/// The same answer whether or not the address has an account.
async fn forgot(
    panel: AccountKind,
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    form: ForgotForm,
) -> AppResult<HttpResponse> {
    let email = form.email.trim().chars().take(200).collect::<String>();
    let address = crate::http::client_address(&req, &state.config.trusted_proxies);
    let kind = panel;
    let e = email.clone();
    state.db(move |conn| Ok(accounts::request_reset(conn, kind, &e, &address).map(|_| ())?)).await?;
    Ok(page(&req, forgot_page(panel, &session, email, true)))
}

pub async fn admin_forgot(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    form: web::Form<ForgotForm>,
) -> AppResult<HttpResponse> {
    forgot(AccountKind::User, req, state, session, form.into_inner()).await
}

pub async fn affiliate_forgot(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    form: web::Form<ForgotForm>,
) -> AppResult<HttpResponse> {
    forgot(AccountKind::Affiliate, req, state, session, form.into_inner()).await
}

/// `POST /{panel}/login/unlock`: the owner of a locked account asks for the link
/// that lets them log in. The same answer whether or not the account exists or is
/// locked; throttled like a password reset.
async fn unlock(
    panel: AccountKind,
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    form: ForgotForm,
) -> AppResult<HttpResponse> {
    let email = form.email.trim().chars().take(200).collect::<String>();
    let address = crate::http::client_address(&req, &state.config.trusted_proxies);
    let kind = panel;
    state.db(move |conn| Ok(accounts::request_unlock(conn, kind, &email, &address).map(|_| ())?)).await?;
    set_flash(
        &session,
        FlashKind::Info,
        "If this email has an account, a link that lets you log in is on its way to it (it works for one hour).",
    );
    Ok(redirect(accounts::login_path(kind)))
}

pub async fn admin_unlock(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    form: web::Form<ForgotForm>,
) -> AppResult<HttpResponse> {
    unlock(AccountKind::User, req, state, session, form.into_inner()).await
}

pub async fn affiliate_unlock(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    form: web::Form<ForgotForm>,
) -> AppResult<HttpResponse> {
    unlock(AccountKind::Affiliate, req, state, session, form.into_inner()).await
}

#[derive(Deserialize)]
pub struct ChangePasswordForm {
    #[serde(default)]
    old_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    repeat_password: String,
}

/// Changes the password; a refusal comes back as a banner naming the field.
async fn change(
    state: &web::Data<AppState>,
    session: &Session,
    kind: AccountKind,
    id: i64,
    form: ChangePasswordForm,
) -> AppResult<()> {
    let done = state
        .db(move |conn| {
            Ok(accounts::change_password(
                conn,
                kind,
                id,
                &form.old_password,
                &form.new_password,
                &form.repeat_password,
            )?)
        })
        .await?;
    match done {
        Ok(()) => set_flash(session, FlashKind::Success, "Your password is changed."),
        Err(refusal) => {
            let field = if refusal.field == "old_password" { "Current password" } else { "New password" };
            set_flash(session, FlashKind::Error, format!("{field}: {}", refusal.message));
        }
    }
    Ok(())
}

pub async fn admin_change(
    state: web::Data<AppState>,
    staff: StaffSession,
    form: web::Form<ChangePasswordForm>,
) -> AppResult<HttpResponse> {
    change(&state, &staff.session, AccountKind::User, staff.user.id, form.into_inner()).await?;
    Ok(redirect("/admin/profile#password"))
}

pub async fn affiliate_change(
    state: web::Data<AppState>,
    affiliate: AffiliateSession,
    form: web::Form<ChangePasswordForm>,
) -> AppResult<HttpResponse> {
    change(&state, &affiliate.session, AccountKind::Affiliate, affiliate.affiliate.id, form.into_inner()).await?;
    Ok(redirect("/affiliate/profile#password"))
}
