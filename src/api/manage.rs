//! Beyond Affise, in the same style: everything a manager does in the panel can be
//! automated — open a ticket, read and write its comments, close, reopen, remove,
//! and keep the reply templates.

use actix_multipart::Multipart;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::objects::{self, date};
use super::tickets::path_id;
use super::{ApiError, ApiParams, ApiResult, ApiStaff, bad, flag, ok};
use crate::domain::lifecycle::{self, Outcome};
use crate::domain::messages::{Draft, Then};
use crate::domain::opening::{self, NewQuestion};
use crate::domain::tickets::TicketKind;
use crate::domain::{Acted, messages, reply_templates, threads};
use crate::error::AppError;
use crate::http::AppState;
use crate::http::params::MAX_BODY;
use crate::http::upload::{self, Upload};

/// Multipart (with files) or url-encoded fields, the same for every writing method.
async fn read_upload(req: &HttpRequest, state: &AppState, payload: web::Payload) -> ApiResult<Upload> {
    let is_multipart =
        req.headers().get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("multipart/"));
    if is_multipart {
        let form = Multipart::new(req.headers(), payload.into_inner());
        let upload = upload::read(req, form, state.storage.as_ref()).await?;
        if let Some(e) = upload.file_error() {
            return Err(bad(e));
        }
        return Ok(upload);
    }
    let deadline = crate::http::body_deadline(req);
    let body = crate::http::params::read_body(payload.into_inner(), MAX_BODY, deadline).await?;
    let mut params = crate::http::query::Params::from_query(req.query_string());
    params.add_urlencoded(&body);
    Ok(Upload { fields: params.0, ..Default::default() })
}

/// `POST /3.0/admin/ticket`: `pid`, `type`, `title`, `description`, optional `files`.
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: ApiStaff,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let upload = read_upload(&req, &state, payload).await?;
    let pid: i64 = upload
        .text("pid")
        .trim()
        .parse()
        .map_err(|_| bad("pid (the affiliate's id) is required and must be an integer"))?;
    let kind = TicketKind::parse_any(upload.text("type").trim())
        .filter(|k| k.is_question())
        .ok_or_else(|| bad("type must be common, financial, technical or other"))?;
    let title = messages::check_title(&upload.text("title")).map_err(|e| bad(format!("title: {e}")))?;
    let body = messages::check_body(&upload.text("description")).map_err(|e| bad(format!("description: {e}")))?;
    let actor = staff.actor();
    let question = NewQuestion { affiliate_id: Some(pid), kind, title, body };
    let files = upload.files;
    let base = state.public_url();
    let object = state
        .act_with_store(move |conn, store| {
            let (opened, effects) = opening::open_question(conn, store, &actor, question, files)?.into_parts();
            let ticket =
                opened.map_err(|_| AppError::bad_request(format!("No affiliate with id {pid} among yours")))?;
            let object = objects::tickets(conn, &base, &[ticket])?.pop().ok_or(AppError::NotFound)?;
            Ok(Acted::new(object, effects))
        })
        .await?;
    Ok(ok(json!({ "ticket": object })))
}

fn comment_object(e: &threads::ThreadEntry) -> Value {
    json!({
        "id": e.message.id.to_string(),
        "author_type": e.message.author_kind,
        "author_id": e.message.author_id,
        "author_name": e.author,
        "text": e.message.body,
        "internal": e.message.internal,
        "created": date(e.message.created_at),
        "attachments": e.attachments.iter().map(|a| json!({
            "id": a.id,
            "file_name": a.file_name,
            "size": a.size,
            "content_type": a.content_type,
            "url": format!("/3.0/admin/attachments/{}", a.id),
        })).collect::<Vec<_>>(),
    })
}

/// `GET /3.0/admin/ticket/{id}/comments`: the thread, oldest first, notes included.
pub async fn comments(state: web::Data<AppState>, staff: ApiStaff, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let id = path_id(&path)?;
    let actor = staff.actor();
    let comments = state
        .db(move |conn| {
            let thread = threads::read(conn, &actor, id, false)?;
            Ok(thread.entries.iter().map(comment_object).collect::<Vec<_>>())
        })
        .await?;
    Ok(ok(json!({ "comments": comments, "id": id.to_string() })))
}

/// `POST /3.0/admin/ticket/{id}/comment`: `text`, optional `internal=1`, `close=1`, `files`.
pub async fn reply(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: ApiStaff,
    path: web::Path<String>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let id = path_id(&path)?;
    let upload = read_upload(&req, &state, payload).await?;
    let params = upload.params();
    let body = messages::check_body(&upload.text("text")).map_err(|e| bad(format!("text: {e}")))?;
    let (internal, close, wait) = (flag(&params, "internal")?, flag(&params, "close")?, flag(&params, "wait")?);
    if internal && (close || wait) {
        return Err(bad("an internal note cannot close the ticket or wait on the affiliate: send one of them"));
    }
    if close && wait {
        return Err(bad("close and wait cannot both be set: a closed ticket waits on nobody"));
    }
    let then = match (close, wait) {
        (true, _) => Then::Close,
        (_, true) => Then::Wait,
        _ => Then::Stay,
    };
    // A client that retries after a lost answer sends the same key: one comment.
    let submission = req.headers().get("Idempotency-Key").and_then(|v| v.to_str().ok()).map(str::to_string);
    let actor = staff.actor();
    let files = upload.files;
    let replied = state
        .act_with_store(move |conn, store| {
            if internal {
                let draft = Draft::from_form(&body, submission.as_deref().unwrap_or(""));
                Ok(messages::add_note(conn, store, &actor, id, draft, files)?)
            } else {
                let draft = Draft::from_form(&body, submission.as_deref().unwrap_or(""));
                Ok(messages::reply(conn, store, &actor, id, draft, then, files)?)
            }
        })
        .await?;
    Ok(ok(json!({ "message": "Comment is added", "id": replied.message.id.to_string() })))
}

/// `POST /3.0/admin/ticket/{id}/close`.
pub async fn close(state: web::Data<AppState>, staff: ApiStaff, path: web::Path<String>) -> ApiResult<HttpResponse> {
    set_status(state, staff, path, true).await
}

/// `POST /3.0/admin/ticket/{id}/reopen`.
pub async fn reopen(state: web::Data<AppState>, staff: ApiStaff, path: web::Path<String>) -> ApiResult<HttpResponse> {
    set_status(state, staff, path, false).await
}

async fn set_status(
    state: web::Data<AppState>,
    staff: ApiStaff,
    path: web::Path<String>,
    close: bool,
) -> ApiResult<HttpResponse> {
    let id = path_id(&path)?;
    let actor = staff.actor();
    let outcome = state
        .act(
            move |conn| {
                if close { Ok(lifecycle::close(conn, &actor, id)?) } else { Ok(lifecycle::reopen(conn, &actor, id)?) }
            },
        )
        .await?;
    match outcome {
        Outcome::Done => Ok(ok(json!({ "message": if close { "Ticket is closed" } else { "Ticket is reopened" } }))),
        Outcome::Skipped(why) => Err(ApiError(AppError::conflict(format!("Ticket {id} is {}", why.reason())))),
    }
}

/// `POST /3.0/admin/ticket/{id}/remove`: the ticket, its messages and its files.
pub async fn remove(state: web::Data<AppState>, staff: ApiStaff, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let id = path_id(&path)?;
    let actor = staff.actor();
    state.db_with_store(move |conn, store| Ok(lifecycle::remove(conn, store, &actor, id)?)).await?;
    Ok(ok(json!({ "message": "Ticket is removed" })))
}

fn template_object(t: &reply_templates::ReplyTemplate) -> Value {
    json!({
        "id": t.id.to_string(),
        "title": t.title,
        "text": t.body,
        "created": date(t.created_at),
        "updated": date(t.updated_at),
    })
}

/// `GET /3.0/admin/templates`.
pub async fn templates(state: web::Data<AppState>, _staff: ApiStaff) -> ApiResult<HttpResponse> {
    let rows = state.db(|conn| Ok(reply_templates::list(conn)?)).await?;
    Ok(ok(json!({ "templates": rows.iter().map(|r| template_object(&r.template)).collect::<Vec<_>>() })))
}

/// `POST /3.0/admin/template` (create) and `POST /3.0/admin/template/{id}` (update):
/// `title`, `text`.
async fn save_template(
    state: web::Data<AppState>,
    staff: ApiStaff,
    id: Option<i64>,
    params: ApiParams,
) -> ApiResult<HttpResponse> {
    let title = params.0.one("title").unwrap_or_default().to_string();
    let text = params.0.raw("text").unwrap_or_default().to_string();
    let actor = staff.actor();
    let saved = state.act(move |conn| Ok(reply_templates::save(conn, &actor, id, &title, &text)?)).await?;
    match saved {
        Ok(t) => Ok(ok(json!({ "template": template_object(&t) }))),
        Err(refused) if refused.duplicate_title => {
            let message = refused.errors.into_iter().map(|e| e.message).collect::<Vec<_>>().join(" ");
            Err(ApiError(AppError::conflict(message)))
        }
        Err(refused) => {
            let first = refused.errors.into_iter().next().map(|e| {
                let field = if e.field == "body" { "text" } else { e.field };
                format!("{field}: {}", e.message)
            });
            Err(bad(first.unwrap_or_default()))
        }
    }
}

pub async fn create_template(
    state: web::Data<AppState>,
    staff: ApiStaff,
    params: ApiParams,
) -> ApiResult<HttpResponse> {
    save_template(state, staff, None, params).await
}

pub async fn update_template(
    state: web::Data<AppState>,
    staff: ApiStaff,
    path: web::Path<String>,
    params: ApiParams,
) -> ApiResult<HttpResponse> {
    let id = path_id(&path)?;
    save_template(state, staff, Some(id), params).await
}

/// `POST /3.0/admin/template/{id}/remove`.
pub async fn remove_template(
    state: web::Data<AppState>,
    staff: ApiStaff,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = path_id(&path)?;
    let actor = staff.actor();
    state.act(move |conn| Ok(reply_templates::delete(conn, &actor, id)?)).await?;
    Ok(ok(json!({ "message": "Template is removed" })))
}
