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
    let (attachment, reader) = state
        .db_with_store(move |conn, store| {
            let attachment = attachments::for_download(conn, &actor, id)?;
            let reader = store.open(&attachment.storage_key).map_err(|_| AppError::NotFound)?;
            Ok((attachment, reader))
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, attachment.content_type.clone()))
        .insert_header(content_disposition(&attachment))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(actix_web::body::SizedStream::new(attachment.size.max(0) as u64, chunks(reader))))
}

/// The stored file in chunks of 64 KB, each read on the blocking pool: a file is
/// never whole in memory, whichever store it comes from.
fn chunks(
    reader: Box<dyn std::io::Read + Send>,
) -> impl futures_util::Stream<Item = Result<actix_web::web::Bytes, Box<dyn std::error::Error>>> {
    futures_util::stream::unfold(Some(reader), |reader| async move {
        let mut reader = reader?;
        let read = actix_web::web::block(move || {
            let mut buf = vec![0u8; 64 * 1024];
            let n = std::io::Read::read(&mut reader, &mut buf)?;
            buf.truncate(n);
            Ok::<_, std::io::Error>((reader, buf))
        })
        .await;
        match read {
            Ok(Ok((_, buf))) if buf.is_empty() => None,
            Ok(Ok((reader, buf))) => Some((Ok(actix_web::web::Bytes::from(buf)), Some(reader))),
            Ok(Err(e)) => Some((Err(Box::new(e) as Box<dyn std::error::Error>), None)),
            Err(e) => Some((Err(Box::new(std::io::Error::other(e.to_string())) as Box<dyn std::error::Error>), None)),
        }
    })
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
