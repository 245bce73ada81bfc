//! The Import page (admins): upload a CSV file of affiliates, offers, Smartlinks or
//! access, see what it would do line by line, then apply it. The file waits for
//! "Apply" in the attachment store (every instance reads the same one), named in
//! the admin's session; applying reads it again from the start, all or nothing.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::{Deserialize, Serialize};

use super::auth::StaffSession;
use super::{AppState, FlashKind, PageCtx, html, redirect, set_flash};
use crate::domain::import::{self, ImportKind, ImportReport};
use crate::domain::secrets;
use crate::error::{AppError, AppResult};
use crate::http::paths;
use crate::http::upload;

/// The largest file taken: 100,000 lines of a wide affiliates file fit with room.
pub const MAX_FILE_BYTES: usize = 64 * 1024 * 1024;
const PENDING_KEY: &str = "import_pending";

/// A previewed file waiting for "Apply".
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Pending {
    key: String,
    kind: String,
    file_name: String,
}

#[derive(Template)]
#[template(path = "admin/import.html")]
struct ImportPage {
    ctx: PageCtx,
    kinds: [ImportKind; 4],
    kind: ImportKind,
    /// The file previewed and what it would do.
    preview: Option<(String, ImportReport)>,
    /// A message for the file field.
    file_error: Option<String>,
}

fn admin(staff: &StaffSession) -> AppResult<()> {
    if staff.user.is_admin() { Ok(()) } else { Err(AppError::forbidden("Only admins import.")) }
}

/// `GET /admin/import?kind=`.
pub async fn form(req: HttpRequest, staff: StaffSession) -> AppResult<HttpResponse> {
    admin(&staff)?;
    let query = crate::http::query::Params::from_query(req.query_string());
    let kind = query.one("kind").and_then(ImportKind::parse).unwrap_or(ImportKind::Affiliates);
    let page = ImportPage { ctx: staff.page("import"), kinds: ImportKind::ALL, kind, preview: None, file_error: None };
    Ok(super::page(&req, page))
}

/// `POST /admin/import`: the preview. Nothing is kept in the database; a file with
/// no line in error waits in the store for "Apply".
pub async fn preview(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: StaffSession,
    payload: Multipart,
) -> AppResult<HttpResponse> {
    admin(&staff)?;
    let form = upload::read_data_file(&req, payload, state.storage.as_ref(), MAX_FILE_BYTES).await?;
    let kind = form.fields.get("kind").and_then(|k| ImportKind::parse(k)).unwrap_or(ImportKind::Affiliates);
    let refuse = |message: &str| ImportPage {
        ctx: staff.page("import"),
        kinds: ImportKind::ALL,
        kind,
        preview: None,
        file_error: Some(message.to_string()),
    };
    let Some(file) = form.file else {
        return Ok(html(&req, refuse("Choose a CSV file to import."), StatusCode::UNPROCESSABLE_ENTITY));
    };
    if file.size == 0 {
        return Ok(html(&req, refuse("The file is empty."), StatusCode::UNPROCESSABLE_ENTITY));
    }
    let actor = staff.actor();
    let path = file.path.clone();
    let report = state
        .db(move |conn| {
            let input = std::fs::File::open(&path)?;
            Ok(import::run(conn, &actor, kind, std::io::BufReader::new(input), false)?)
        })
        .await?;
    if report.error_count == 0 && report.records > 0 {
        let key = secrets::random_token(20);
        let store = state.storage.clone();
        let (temp, k) = (file.path.clone(), key.clone());
        web::block(move || store.commit(&temp, &k)).await.map_err(AppError::internal)??;
        if let Some(old) = super::take_once::<Pending>(&staff.session, PENDING_KEY) {
            let store = state.storage.clone();
            let _ = web::block(move || store.delete(&old.key)).await;
        }
        let pending = Pending { key, kind: kind.word().into(), file_name: file.file_name.clone() };
        staff.session.insert(PENDING_KEY, pending).map_err(AppError::internal)?;
    }
    let status = if report.error_count == 0 { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = ImportPage {
        ctx: staff.page("import"),
        kinds: ImportKind::ALL,
        kind,
        preview: Some((file.file_name.clone(), report)),
        file_error: None,
    };
    Ok(html(&req, page, status))
}

#[derive(Deserialize)]
pub struct ApplyForm {
    #[serde(default)]
    kind: String,
}

/// `POST /admin/import/apply`: applies the file previewed last, if it is the kind
/// the button was for; the file is then removed from the store.
pub async fn apply(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: StaffSession,
    form: web::Form<ApplyForm>,
) -> AppResult<HttpResponse> {
    admin(&staff)?;
    let Some(pending) = super::take_once::<Pending>(&staff.session, PENDING_KEY).filter(|p| p.kind == form.kind) else {
        set_flash(&staff.session, FlashKind::Error, "There is no checked file to apply: upload it again.");
        return Ok(redirect("/admin/import"));
    };
    let Some(kind) = ImportKind::parse(&pending.kind) else {
        return Ok(redirect("/admin/import"));
    };
    let actor = staff.actor();
    let key = pending.key.clone();
    let outcome = state
        .db_with_store(move |conn, store| {
            let input = match store.open(&key) {
                Ok(input) => input,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(e.into()),
            };
            Ok(import::run(conn, &actor, kind, std::io::BufReader::new(input), true).map(Some)?)
        })
        .await;
    let store = state.storage.clone();
    let key = pending.key.clone();
    let _ = web::block(move || store.delete(&key)).await;
    match outcome? {
        None => {
            set_flash(
                &staff.session,
                FlashKind::Error,
                "The checked file was cleared away after a while: upload it again.",
            );
            Ok(redirect(&paths::import(kind.word())))
        }
        Some(report) if report.applied => {
            set_flash(
                &staff.session,
                FlashKind::Success,
                format!("{} imported: {}.", pending.file_name, report.summary()),
            );
            Ok(redirect(&paths::import(kind.word())))
        }
        Some(report) => {
            // Something changed since the preview (a line now conflicts): nothing was kept.
            let page = ImportPage {
                ctx: staff.page("import"),
                kinds: ImportKind::ALL,
                kind,
                preview: Some((pending.file_name, report)),
                file_error: None,
            };
            Ok(html(&req, page, StatusCode::UNPROCESSABLE_ENTITY))
        }
    }
}
