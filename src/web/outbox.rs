//! `GET /admin/outbox`: the emails affdesk sends, for admins: pending, sent, and
//! failed with the server's answer, each failed or waiting one with "Retry now".

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::auth::StaffSession;
use super::{AppState, FlashKind, PageCtx, path_id, redirect, set_flash};
use crate::domain::affise_push::{self, Push};
use crate::domain::outbox::{self, Mail, OutboxState};
use crate::domain::sync_state::{self, SyncPart};
use crate::error::{AppError, AppResult};
use crate::http::query::Params;

/// Rows one page shows.
const SHOWN: i64 = 200;

#[derive(Template)]
#[template(path = "admin/outbox.html")]
struct OutboxPage {
    ctx: PageCtx,
    mails: Vec<Mail>,
    counts: Vec<(OutboxState, i64)>,
    state: Option<OutboxState>,
    email_on: bool,
    pushes: Vec<Push>,
    sync: Vec<SyncPart>,
    affise_on: bool,
}

fn admin_only(staff: &StaffSession) -> AppResult<()> {
    if staff.user.is_admin() { Ok(()) } else { Err(AppError::forbidden("Only admins see the outbox.")) }
}

pub async fn list(req: HttpRequest, state: web::Data<AppState>, staff: StaffSession) -> AppResult<HttpResponse> {
    admin_only(&staff)?;
    let query = Params::from_query(req.query_string());
    let shown = query.one("state").and_then(OutboxState::parse);
    let (mails, counts, pushes, sync) = state
        .db(move |conn| {
            Ok((
                outbox::list(conn, shown, SHOWN)?,
                outbox::counts(conn)?,
                affise_push::list(conn, None, SHOWN)?,
                sync_state::sync_parts(conn)?,
            ))
        })
        .await?;
    let page = OutboxPage {
        ctx: staff.page("outbox"),
        mails,
        counts,
        state: shown,
        email_on: state.config.mail.smtp_url.is_some(),
        pushes,
        sync: sync.into_iter().filter(|p| p.part != "run").collect(),
        affise_on: state.config.affise.is_some(),
    };
    Ok(super::page(&req, page))
}

/// `POST /admin/outbox/{id}/retry`: send a waiting or failed email now.
pub async fn retry(
    state: web::Data<AppState>,
    staff: StaffSession,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    admin_only(&staff)?;
    let id = path_id(&path)?;
    let queued = state.db(move |conn| Ok(outbox::retry_now(conn, id, crate::domain::now())?)).await?;
    if queued {
        set_flash(&staff.session, FlashKind::Success, format!("Email {id} will be sent again now."));
    } else {
        set_flash(&staff.session, FlashKind::Warning, format!("Email {id} was already sent, or is not there."));
    }
    Ok(redirect("/admin/outbox"))
}

/// `POST /admin/outbox/affise/{id}/retry`: push a waiting or failed decision to Affise now.
pub async fn retry_push(
    state: web::Data<AppState>,
    staff: StaffSession,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    admin_only(&staff)?;
    let id = path_id(&path)?;
    let queued = state.db(move |conn| Ok(affise_push::retry_now(conn, id, crate::domain::now())?)).await?;
    if queued {
        set_flash(&staff.session, FlashKind::Success, format!("Decision {id} will be pushed to Affise again now."));
    } else {
        set_flash(
            &staff.session,
            FlashKind::Warning,
            format!("Decision {id} was already taken by Affise, or is not there."),
        );
    }
    Ok(redirect("/admin/outbox#affise"))
}
