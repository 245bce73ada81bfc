//! The Templates tab: the managers' quick replies, listed, written and removed.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::auth::StaffSession;
use super::{AppState, FlashKind, PageCtx, redirect, set_flash};
use crate::domain::reply_templates::{self, ReplyTemplate, TemplateRow, VARIABLES};
use crate::domain::ticket_filter::FieldError;
use crate::error::AppResult;
use crate::http::paths;

#[derive(Template)]
#[template(path = "admin/templates.html")]
struct ListPage {
    ctx: PageCtx,
    rows: Vec<TemplateRow>,
}

#[derive(Template)]
#[template(path = "admin/template_form.html")]
struct FormPage {
    ctx: PageCtx,
    id: Option<i64>,
    title: String,
    body: String,
    errors: Vec<FieldError>,
    variables: &'static [(&'static str, &'static str)],
}

impl FormPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|e| e.field == field).map(|e| e.message.as_str())
    }
    fn action(&self) -> String {
        match self.id {
            Some(id) => paths::template(id),
            None => "/admin/templates".into(),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/template_delete.html")]
struct DeletePage {
    ctx: PageCtx,
    template: ReplyTemplate,
}

fn respond<T: Template>(req: &HttpRequest, t: T, status: actix_web::http::StatusCode) -> AppResult<HttpResponse> {
    Ok(super::html(req, t, status))
}

pub async fn list(req: HttpRequest, state: web::Data<AppState>, staff: StaffSession) -> AppResult<HttpResponse> {
    let actor = staff.actor();
    let rows = state.db(move |conn| Ok(reply_templates::list_for(conn, &actor)?)).await?;
    respond(&req, ListPage { ctx: staff.page("templates"), rows }, actix_web::http::StatusCode::OK)
}

pub async fn new_form(req: HttpRequest, staff: StaffSession) -> AppResult<HttpResponse> {
    let page = FormPage {
        ctx: staff.page("templates"),
        id: None,
        title: String::new(),
        body: String::new(),
        errors: Vec::new(),
        variables: &VARIABLES,
    };
    respond(&req, page, actix_web::http::StatusCode::OK)
}

pub async fn edit_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: StaffSession,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let id = super::path_id(&path)?;
    let actor = staff.actor();
    let t = state.db(move |conn| Ok(reply_templates::find_editable(conn, &actor, id)?)).await?;
    let page = FormPage {
        ctx: staff.page("templates"),
        id: Some(t.id),
        title: t.title,
        body: t.body,
        errors: Vec::new(),
        variables: &VARIABLES,
    };
    respond(&req, page, actix_web::http::StatusCode::OK)
}

#[derive(Deserialize)]
pub struct TemplateForm {
    title: String,
    body: String,
}

pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: StaffSession,
    form: web::Form<TemplateForm>,
) -> AppResult<HttpResponse> {
    save(req, state, staff, None, form.into_inner()).await
}

pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: StaffSession,
    path: web::Path<String>,
    form: web::Form<TemplateForm>,
) -> AppResult<HttpResponse> {
    save(req, state, staff, Some(super::path_id(&path)?), form.into_inner()).await
}

async fn save(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: StaffSession,
    id: Option<i64>,
    form: TemplateForm,
) -> AppResult<HttpResponse> {
    let actor = staff.actor();
    let (title, body) = (form.title.clone(), form.body.clone());
    let saved = state.act(move |conn| Ok(reply_templates::save(conn, &actor, id, &title, &body)?)).await?;
    if let Err(refused) = saved {
        let errors = refused.errors;
        let page = FormPage {
            ctx: staff.page("templates"),
            id,
            title: form.title,
            body: form.body,
            errors,
            variables: &VARIABLES,
        };
        return respond(&req, page, actix_web::http::StatusCode::UNPROCESSABLE_ENTITY);
    }
    set_flash(&staff.session, FlashKind::Success, format!("Template \"{}\" saved.", form.title.trim()));
    Ok(redirect("/admin/templates"))
}

#[derive(Deserialize)]
pub struct DeleteForm {
    confirm: Option<String>,
}

/// Asks first; removes only when the form carries `confirm=1`.
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: StaffSession,
    path: web::Path<String>,
    form: web::Form<DeleteForm>,
) -> AppResult<HttpResponse> {
    let id = super::path_id(&path)?;
    let actor = staff.actor();
    let template = state.db(move |conn| Ok(reply_templates::find_editable(conn, &actor, id)?)).await?;
    if form.confirm.as_deref() != Some("1") {
        return respond(&req, DeletePage { ctx: staff.page("templates"), template }, actix_web::http::StatusCode::OK);
    }
    let actor = staff.actor();
    state.act(move |conn| Ok(reply_templates::delete(conn, &actor, id)?)).await?;
    set_flash(&staff.session, FlashKind::Success, format!("Template \"{}\" deleted.", template.title));
    Ok(redirect("/admin/templates"))
}
