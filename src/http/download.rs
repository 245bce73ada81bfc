//! Sending an attachment: the original name, safely, and never sniffed or cached.

use actix_web::HttpResponse;
use actix_web::http::header::{self, Charset, ContentDisposition, DispositionParam, DispositionType, ExtendedValue};

use super::AppState;
use crate::domain::Actor;
use crate::domain::attachments::{self, Attachment};
use crate::error::{AppError, AppResult};

/// The attachment `id` if the actor may see it (see `attachments::for_download`);
/// 404 otherwise, as if it did not exist.
pub async fn send(state: &AppState, actor: Actor, id: i64) -> AppResult<HttpResponse> {
    let (attachment, bytes) = state
        .db_with_store(move |conn, store| {
            let attachment = attachments::for_download(conn, &actor, id)?;
            let mut file = store.open(&attachment.storage_key).map_err(|_| AppError::NotFound)?;
            let mut bytes = Vec::with_capacity(attachment.size.clamp(0, attachments::MAX_FILE_BYTES) as usize);
            std::io::Read::read_to_end(&mut file, &mut bytes)?;
            Ok((attachment, bytes))
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, attachment.content_type.clone()))
        .insert_header(content_disposition(&attachment))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(bytes))
}

/// `attachment; filename="ascii"; filename*=UTF-8''...`: the original name, safely.
fn content_disposition(a: &Attachment) -> ContentDisposition {
    let ascii: String =
        a.file_name.chars().map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' { c } else { '_' }).collect();
    ContentDisposition {
        disposition: DispositionType::Attachment,
        parameters: vec![
            DispositionParam::Filename(ascii),
            DispositionParam::FilenameExt(ExtendedValue {
                charset: Charset::Ext("UTF-8".into()),
                language_tag: None,
                value: a.file_name.as_bytes().to_vec(),
            }),
        ],
    }
}
