//! Attachments: which files are accepted (by content, not by name), and their rows.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::actor::Actor;
use super::tickets::Ticket;
use crate::db::AnyConnection;
use crate::db::schema::{attachments, messages};
use crate::error::{DomainError, DomainResult};
use crate::storage::{AttachmentStore, TempFile};

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
    #[diesel(deserialize_as = crate::db::Stamp)]
    pub created_at: NaiveDateTime,
}

impl Attachment {
    /// "1.2 MB", "830 KB", "12 bytes".
    pub fn size_text(&self) -> String {
        human_size(self.size)
    }

    /// A picture, shown as a thumbnail in the thread (checked by content on upload).
    pub fn is_image(&self) -> bool {
        self.content_type.starts_with("image/")
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
    } else if head.starts_with(b"%PDF-") {
        // Invoices. Served as a download, never shown inline: a PDF can carry script.
        Some("application/pdf")
    } else {
        None
    }
}

const ALLOWED: [(&str, &str); 6] = [
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("png", "image/png"),
    ("gif", "image/gif"),
    ("zip", "application/zip"),
    ("pdf", "application/pdf"),
];

fn extension(name: &str) -> Option<String> {
    name.rsplit_once('.').map(|(_, ext)| ext.to_ascii_lowercase())
}

/// The name must end in one of the accepted extensions.
pub fn check_name(name: &str) -> Result<(), String> {
    match extension(name) {
        Some(ext) if ALLOWED.iter().any(|(e, _)| *e == ext) => Ok(()),
        _ => Err(format!("{name}: only .jpg, .png, .gif, .pdf and .zip files can be attached.")),
    }
}

/// The name's extension and the sniffed content agree (a text file renamed .png does not).
pub fn name_fits(name: &str, content_type: &str) -> bool {
    extension(name).is_some_and(|ext| ALLOWED.iter().any(|(e, t)| *e == ext && *t == content_type))
}

/// The last path segment of a client's file name, without control characters or
/// the invisible marks that reorder or hide text (`gnp.exe` shown as `exe.png`),
/// at most 200 characters; kept only as display text (files are stored under a key
/// of ours).
pub fn clean_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let visible: Vec<char> = base.chars().filter(|c| !c.is_control() && !is_invisible_mark(*c)).collect();
    // A long name loses the end of its stem, not its extension.
    let ext_len = visible.iter().rev().position(|c| *c == '.').filter(|n| *n <= 10).map_or(0, |n| n + 1);
    let cleaned: String = if visible.len() > MAX_NAME {
        let stem = &visible[..visible.len() - ext_len];
        stem.iter().take(MAX_NAME - ext_len).chain(&visible[visible.len() - ext_len..]).collect()
    } else {
        visible.into_iter().collect()
    };
    let cleaned = cleaned.trim().to_string();
    if cleaned.is_empty() { "file".into() } else { cleaned }
}

/// The longest file name kept, in characters.
const MAX_NAME: usize = 200;

/// Bidirectional overrides and isolates, zero-width characters and the BOM.
fn is_invisible_mark(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

/// Use case: download an attachment. Staff get the files of the tickets they may
/// see; an affiliate those of their own tickets, never a file of an internal note.
/// Anything else is not found, as if it did not exist.
pub fn for_download(conn: &mut AnyConnection, actor: &Actor, id: i64) -> DomainResult<Attachment> {
    let (attachment, ticket_id, internal): (Attachment, i64, bool) = attachments::table
        .inner_join(messages::table)
        .filter(attachments::id.eq(id))
        .select((Attachment::as_select(), messages::ticket_id, messages::internal))
        .get_result(conn)
        .optional()?
        .ok_or(DomainError::NotFound)?;
    if internal && actor.is_affiliate() {
        return Err(DomainError::NotFound);
    }
    Ticket::find_visible(conn, &actor.scope(), ticket_id)?;
    Ok(attachment)
}

/// A file already received into temporary storage, as its row records it.
#[derive(Clone, Debug)]
pub struct NewAttachment {
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub storage_key: String,
}

/// Runs `f` (a use case's writes, given the rows to record for the received files) in
/// one write transaction and moves the files into place inside it, last, when `f`
/// says it recorded them (`true`; a retried submit records nothing). If anything
/// fails, neither the rows nor the files remain.
pub fn write_with_files<T>(
    conn: &mut AnyConnection,
    store: &dyn AttachmentStore,
    files: Vec<TempFile>,
    f: impl FnOnce(&mut AnyConnection, &[NewAttachment]) -> DomainResult<(T, bool)>,
) -> DomainResult<T> {
    if files.len() > MAX_FILES {
        return Err(DomainError::invalid(format!("At most {MAX_FILES} files can be attached to one message.")));
    }
    let new: Vec<NewAttachment> = files
        .iter()
        .map(|t| NewAttachment {
            file_name: t.file_name.clone(),
            content_type: t.content_type.to_string(),
            size: t.size,
            sha256: t.sha256.clone(),
            storage_key: super::random_token(20),
        })
        .collect();
    let mut moved: Vec<String> = Vec::new();
    let result = crate::db::write_transaction(conn, |conn| {
        let (value, recorded) = f(conn, &new)?;
        if recorded {
            for (temp, meta) in files.iter().zip(&new) {
                store.commit(&temp.path, &meta.storage_key)?;
                moved.push(meta.storage_key.clone());
            }
        }
        Ok::<T, DomainError>(value)
    });
    if result.is_err() {
        for key in &moved {
            let _ = store.delete(key);
        }
    }
    result
}

/// Removes files a crash left behind: temporaries, and stored files that no
/// attachment row names (a process killed between moving a file into place and
/// committing its row). Files younger than `age` stay: they may be in flight.
pub fn sweep_orphans(
    conn: &mut AnyConnection,
    store: &dyn AttachmentStore,
    age: std::time::Duration,
) -> DomainResult<usize> {
    let keys: std::collections::HashSet<String> =
        attachments::table.select(attachments::storage_key).load::<String>(conn)?.into_iter().collect();
    Ok(store.sweep(&|key| keys.contains(key), age)?)
}

/// Deletes the stored files of removed tickets, once their rows are gone for good.
pub fn delete_files(store: &dyn AttachmentStore, keys: &[String]) {
    for key in keys {
        if let Err(e) = store.delete(key) {
            log::warn!("could not delete attachment file {key}: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Whatever a client names a file, what is kept is one short, visible name.
        #[test]
        fn cleaned_names_are_plain(name in any::<String>()) {
            let clean = clean_file_name(&name);
            prop_assert!(!clean.is_empty());
            prop_assert!(clean.chars().count() <= 200);
            prop_assert!(!clean.contains('/') && !clean.contains('\\'));
            prop_assert!(!clean.chars().any(|c| c.is_control() || is_invisible_mark(c)));
        }

        /// A name passes the extension check only if the content would fit it too.
        #[test]
        fn checked_names_have_a_known_extension(name in "[a-z./\\\\]{0,12}\\.(png|PNG|jpg|gif|zip|pdf|exe|svg|html)") {
            let clean = clean_file_name(&name);
            let ok = check_name(&clean).is_ok();
            let ext = clean.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
            prop_assert_eq!(ok, matches!(ext.as_deref(), Some("png" | "jpg" | "jpeg" | "gif" | "zip" | "pdf")));
        }
    }

    #[test]
    fn hostile_names() {
        assert_eq!(clean_file_name("../../etc/passwd.png"), "passwd.png");
        assert_eq!(clean_file_name("a\0b.png"), "ab.png");
        assert_eq!(clean_file_name("photo\u{202E}gnp.exe"), "photognp.exe");
        assert_eq!(clean_file_name(&"x".repeat(1000)).len(), 200);
        assert_eq!(clean_file_name(&format!("{}.png", "x".repeat(1000))), format!("{}.png", "x".repeat(196)));
        assert_eq!(clean_file_name("/"), "file");
        assert!(sniff(b"<svg xmlns").is_none() && sniff(b"<html>").is_none());
    }
}
