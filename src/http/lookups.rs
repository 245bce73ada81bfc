//! This instance's copy of the lookups (`domain::lookups`): the staff and the quick
//! replies, read once and kept until they change. A change made through this
//! instance is forgotten once it commits (the effect its use case returns, applied
//! by `AppState::act` or the background work that ran it); one made elsewhere is
//! heard through PostgreSQL's `NOTIFY` (`http::live`). A copy is also read again
//! after `FRESH`, for changes nobody announces: the command line on SQLite, or a
//! notification lost while the listener reconnected.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::db::AnyConnection;
use crate::domain::reply_templates::{self, ReplyTemplate};
use crate::domain::users::{User, UserSummary};
use crate::error::AppResult;

/// The longest a copy is used without reading it again.
const FRESH: Duration = Duration::from_secs(10);

#[derive(Default)]
pub struct Lookups {
    /// Counts the changes heard: a copy read before one is not kept.
    changes: AtomicU64,
    staff: Slot<Vec<UserSummary>>,
    templates: Slot<Vec<ReplyTemplate>>,
}

impl Lookups {
    /// The managers and admins, by name.
    pub fn staff(&self, conn: &mut AnyConnection) -> AppResult<Arc<Vec<UserSummary>>> {
        self.kept(&self.staff, || Ok(User::list_staff(conn)?))
    }

    /// The quick replies, by title.
    pub fn templates(&self, conn: &mut AnyConnection) -> AppResult<Arc<Vec<ReplyTemplate>>> {
        self.kept(&self.templates, || Ok(reply_templates::list(conn)?.into_iter().map(|r| r.template).collect()))
    }

    /// Something changed: every copy is read again when next asked for.
    pub fn forget(&self) {
        self.changes.fetch_add(1, Ordering::AcqRel);
    }

    fn kept<T>(&self, slot: &Slot<T>, read: impl FnOnce() -> AppResult<T>) -> AppResult<Arc<T>> {
        let changes = self.changes.load(Ordering::Acquire);
        if let Some(copy) = slot.get(changes) {
            return Ok(copy);
        }
        let value = Arc::new(read()?);
        // A change heard while reading may not be in what was read: used once, not kept.
        if self.changes.load(Ordering::Acquire) == changes {
            slot.set(changes, value.clone());
        }
        Ok(value)
    }
}

/// One kept copy: when it was read, and how many changes had been heard then.
struct Slot<T>(Mutex<Option<(Instant, u64, Arc<T>)>>);

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Slot(Mutex::new(None))
    }
}

impl<T> Slot<T> {
    fn get(&self, changes: u64) -> Option<Arc<T>> {
        // A panic elsewhere while holding the lock leaves a whole value or none.
        let kept = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match &*kept {
            Some((read_at, seen, value)) if *seen == changes && read_at.elapsed() < FRESH => Some(value.clone()),
            _ => None,
        }
    }

    fn set(&self, changes: u64, value: Arc<T>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), changes, value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reads(lookups: &Lookups, slot: &Slot<u32>, n: &mut u32) -> u32 {
        *lookups
            .kept(slot, || {
                *n += 1;
                Ok(*n)
            })
            .unwrap()
    }

    #[test]
    fn a_copy_is_kept_until_a_change_is_heard() {
        let (lookups, slot, mut n) = (Lookups::default(), Slot::default(), 0);
        assert_eq!(reads(&lookups, &slot, &mut n), 1);
        assert_eq!(reads(&lookups, &slot, &mut n), 1, "kept");
        lookups.forget();
        assert_eq!(reads(&lookups, &slot, &mut n), 2, "read again after the change");
        assert_eq!(reads(&lookups, &slot, &mut n), 2);
    }

    #[test]
    fn a_copy_read_across_a_change_is_not_kept() {
        let (lookups, slot) = (Lookups::default(), Slot::<u32>::default());
        let first = lookups
            .kept(&slot, || {
                // The change commits and is heard while this read is under way.
                lookups.forget();
                Ok(1)
            })
            .unwrap();
        assert_eq!(*first, 1, "the caller still gets what it read");
        assert_eq!(*lookups.kept(&slot, || Ok(2)).unwrap(), 2, "but the next caller reads again");
        assert_eq!(*lookups.kept(&slot, || Ok(3)).unwrap(), 2, "and that copy is kept");
    }

    #[test]
    fn a_copy_is_read_again_when_it_is_old() {
        let (lookups, slot) = (Lookups::default(), Slot::<u32>::default());
        lookups.kept(&slot, || Ok(1)).unwrap();
        // Made old by hand rather than by waiting.
        if let Some((read_at, _, _)) = slot.0.lock().unwrap().as_mut() {
            *read_at = read_at.checked_sub(FRESH).unwrap();
        }
        assert_eq!(*lookups.kept(&slot, || Ok(2)).unwrap(), 2);
    }
}
