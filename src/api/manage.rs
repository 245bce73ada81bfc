//! Beyond Affise, in the same style: everything a manager does in the panel can be
//! automated — open a ticket, read and write its comments, close, reopen, remove,
//! and keep the reply templates.

use actix_multipart::Multipart;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::objects::{self, date};
use super::{ApiError, ApiResult, ApiStaff, Params, bad, ok};
use crate::domain::Actor;
use crate::domain::affiliates::Affiliate;
use crate::domain::kinds::TicketKind;
use crate::domain::lifecycle::{self, Outcome};
use crate::domain::messages::{self, NewTicket, ReplyOptions};
use crate::domain::reply_templates;
use crate::domain::threads;
use crate::domain::tickets::{Scope, Ticket};
use crate::error::AppError;
use crate::web::AppState;
use crate::web::upload::{self, Upload};

fn ticket_id(raw: &str) -> ApiResult<i64> {
    raw.parse().map_err(|_| ApiError(AppError::NotFound))
}

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
    let mut body = web::BytesMut::new();
    let mut payload = payload;
    use futures_util::StreamExt;
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| bad(format!("The request body could not be read: {e}")))?;
        if body.len() + chunk.len() > 1024 * 1024 {
            return Err(bad("The request body is too large"));
        }
        body.extend_from_slice(&chunk);
    }
    let mut upload = Upload::default();
    for data in [req.query_string().as_bytes(), &body[..]] {
        for (k, v) in url::form_urlencoded::parse(data) {
            upload.fields.entry(k.into_owned()).or_default().push(v.into_owned());
        }
    }
    Ok(upload)
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
    let kind = TicketKind::parse_api(upload.text("type").trim())
        .filter(|k| TicketKind::QUESTIONS.contains(k))
        .ok_or_else(|| bad("type must be common, financial, technical or other"))?;
    let title = messages::check_title(&upload.text("title")).map_err(|e| bad(format!("title: {e}")))?;
    let body = messages::check_body(&upload.text("description")).map_err(|e| bad(format!("description: {e}")))?;
    let scope = Scope::of_staff(&staff.0.staff_ref());
    let me = staff.0.id;
    let actor = Actor::Staff(staff.0.staff_ref());
    let store = state.storage.clone();
    let files = upload.files;
    let object = state
        .db(move |conn| {
            let affiliate = Affiliate::find(conn, pid)?.filter(|a| scope == Scope::All || a.manager_id == Some(me));
            let Some(affiliate) = affiliate else {
                return Err(AppError::bad_request(format!("No affiliate with id {pid} among yours")));
            };
            let new = NewTicket { affiliate_id: affiliate.id, kind, title, body, offer_id: None, smartlink_id: None };
            let ticket = upload::save_with(conn, store.as_ref(), files, |conn, new_files| {
                messages::open_ticket(conn, &actor, new, new_files)
            })?;
            Ok(objects::tickets(conn, &[ticket])?.remove(0))
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
    let id = ticket_id(&path)?;
    let scope = Scope::of_staff(&staff.0.staff_ref());
    let comments = state
        .db(move |conn| {
            let ticket = Ticket::find_visible(conn, &scope, id)?.ok_or(AppError::NotFound)?;
            let thread = threads::load(conn, ticket, true)?;
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
    let id = ticket_id(&path)?;
    let upload = read_upload(&req, &state, payload).await?;
    let body = messages::check_body(&upload.text("text")).map_err(|e| bad(format!("text: {e}")))?;
    let options = ReplyOptions { internal: upload.flag("internal"), close: upload.flag("close") };
    let scope = Scope::of_staff(&staff.0.staff_ref());
    let actor = Actor::Staff(staff.0.staff_ref());
    let store = state.storage.clone();
    let files = upload.files;
    let message_id = state
        .db(move |conn| {
            let ticket = Ticket::find_visible(conn, &scope, id)?.ok_or(AppError::NotFound)?;
            let m = upload::save_with(conn, store.as_ref(), files, |conn, new| {
                messages::reply(conn, &actor, &ticket, &body, options, new)
            })?;
            Ok(m.id)
        })
        .await?;
    Ok(ok(json!({ "message": "Comment is added", "id": message_id.to_string() })))
}

/// `POST /3.0/admin/ticket/{id}/close`, `/reopen` and `/remove`.
pub async fn lifecycle_action(
    state: web::Data<AppState>,
    staff: ApiStaff,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (raw, action) = path.into_inner();
    let id = ticket_id(&raw)?;
    let scope = Scope::of_staff(&staff.0.staff_ref());
    let actor = Actor::Staff(staff.0.staff_ref());
    let (message, files) = state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                let ticket = Ticket::find_visible(conn, &scope, id)?.ok_or(AppError::NotFound)?;
                let outcome = match action.as_str() {
                    "close" => lifecycle::close(conn, &actor, &ticket, "api")?,
                    "reopen" => lifecycle::reopen(conn, &actor, &ticket, "api")?,
                    "remove" => {
                        let files = lifecycle::remove(conn, &actor, &[ticket], "api")?;
                        return Ok(("Ticket is removed".to_string(), files));
                    }
                    _ => return Err(AppError::NotFound),
                };
                match outcome {
                    Outcome::Done if action == "close" => Ok(("Ticket is closed".to_string(), Vec::new())),
                    Outcome::Done => Ok(("Ticket is reopened".to_string(), Vec::new())),
                    Outcome::Skipped(why) => Err(AppError::conflict(format!("Ticket {id} is {why}"))),
                }
            })
        })
        .await?;
    for key in files {
        if let Err(e) = state.storage.delete(&key) {
            log::warn!("could not delete attachment file {key}: {e}");
        }
    }
    Ok(ok(json!({ "message": message })))
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
    let rows = state.db(reply_templates::list).await?;
    Ok(ok(json!({ "templates": rows.iter().map(|r| template_object(&r.template)).collect::<Vec<_>>() })))
}

/// `POST /3.0/admin/template` (create) and `POST /3.0/admin/template/{id}` (update):
/// `title`, `text`.
pub async fn save_template(
    state: web::Data<AppState>,
    staff: ApiStaff,
    path: Option<web::Path<String>>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let id = match path {
        Some(p) => Some(ticket_id(&p)?),
        None => None,
    };
    let title = params.one("title").unwrap_or_default().to_string();
    let text = params.0.get("text").and_then(|v| v.first()).cloned().unwrap_or_default();
    let actor = Actor::Staff(staff.0.staff_ref());
    let saved = state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                if let Some(id) = id {
                    reply_templates::find(conn, id)?.ok_or(AppError::NotFound)?;
                }
                let errors = reply_templates::check(conn, id, &title, &text)?;
                if let Some((field, message)) = errors.into_iter().next() {
                    let field = if field == "body" { "text" } else { field };
                    return Err(if message.contains("already exists") {
                        AppError::conflict(message)
                    } else {
                        AppError::bad_request(format!("{field}: {message}"))
                    });
                }
                match id {
                    Some(id) => reply_templates::update(conn, &actor, id, &title, &text)?,
                    None => {
                        reply_templates::create(conn, &actor, &title, &text)?;
                    }
                }
                let t = match id {
                    Some(id) => reply_templates::find(conn, id)?,
                    None => {
                        reply_templates::list(conn)?.into_iter().map(|r| r.template).find(|t| t.title == title.trim())
                    }
                };
                t.ok_or(AppError::NotFound)
            })
        })
        .await?;
    Ok(ok(json!({ "template": template_object(&saved) })))
}

pub async fn create_template(state: web::Data<AppState>, staff: ApiStaff, params: Params) -> ApiResult<HttpResponse> {
    save_template(state, staff, None, params).await
}

pub async fn update_template(
    state: web::Data<AppState>,
    staff: ApiStaff,
    path: web::Path<String>,
    params: Params,
) -> ApiResult<HttpResponse> {
    save_template(state, staff, Some(path), params).await
}

/// `POST /3.0/admin/template/{id}/remove`.
pub async fn remove_template(
    state: web::Data<AppState>,
    _staff: ApiStaff,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = ticket_id(&path)?;
    state.db(move |conn| reply_templates::delete(conn, id)).await?;
    Ok(ok(json!({ "message": "Template is removed" })))
}
