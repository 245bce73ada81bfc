//! Reading multipart forms: text fields, and up to five attachments streamed to
//! temporary files (memory stays flat), each checked by its content.

use std::collections::HashMap;

use actix_multipart::Multipart;
use actix_web::{HttpMessage, HttpRequest};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::domain::attachments::{self, MAX_FILE_BYTES, MAX_FILES};
use crate::domain::ticket_filter::FieldError;
use crate::error::{AppError, AppResult};
use crate::storage::{AttachmentStore, TempFile};

/// The name of the CSRF token field in the panels' forms.
pub const CSRF_FIELD: &str = "csrf_token";

/// The CSRF token a panel's multipart form must carry: set by the panels' guard,
/// checked here as the `csrf_token` field streams past, because the guard cannot
/// buffer a stream of files. API requests carry none and need none.
#[derive(Clone, Debug)]
pub struct ExpectedToken(pub Option<String>);

impl ExpectedToken {
    pub fn check(&self, sent: &str) -> Result<(), AppError> {
        match &self.0 {
            Some(expected) if constant_time_eq(expected.as_bytes(), sent.as_bytes()) => Ok(()),
            _ => Err(csrf_refusal()),
        }
    }
}

pub fn csrf_refusal() -> AppError {
    AppError::forbidden("The form has expired or did not come from this site. Reload the page and try again.")
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
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
    /// A checkbox of a panel's form: ticked when sent as `1` or `on`.
    pub fn checked(&self, name: &str) -> bool {
        self.fields.get(name).and_then(|v| v.first()).is_some_and(|v| v == "1" || v == "on")
    }
    /// The fields as parameters, for the API's strict readers.
    pub fn params(&self) -> crate::http::query::Params {
        crate::http::query::Params(self.fields.clone())
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
/// A form with files is at most five files of 5 MB and its text: nothing larger is
/// read, whatever the client says its length is.
pub const MAX_UPLOAD_BYTES: usize = MAX_FILES * MAX_FILE_BYTES as usize + 1024 * 1024;
/// No form of ours has more parts than this (text fields and up to 5 files, with
/// room for the sixth file that is refused in words).
pub const MAX_PARTS: usize = 32;

/// The length the client declares, if any.
pub fn declared_length(headers: &actix_web::http::header::HeaderMap) -> Option<usize> {
    headers.get(actix_web::http::header::CONTENT_LENGTH)?.to_str().ok()?.trim().parse().ok()
}

/// Counts what is read of a body, and stops it at the cap or the deadline.
struct Budget {
    used: usize,
    cap: usize,
    deadline: tokio::time::Instant,
}

impl Budget {
    async fn next<S: futures_util::Stream + Unpin>(&self, stream: &mut S) -> AppResult<Option<S::Item>> {
        super::next_before(stream, self.deadline).await
    }

    fn take(&mut self, n: usize) -> AppResult<()> {
        self.used += n;
        if self.used > self.cap { Err(super::too_large(self.cap)) } else { Ok(()) }
    }
}

/// Reads the whole form, streaming files to temporary files. For a panel's form the
/// CSRF token (see `ExpectedToken`) must be its first field: nothing else is read
/// before the token is known to be right.
pub async fn read(req: &HttpRequest, mut form: Multipart, store: &dyn AttachmentStore) -> AppResult<Upload> {
    if declared_length(req.headers()).is_some_and(|n| n > MAX_UPLOAD_BYTES) {
        return Err(super::too_large(MAX_UPLOAD_BYTES));
    }
    let expected = req.extensions().get::<ExpectedToken>().cloned();
    let mut upload = Upload::default();
    let mut token_ok = expected.is_none();
    let mut file_fields = 0usize;
    let mut parts = 0usize;
    let mut budget = Budget { used: 0, cap: MAX_UPLOAD_BYTES, deadline: super::body_deadline(req) };
    while let Some(field) = budget.next(&mut form).await? {
        let mut field = field.map_err(|e| AppError::bad_request(format!("The form could not be read: {e}")))?;
        let name = field.name().unwrap_or_default().to_string();
        parts += 1;
        if parts > MAX_PARTS {
            return Err(AppError::TooLarge(format!("The form has more than {MAX_PARTS} fields.")));
        }
        if !token_ok && name != CSRF_FIELD {
            return Err(csrf_refusal());
        }
        let file_name = field.content_disposition().and_then(|cd| cd.get_filename()).map(str::to_string);
        match file_name {
            // Some clients name a list of files `files[]`.
            Some(file_name) if name == "files" || name == "files[]" => {
                if file_name.is_empty() {
                    // An empty file input still sends a part with no name: nothing chosen.
                    drain(&mut field, &mut budget).await?;
                    continue;
                }
                file_fields += 1;
                if file_fields > MAX_FILES {
                    drain(&mut field, &mut budget).await?;
                    if file_fields == MAX_FILES + 1 {
                        upload.errors.push(FieldError {
                            field: "files",
                            message: format!("At most {MAX_FILES} files can be attached to one message."),
                        });
                    }
                    continue;
                }
                match receive_file(&mut field, &file_name, store, &mut budget).await? {
                    Ok(file) => upload.files.push(file),
                    Err(message) => upload.errors.push(FieldError { field: "files", message }),
                }
            }
            _ => {
                let mut value = Vec::new();
                while let Some(chunk) = budget.next(&mut field).await? {
                    let chunk = chunk.map_err(|e| AppError::bad_request(format!("The form could not be read: {e}")))?;
                    budget.take(chunk.len())?;
                    if value.len() + chunk.len() > MAX_FIELD_BYTES {
                        return Err(AppError::bad_request(format!("The field {name} is too long.")));
                    }
                    value.extend_from_slice(&chunk);
                }
                super::params::refuse_nul(&value)?;
                let value =
                    String::from_utf8(value).map_err(|_| AppError::bad_request("The form is not valid UTF-8 text."))?;
                if name == CSRF_FIELD
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
        return Err(csrf_refusal());
    }
    if !upload.errors.is_empty() {
        // One bad file refuses the whole message: drop (and delete) the good ones too.
        upload.files.clear();
    }
    Ok(upload)
}

async fn drain(field: &mut actix_multipart::Field, budget: &mut Budget) -> AppResult<()> {
    while let Some(chunk) = budget.next(field).await? {
        let chunk = chunk.map_err(|e| AppError::bad_request(format!("The upload was interrupted: {e}")))?;
        budget.take(chunk.len())?;
    }
    Ok(())
}

/// Streams one file to a temporary file. `Ok(Err(message))` is a refusal to show
/// next to the field; `Err` is a broken request.
async fn receive_file(
    field: &mut actix_multipart::Field,
    file_name: &str,
    store: &dyn AttachmentStore,
    budget: &mut Budget,
) -> AppResult<Result<TempFile, String>> {
    let display_name = attachments::clean_file_name(file_name);
    if let Err(message) = attachments::check_name(&display_name) {
        drain(field, budget).await?;
        return Ok(Err(message));
    }
    let (path, file) = store.create_temp()?;
    let mut temp = TempFile { path, file_name: display_name.clone(), content_type: "", size: 0, sha256: String::new() };
    let mut out = tokio::fs::File::from_std(file);
    let mut hasher = Sha256::new();
    let mut head = Vec::with_capacity(16);
    let mut too_big = false;
    while let Some(chunk) = budget.next(field).await? {
        let chunk = chunk.map_err(|e| AppError::bad_request(format!("The upload was interrupted: {e}")))?;
        budget.take(chunk.len())?;
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
        _ => {
            Ok(Err(format!("{display_name}: the content is not a JPEG, PNG, GIF, PDF or ZIP file matching its name.")))
        }
    }
}

/// A form with one data file (a CSV import): its text fields, and the file streamed
/// to a temporary file, unchecked (its reader checks it line by line).
#[derive(Debug, Default)]
pub struct DataUpload {
    pub fields: HashMap<String, String>,
    pub file: Option<TempFile>,
}

/// Reads a form whose file field is `file`, up to `cap` bytes in all; the CSRF
/// token comes first, as in `read`.
pub async fn read_data_file(
    req: &HttpRequest,
    mut form: Multipart,
    store: &dyn AttachmentStore,
    cap: usize,
) -> AppResult<DataUpload> {
    if declared_length(req.headers()).is_some_and(|n| n > cap) {
        return Err(super::too_large(cap));
    }
    let expected = req.extensions().get::<ExpectedToken>().cloned();
    let mut token_ok = expected.is_none();
    let mut upload = DataUpload::default();
    let mut budget = Budget { used: 0, cap, deadline: super::body_deadline(req) };
    let mut parts = 0usize;
    while let Some(field) = budget.next(&mut form).await? {
        let mut field = field.map_err(|e| AppError::bad_request(format!("The form could not be read: {e}")))?;
        let name = field.name().unwrap_or_default().to_string();
        parts += 1;
        if parts > MAX_PARTS {
            return Err(AppError::TooLarge(format!("The form has more than {MAX_PARTS} fields.")));
        }
        if !token_ok && name != CSRF_FIELD {
            return Err(csrf_refusal());
        }
        let file_name = field.content_disposition().and_then(|cd| cd.get_filename()).map(str::to_string);
        match file_name {
            Some(file_name) if name == "file" && !file_name.is_empty() && upload.file.is_none() => {
                let (path, file) = store.create_temp()?;
                let mut temp = TempFile {
                    path,
                    file_name: attachments::clean_file_name(&file_name),
                    content_type: "text/csv",
                    size: 0,
                    sha256: String::new(),
                };
                let mut out = tokio::fs::File::from_std(file);
                let mut hasher = Sha256::new();
                while let Some(chunk) = budget.next(&mut field).await? {
                    let chunk = chunk.map_err(|e| AppError::bad_request(format!("The upload was interrupted: {e}")))?;
                    budget.take(chunk.len())?;
                    temp.size += chunk.len() as i64;
                    hasher.update(&chunk);
                    out.write_all(&chunk).await?;
                }
                out.flush().await?;
                temp.sha256 = hex::encode(hasher.finalize());
                upload.file = Some(temp);
            }
            Some(_) => drain(&mut field, &mut budget).await?,
            None => {
                let mut value = Vec::new();
                while let Some(chunk) = budget.next(&mut field).await? {
                    let chunk = chunk.map_err(|e| AppError::bad_request(format!("The form could not be read: {e}")))?;
                    budget.take(chunk.len())?;
                    if value.len() + chunk.len() > MAX_FIELD_BYTES {
                        return Err(AppError::bad_request(format!("The field {name} is too long.")));
                    }
                    value.extend_from_slice(&chunk);
                }
                super::params::refuse_nul(&value)?;
                let value =
                    String::from_utf8(value).map_err(|_| AppError::bad_request("The form is not valid UTF-8 text."))?;
                if name == CSRF_FIELD
                    && let Some(expected) = &expected
                {
                    expected.check(&value)?;
                    token_ok = true;
                }
                upload.fields.entry(name).or_insert(value);
            }
        }
    }
    if !token_ok {
        return Err(csrf_refusal());
    }
    Ok(upload)
}
