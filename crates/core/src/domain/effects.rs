//! What a committed change asks of the running instances, returned with the use
//! case's outcome: wake the live bus (an event was written for the browsers
//! watching), forget the kept lookups (the staff or the quick replies changed).
//!
//! A use case does not reach the instance itself: it returns its effects and the
//! caller that ran it applies them after the commit (`AppState::act` on the
//! server). Other instances hear of the same change through PostgreSQL's
//! `NOTIFY`, sent in the transaction. Both types are `#[must_use]`, so an effect a
//! function produced cannot be dropped on the way up without the compiler saying so.

use std::ops::{BitOr, BitOrAssign};

/// The effects of one change, or of several combined with `|`.
#[must_use = "the instance must hear of the change: return the effects with the outcome"]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Effects {
    live_event: bool,
    lookups_changed: bool,
}

impl Effects {
    /// Nothing for the instance to do.
    pub const NONE: Effects = Effects { live_event: false, lookups_changed: false };
    /// A live event was written: wake this instance's bus.
    pub const LIVE_EVENT: Effects = Effects { live_event: true, lookups_changed: false };
    /// The staff or the quick replies changed: read them again.
    pub const LOOKUPS_CHANGED: Effects = Effects { live_event: false, lookups_changed: true };

    pub fn wakes_live(self) -> bool {
        self.live_event
    }

    pub fn changes_lookups(self) -> bool {
        self.lookups_changed
    }
}

impl BitOr for Effects {
    type Output = Effects;

    fn bitor(self, other: Effects) -> Effects {
        Effects {
            live_event: self.live_event || other.live_event,
            lookups_changed: self.lookups_changed || other.lookups_changed,
        }
    }
}

impl BitOrAssign for Effects {
    fn bitor_assign(&mut self, other: Effects) {
        *self = *self | other;
    }
}

/// A use case's outcome with the effects of the change that made it. The outcome is
/// reached through `into_parts` (or the server's `AppState::act`, which applies the
/// effects), so whoever takes it out holds the effects too.
#[must_use = "a change's effects must be applied: use AppState::act, or into_parts where no instance runs"]
#[derive(Debug, Clone, PartialEq)]
pub struct Acted<T> {
    value: T,
    effects: Effects,
}

impl<T> Acted<T> {
    pub fn new(value: T, effects: Effects) -> Self {
        Acted { value, effects }
    }

    /// An outcome whose change asks nothing of the instances (a refusal, nothing
    /// to do).
    pub fn quiet(value: T) -> Self {
        Acted { value, effects: Effects::NONE }
    }

    pub fn effects(&self) -> Effects {
        self.effects
    }

    /// The outcome, to read before the effects are applied.
    pub fn value(&self) -> &T {
        &self.value
    }

    pub fn into_parts(self) -> (T, Effects) {
        (self.value, self.effects)
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Acted<U> {
        Acted { value: f(self.value), effects: self.effects }
    }

    /// Adds the effects of another change made in the same work.
    pub fn and(self, more: Effects) -> Self {
        Acted { value: self.value, effects: self.effects | more }
    }
}

impl From<Effects> for Acted<()> {
    fn from(effects: Effects) -> Self {
        Acted::new((), effects)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn effects_combine_by_union() {
        let both = Effects::LIVE_EVENT | Effects::LOOKUPS_CHANGED;
        assert!(both.wakes_live() && both.changes_lookups());
        let mut e = Effects::NONE;
        assert!(!e.wakes_live() && !e.changes_lookups());
        e |= Effects::LIVE_EVENT;
        assert_eq!(e, Effects::LIVE_EVENT);
        assert_eq!(Acted::quiet(1).and(Effects::LOOKUPS_CHANGED).into_parts(), (1, Effects::LOOKUPS_CHANGED));
    }
}
