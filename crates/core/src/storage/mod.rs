//! Attachment storage behind one small trait; a local folder by default. Files are
//! written under a temporary name and moved into place only after the database row
//! commits, so a failed request leaves neither a file nor a row.

pub mod s3;

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// A file received into the store's temporary area and checked; deleted on drop
/// unless a use case moved it into place.
#[derive(Debug)]
pub struct TempFile {
    pub path: PathBuf,
    /// The client's name, cleaned: display text only.
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

pub trait AttachmentStore: Send + Sync {
    /// A fresh temporary file to stream an upload into, and its path.
    fn create_temp(&self) -> io::Result<(PathBuf, File)>;
    /// Moves a finished temporary file to its permanent key.
    fn commit(&self, temp: &Path, key: &str) -> io::Result<()>;
    /// Opens a stored file for reading, as a stream of its bytes.
    fn open(&self, key: &str) -> io::Result<Box<dyn Read + Send>>;
    /// Deletes a stored file; a missing file is not an error.
    fn delete(&self, key: &str) -> io::Result<()>;
    /// Removes what a crash can leave behind: temporary files, and stored files no
    /// row names (`known` says which keys rows name). Only files older than `age`
    /// go, so an upload in flight on another instance keeps its file. Returns how
    /// many were removed.
    fn sweep(&self, known: &dyn Fn(&str) -> bool, age: std::time::Duration) -> io::Result<usize>;
    /// Whether the store answers (for `/healthz`).
    fn check(&self) -> io::Result<()>;
}

/// Keys are ours (hex), but never let one name a path outside the store.
pub(crate) fn check_key(key: &str) -> io::Result<()> {
    if key.len() < 4 || !key.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "bad storage key"));
    }
    Ok(())
}

/// The local folder every store receives uploads in before they are checked.
pub struct LocalTemps {
    dir: PathBuf,
}

impl LocalTemps {
    pub fn new(dir: PathBuf) -> io::Result<LocalTemps> {
        std::fs::create_dir_all(&dir)?;
        Ok(LocalTemps { dir })
    }

    pub fn create(&self) -> io::Result<(PathBuf, File)> {
        let path = self.dir.join(format!("{}.part", temp_name()));
        let file = std::fs::OpenOptions::new().write(true).create_new(true).open(&path)?;
        Ok((path, file))
    }

    /// Removes temporary files older than `age` (an upload in flight is younger).
    pub fn sweep(&self, age: std::time::Duration) -> io::Result<usize> {
        let mut removed = 0;
        for entry in std::fs::read_dir(&self.dir)?.flatten() {
            let old = std::fs::metadata(entry.path())
                .and_then(|m| m.modified())
                .is_ok_and(|t| t.elapsed().is_ok_and(|e| e >= age));
            if old && std::fs::remove_file(entry.path()).is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }
}

/// Files in `<data-dir>/attachments/<k0k1>/<key>`, temporaries in `.../tmp`.
pub struct LocalStore {
    root: PathBuf,
    temps: LocalTemps,
}

impl LocalStore {
    pub fn new(root: PathBuf) -> io::Result<LocalStore> {
        let temps = LocalTemps::new(root.join("tmp"))?;
        Ok(LocalStore { root, temps })
    }

    fn path(&self, key: &str) -> io::Result<PathBuf> {
        check_key(key)?;
        Ok(self.root.join(&key[..2]).join(key))
    }
}

impl AttachmentStore for LocalStore {
    fn create_temp(&self) -> io::Result<(PathBuf, File)> {
        self.temps.create()
    }

    fn commit(&self, temp: &Path, key: &str) -> io::Result<()> {
        let target = self.path(key)?;
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::rename(temp, target)
    }

    fn open(&self, key: &str) -> io::Result<Box<dyn Read + Send>> {
        Ok(Box::new(File::open(self.path(key)?)?))
    }

    fn delete(&self, key: &str) -> io::Result<()> {
        match std::fs::remove_file(self.path(key)?) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }

    fn sweep(&self, known: &dyn Fn(&str) -> bool, age: std::time::Duration) -> io::Result<usize> {
        let old = |path: &Path| {
            std::fs::metadata(path).and_then(|m| m.modified()).is_ok_and(|t| t.elapsed().is_ok_and(|e| e >= age))
        };
        let mut removed = self.temps.sweep(age)?;
        for dir in std::fs::read_dir(&self.root)?.flatten() {
            if dir.file_name() == "tmp" || !dir.path().is_dir() {
                continue;
            }
            for file in std::fs::read_dir(dir.path())?.flatten() {
                let key = file.file_name().to_string_lossy().to_string();
                if !known(&key) && old(&file.path()) && std::fs::remove_file(file.path()).is_ok() {
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }

    fn check(&self) -> io::Result<()> {
        std::fs::read_dir(&self.root).map(|_| ())
    }
}

/// A name no other temporary file has: 16 random bytes in hex.
fn temp_name() -> String {
    use rand::RngCore;
    let mut buf = [0u8; 16];
    rand::rng().fill_bytes(&mut buf);
    hex::encode(buf)
}
