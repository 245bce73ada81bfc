//! Attachments in S3-compatible object storage (`--storage s3://bucket?endpoint=...`),
//! for several instances behind a load balancer. Uploads arrive in a local
//! temporary file as with the folder store, are checked there, and are sent on as
//! one streamed PUT to a signed URL when their row commits; downloads stream back
//! in chunks. Neither holds a whole file in memory.
//!
//! The store's calls are blocking (they run on the database's blocking threads,
//! inside its transaction); it drives its own small async runtime for them.

use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use object_store::ObjectStore;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as ObjectPath;
use object_store::signer::Signer;

use super::{AttachmentStore, LocalTemps};

/// Where objects live: `s3://bucket/optional/prefix?endpoint=http://host:port&region=us-east-1`.
/// Credentials come from the usual `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`
/// (and `AWS_SESSION_TOKEN`) variables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3Location {
    pub bucket: String,
    pub prefix: String,
    pub endpoint: Option<String>,
    pub region: String,
}

impl S3Location {
    pub fn parse(spec: &str) -> Result<S3Location, String> {
        let url = url::Url::parse(spec).map_err(|e| format!("bad --storage {spec:?}: {e}"))?;
        if url.scheme() != "s3" {
            return Err(format!("bad --storage {spec:?}: use s3://bucket?endpoint=... or leave it out"));
        }
        let bucket = url.host_str().filter(|b| !b.is_empty()).ok_or("--storage s3:// needs a bucket name")?;
        let mut location = S3Location {
            bucket: bucket.to_string(),
            prefix: url.path().trim_matches('/').to_string(),
            endpoint: None,
            region: std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".into()),
        };
        for (k, v) in url.query_pairs() {
            match k.as_ref() {
                "endpoint" => location.endpoint = Some(v.to_string()),
                "region" => location.region = v.to_string(),
                other => return Err(format!("bad --storage: unknown setting {other:?} (endpoint, region)")),
            }
        }
        Ok(location)
    }
}

pub struct S3Store {
    s3: Arc<AmazonS3>,
    prefix: String,
    temps: LocalTemps,
    http: reqwest::Client,
    /// Taken only when the store is dropped.
    runtime: Option<tokio::runtime::Runtime>,
}

/// How long a signed upload URL is good for: longer than a 5 MB PUT takes.
const SIGNED_FOR: Duration = Duration::from_secs(300);

impl S3Store {
    /// Connects to the bucket and checks it answers; temporary files go under `temp_root`.
    pub fn open(location: &S3Location, temp_root: PathBuf) -> Result<S3Store, String> {
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(&location.bucket)
            .with_region(&location.region)
            .with_virtual_hosted_style_request(false);
        if let Some(endpoint) = &location.endpoint {
            builder = builder.with_endpoint(endpoint).with_allow_http(endpoint.starts_with("http://"));
        }
        let s3 = builder.build().map_err(|e| format!("cannot use the S3 bucket {}: {e}", location.bucket))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("s3")
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let temps = LocalTemps::new(temp_root).map_err(|e| format!("cannot create the temporary folder: {e}"))?;
        let http = reqwest::Client::builder().timeout(Duration::from_secs(120)).build().map_err(|e| e.to_string())?;
        let store = S3Store { s3: Arc::new(s3), prefix: location.prefix.clone(), temps, http, runtime: Some(runtime) };
        store.check().map_err(|e| format!("the S3 bucket {} does not answer: {e}", location.bucket))?;
        Ok(store)
    }

    fn object(&self, key: &str) -> io::Result<ObjectPath> {
        super::check_key(key)?;
        Ok(if self.prefix.is_empty() {
            ObjectPath::from(format!("{}/{key}", &key[..2]))
        } else {
            ObjectPath::from(format!("{}/{}/{key}", self.prefix, &key[..2]))
        })
    }

    fn rt(&self) -> io::Result<&tokio::runtime::Runtime> {
        self.runtime.as_ref().ok_or_else(|| io_error("the S3 store is closing"))
    }

    /// Runs `f` to completion on the store's runtime. Called from async code (at
    /// start, or a sweep), it blocks a helper thread instead of the caller's.
    fn run<F>(&self, f: F) -> io::Result<F::Output>
    where
        F: std::future::Future + Send,
        F::Output: Send,
    {
        let rt = self.rt()?;
        if tokio::runtime::Handle::try_current().is_err() {
            return Ok(rt.block_on(f));
        }
        std::thread::scope(|scope| scope.spawn(|| rt.block_on(f)).join())
            .map_err(|_| io_error("an S3 call failed unexpectedly"))
    }

    fn prefix_path(&self) -> Option<ObjectPath> {
        (!self.prefix.is_empty()).then(|| ObjectPath::from(self.prefix.as_str()))
    }
}

fn io_error(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

impl AttachmentStore for S3Store {
    fn create_temp(&self) -> io::Result<(PathBuf, std::fs::File)> {
        self.temps.create()
    }

    /// One PUT of the whole file, streamed from the temporary file to a signed URL.
    fn commit(&self, temp: &Path, key: &str) -> io::Result<()> {
        let object = self.object(key)?;
        let (s3, http, temp) = (self.s3.clone(), self.http.clone(), temp.to_path_buf());
        self.run(async move {
            let url = s3.signed_url(http::Method::PUT, &object, SIGNED_FOR).await.map_err(io_error)?;
            let file = tokio::fs::File::open(&temp).await?;
            let size = file.metadata().await?.len();
            let body = reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::with_capacity(file, 64 * 1024));
            let resp = http
                .put(url)
                .header(reqwest::header::CONTENT_LENGTH, size)
                .body(body)
                .send()
                .await
                .map_err(io_error)?;
            if !resp.status().is_success() {
                let status = resp.status();
                let text = resp.text().await.unwrap_or_default();
                return Err(io_error(format!("S3 refused the upload ({status}): {}", text.trim())));
            }
            std::fs::remove_file(&temp)?;
            Ok(())
        })?
    }

    fn open(&self, key: &str) -> io::Result<Box<dyn Read + Send>> {
        let object = self.object(key)?;
        let s3 = self.s3.clone();
        // The body arrives in chunks over a small channel: at most a few in memory.
        let (tx, rx) = std::sync::mpsc::sync_channel::<io::Result<bytes::Bytes>>(4);
        let result = match self.run(async { s3.get(&object).await })? {
            Ok(r) => r,
            Err(e @ object_store::Error::NotFound { .. }) => return Err(io::Error::new(io::ErrorKind::NotFound, e)),
            Err(e) => return Err(io_error(e)),
        };
        self.rt()?.spawn_blocking(move || {
            let handle = tokio::runtime::Handle::current();
            let mut stream = result.into_stream();
            while let Some(chunk) = handle.block_on(stream.next()) {
                if tx.send(chunk.map_err(io_error)).is_err() {
                    return;
                }
            }
        });
        Ok(Box::new(ChunkReader { rx, current: bytes::Bytes::new() }))
    }

    fn delete(&self, key: &str) -> io::Result<()> {
        let object = self.object(key)?;
        let s3 = self.s3.clone();
        self.run(async move {
            match s3.delete(&object).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                Err(e) => Err(io_error(e)),
            }
        })?
    }

    fn sweep(&self, known: &dyn Fn(&str) -> bool, age: Duration) -> io::Result<usize> {
        let mut removed = self.temps.sweep(age)?;
        let (s3, prefix) = (self.s3.clone(), self.prefix_path());
        let listed: Vec<object_store::ObjectMeta> = self.run(async move {
            let mut out = Vec::new();
            let mut list = s3.list(prefix.as_ref());
            while let Some(meta) = list.next().await {
                out.push(meta.map_err(io_error)?);
            }
            Ok::<_, io::Error>(out)
        })??;
        let cutoff = chrono::Utc::now() - chrono::Duration::from_std(age).unwrap_or(chrono::Duration::minutes(10));
        for meta in listed {
            let Some(key) = meta.location.filename().map(str::to_string) else { continue };
            if meta.last_modified < cutoff && !known(&key) {
                self.delete(&key)?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    fn check(&self) -> io::Result<()> {
        let (s3, prefix) = (self.s3.clone(), self.prefix_path());
        self.run(async move {
            let mut list = s3.list(prefix.as_ref());
            match list.next().await {
                Some(Err(e)) => Err(io_error(e)),
                _ => Ok(()),
            }
        })?
    }
}

/// `Read` over the chunks a download task sends.
struct ChunkReader {
    rx: std::sync::mpsc::Receiver<io::Result<bytes::Bytes>>,
    current: bytes::Bytes,
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.recv() {
                Ok(chunk) => self.current = chunk?,
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        self.current = self.current.slice(n..);
        Ok(n)
    }
}

impl Drop for S3Store {
    fn drop(&mut self) {
        // The store may be dropped from async code (a server's end): its runtime
        // shuts down in the background rather than blocking there.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
