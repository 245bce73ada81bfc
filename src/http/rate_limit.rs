//! Requests per API key and minute. Counted per instance: behind a load balancer of
//! N instances a key gets up to N times the limit, which keeps the limit's purpose
//! (no client can flood the desk) without a shared counter on every request.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::AppError;

pub struct RateLimiter {
    per_minute: u32,
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

const WINDOW: Duration = Duration::from_secs(60);

impl RateLimiter {
    pub fn new(per_minute: u32) -> RateLimiter {
        RateLimiter { per_minute, windows: Mutex::new(HashMap::new()) }
    }

    /// Counts one request of `key`; refuses it with the seconds to wait when the
    /// key has used its minute.
    pub fn check(&self, key: &str) -> Result<(), AppError> {
        let now = Instant::now();
        let id = crate::domain::secrets::hash_api_key(key);
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if windows.len() > 100_000 {
            windows.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let entry = windows.entry(id).or_insert((now, 0));
        if now.duration_since(entry.0) >= WINDOW {
            *entry = (now, 0);
        }
        if entry.1 >= self.per_minute {
            let wait = WINDOW.saturating_sub(now.duration_since(entry.0)).as_secs().max(1);
            return Err(AppError::TooManyRequests { retry_after_secs: wait });
        }
        entry.1 += 1;
        Ok(())
    }
}
