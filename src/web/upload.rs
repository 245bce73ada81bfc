//! Reading multipart forms: text fields, and up to five attachments streamed to
//! temporary files (memory stays flat), each checked by its content.

use std::collections::HashMap;
use std::path::PathBuf;

use actix_multipart::Multipart;
use actix_web::{HttpMessage, HttpRequest};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::csrf::{self, MultipartCsrf};
use super::ticket_list::FieldError;
use crate::domain::attachments::{self, MAX_FILE_BYTES, MAX_FILES};
use crate::error::{AppError, AppResult};
use crate::storage::AttachmentStore;

/// A file received into temporary storage; deleted on drop unless moved into place.
#[derive(Debug)]
pub struct TempFile {
    pub path: PathBuf,
    pub file_name: String,
    pub content_type: &'static str,
    pub size: i64,
    pub sha256: String,
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[derive(Debug, Default)]
pub struct Upload {
    pub fields: HashMap<String, Vec<String>>,
    pub files: Vec<TempFile>,
    /// Problems with the files, for the `files` field of the form.
    pub errors: Vec<FieldError>,
}

impl Upload {
    pub fn text(&self, name: &str) -> String {
        self.fields.get(name).and_then(|v| v.first()).cloned().unwrap_or_default()
    }
    pub fn flag(&self, name: &str) -> bool {
        self.fields.get(name).and_then(|v| v.first()).is_some_and(|v| v == "1" || v == "on" || v == "true")
    }
    pub fn file_error(&self) -> Option<String> {
        if self.errors.is_empty() {
            None
        } else {
            Some(self.errors.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join(" "))
        }
    }
}

/// Text fields larger than this are refused (a reply is text, not a file).
const MAX_FIELD_BYTES: usize = 256 * 1024;

/// Reads the whole form. The CSRF token field is checked here, because the guard
/// cannot buffer a stream of files (see `csrf::MultipartCsrf`).
pub async fn read(req: &HttpRequest, mut form: Multipart, store: &dyn AttachmentStore) -> AppResult<Upload> {
    let expected = req.extensions().get::<MultipartCsrf>().cloned();
    let mut upload = Upload::default();
    let mut token_ok = expected.is_none();
    let mut file_fields = 0usize;
    while let Some(field) = form.next().await {
        let mut field = field.map_err(|e| AppError::bad_request(format!("The form could not be read: {e}")))?;
        let name = field.name().unwrap_or_default().to_string();
        let file_name = field.content_disposition().and_then(|cd| cd.get_filename()).map(str::to_string);
        match file_name {
            Some(file_name) if name == "files" => {
                if file_name.is_empty() {
                    // An empty file input still sends a part with no name: nothing chosen.
                    while let Some(chunk) = field.next().await {
                        chunk.map_err(|e| AppError::bad_request(format!("The upload was interrupted: {e}")))?;
                    }
                    continue;
                }
                file_fields += 1;
                if file_fields > MAX_FILES {
                    drain(&mut field).await?;
                    if file_fields == MAX_FILES + 1 {
                        upload.errors.push(FieldError {
                            field: "files",
                            message: format!("At most {MAX_FILES} files can be attached to one message."),
                        });
                    }
                    continue;
                }
                match receive_file(&mut field, &file_name, store).await? {
                    Ok(file) => upload.files.push(file),
                    Err(message) => upload.errors.push(FieldError { field: "files", message }),
                }
            }
            _ => {
                let mut value = Vec::new();
                while let Some(chunk) = field.next().await {
                    let chunk = chunk.map_err(|e| AppError::bad_request(format!("The form could not be read: {e}")))?;
                    if value.len() + chunk.len() > MAX_FIELD_BYTES {
                        return Err(AppError::bad_request(format!("The field {name} is too long.")));
                    }
                    value.extend_from_slice(&chunk);
                }
                let value =
                    String::from_utf8(value).map_err(|_| AppError::bad_request("The form is not valid UTF-8 text."))?;
                if name == csrf::FIELD
                    && let Some(expected) = &expected
                {
                    expected.check(&value)?;
                    token_ok = true;
                }
                upload.fields.entry(name).or_default().push(value);
            }
        }
    }
    if !token_ok {
        return Err(csrf::refusal());
    }
    if !upload.errors.is_empty() {
        // One bad file refuses the whole message: drop (and delete) the good ones too.
        upload.files.clear();
    }
    Ok(upload)
}

async fn drain(field: &mut actix_multipart::Field) -> AppResult<()> {
    while let Some(chunk) = field.next().await {
        chunk.map_err(|e| AppError::bad_request(format!("The upload was interrupted: {e}")))?;
    }
    Ok(())
}

/// Streams one file to a temporary file. `Ok(Err(message))` is a refusal to show
/// next to the field; `Err` is a broken request.
async fn receive_file(
    field: &mut actix_multipart::Field,
    file_name: &str,
    store: &dyn AttachmentStore,
) -> AppResult<Result<TempFile, String>> {
    let display_name = attachments::clean_file_name(file_name);
    if let Err(message) = attachments::check_name(&display_name) {
        drain(field).await?;
        return Ok(Err(message));
    }
    let (path, file) = store.create_temp()?;
    let mut temp = TempFile { path, file_name: display_name.clone(), content_type: "", size: 0, sha256: String::new() };
    let mut out = tokio::fs::File::from_std(file);
    let mut hasher = Sha256::new();
    let mut head = Vec::with_capacity(16);
    let mut too_big = false;
    while let Some(chunk) = field.next().await {
        let chunk = chunk.map_err(|e| AppError::bad_request(format!("The upload was interrupted: {e}")))?;
        if too_big {
            continue;
        }
        temp.size += chunk.len() as i64;
        if temp.size > MAX_FILE_BYTES {
            too_big = true;
            continue;
        }
        if head.len() < 16 {
            head.extend_from_slice(&chunk[..chunk.len().min(16 - head.len())]);
        }
        hasher.update(&chunk);
        out.write_all(&chunk).await?;
    }
    out.flush().await?;
    drop(out);
    if too_big {
        return Ok(Err(format!("{display_name}: larger than 5 MB (at most {MAX_FILE_BYTES} bytes per file).")));
    }
    if temp.size == 0 {
        return Ok(Err(format!("{display_name}: the file is empty.")));
    }
    match attachments::sniff(&head) {
        Some(content_type) if attachments::name_fits(&display_name, content_type) => {
            temp.content_type = content_type;
            temp.sha256 = hex::encode(hasher.finalize());
            Ok(Ok(temp))
        }
        _ => Ok(Err(format!("{display_name}: the content is not a JPEG, PNG, GIF or ZIP file matching its name."))),
    }
}

/// Records received files with `f` (a database write that gets their metadata) and
/// moves them into place inside the same transaction, last. If anything fails,
/// neither the rows nor the files remain.
pub fn save_with<T>(
    conn: &mut crate::db::AnyConnection,
    store: &dyn AttachmentStore,
    files: Vec<TempFile>,
    f: impl FnOnce(&mut crate::db::AnyConnection, &[crate::domain::messages::NewAttachment]) -> AppResult<T>,
) -> AppResult<T> {
    let new: Vec<crate::domain::messages::NewAttachment> = files
        .iter()
        .map(|t| crate::domain::messages::NewAttachment {
            file_name: t.file_name.clone(),
            content_type: t.content_type.to_string(),
            size: t.size,
            sha256: t.sha256.clone(),
            storage_key: crate::domain::random_token(20),
        })
        .collect();
    let mut moved: Vec<String> = Vec::new();
    let result = crate::db::write_transaction(conn, |conn| {
        let value = f(conn, &new)?;
        for (temp, meta) in files.iter().zip(&new) {
            store.commit(&temp.path, &meta.storage_key)?;
            moved.push(meta.storage_key.clone());
        }
        Ok::<T, AppError>(value)
    });
    if result.is_err() {
        for key in &moved {
            let _ = store.delete(key);
        }
    }
    result
}
