//! Attachments: which files are accepted (by content, not by name), and their rows.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::{attachments, messages};
use crate::error::AppResult;

pub const MAX_FILES: usize = 5;
/// 5 MB: 5,242,880 bytes.
pub const MAX_FILE_BYTES: i64 = 5 * 1024 * 1024;

#[derive(Queryable, Selectable, Identifiable, Debug, Clone, PartialEq)]
#[diesel(table_name = attachments)]
pub struct Attachment {
    pub id: i64,
    pub message_id: i64,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub storage_key: String,
    pub created_at: NaiveDateTime,
}

impl Attachment {
    /// "1.2 MB", "830 KB", "12 bytes".
    pub fn size_text(&self) -> String {
        human_size(self.size)
    }
}

pub fn human_size(n: i64) -> String {
    match n {
        n if n >= 1024 * 1024 => format!("{:.1} MB", n as f64 / (1024.0 * 1024.0)),
        n if n >= 1024 => format!("{} KB", (n + 512) / 1024),
        1 => "1 byte".into(),
        n => format!("{n} bytes"),
    }
}

/// The file type from the first bytes of the content.
pub fn sniff(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if head.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some("image/png")
    } else if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        Some("application/zip")
    } else {
        None
    }
}

const ALLOWED: [(&str, &str); 5] = [
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("png", "image/png"),
    ("gif", "image/gif"),
    ("zip", "application/zip"),
];

fn extension(name: &str) -> Option<String> {
    name.rsplit_once('.').map(|(_, ext)| ext.to_ascii_lowercase())
}

/// The name must end in one of the accepted extensions.
pub fn check_name(name: &str) -> Result<(), String> {
    match extension(name) {
        Some(ext) if ALLOWED.iter().any(|(e, _)| *e == ext) => Ok(()),
        _ => Err(format!("{name}: only .jpg, .png, .gif and .zip files can be attached.")),
    }
}

/// The name's extension and the sniffed content agree (a text file renamed .png does not).
pub fn name_fits(name: &str, content_type: &str) -> bool {
    extension(name).is_some_and(|ext| ALLOWED.iter().any(|(e, t)| *e == ext && *t == content_type))
}

/// The last path segment of a client's file name, without control characters; kept
/// only as display text (files are stored under a key of ours).
pub fn clean_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    let cleaned = cleaned.trim().to_string();
    if cleaned.is_empty() { "file".into() } else { cleaned }
}

/// The attachments of some messages, in upload order.
pub fn for_messages(conn: &mut AnyConnection, message_ids: &[i64]) -> AppResult<Vec<Attachment>> {
    Ok(attachments::table
        .filter(attachments::message_id.eq_any(message_ids))
        .order(attachments::id)
        .select(Attachment::as_select())
        .load(conn)?)
}

/// An attachment with the ticket it belongs to (for authorising downloads).
pub fn find_with_ticket(conn: &mut AnyConnection, id: i64) -> AppResult<Option<(Attachment, i64, bool)>> {
    Ok(attachments::table
        .inner_join(messages::table)
        .filter(attachments::id.eq(id))
        .select((Attachment::as_select(), messages::ticket_id, messages::internal))
        .first(conn)
        .optional()?)
}
