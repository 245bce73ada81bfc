//! Who is acting, and through which door: decides what a use case lets them see and
//! do, and is written into audit entries.

use super::states::{ActorKind, AffiliateStatus};
use super::tickets::Scope;
use crate::error::{DomainError, DomainResult};

/// Where a request came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    Panel,
    Api,
    CommandLine,
}

impl Via {
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Panel => "panel",
            Via::Api => "api",
            Via::CommandLine => "cli",
        }
    }
}

/// An admin or manager of the admin panel: who, and how far they see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Staff {
    pub id: i64,
    pub name: String,
    pub is_admin: bool,
    /// A manager granted every affiliate's tickets.
    pub sees_all_tickets: bool,
}

impl Staff {
    /// Managers see the tickets of their own affiliates unless granted all.
    pub fn sees_everything(&self) -> bool {
        self.is_admin || self.sees_all_tickets
    }
}

/// A logged-in affiliate, with what the rules ask of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partner {
    pub id: i64,
    pub status: AffiliateStatus,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Who {
    Staff(Staff),
    Affiliate(Partner),
    /// The desk itself (seeding, maintenance).
    System,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub who: Who,
    pub via: Via,
}

impl Actor {
    pub fn staff(staff: Staff, via: Via) -> Actor {
        Actor { who: Who::Staff(staff), via }
    }

    pub fn affiliate(id: i64, status: AffiliateStatus, via: Via) -> Actor {
        Actor { who: Who::Affiliate(Partner { id, status }), via }
    }

    pub fn system() -> Actor {
        Actor { who: Who::System, via: Via::CommandLine }
    }

    /// The tickets this actor may see.
    pub fn scope(&self) -> Scope {
        match &self.who {
            Who::Staff(s) if s.sees_everything() => Scope::All,
            Who::Staff(s) => Scope::Manager(s.id),
            Who::Affiliate(p) => Scope::Affiliate(p.id),
            Who::System => Scope::All,
        }
    }

    /// The staff member acting, or a refusal for anyone else.
    pub fn as_staff(&self) -> DomainResult<&Staff> {
        match &self.who {
            Who::Staff(s) => Ok(s),
            _ => Err(DomainError::not_allowed("Only managers can do this.")),
        }
    }

    /// The command line or a background task, not a person.
    pub fn is_system(&self) -> bool {
        matches!(self.who, Who::System)
    }

    pub fn is_affiliate(&self) -> bool {
        matches!(self.who, Who::Affiliate(_))
    }

    /// The kind written into audit entries.
    pub fn kind(&self) -> ActorKind {
        match self.who {
            Who::Staff(_) => ActorKind::User,
            Who::Affiliate(_) => ActorKind::Affiliate,
            Who::System => ActorKind::System,
        }
    }

    pub fn id(&self) -> Option<i64> {
        match &self.who {
            Who::Staff(s) => Some(s.id),
            Who::Affiliate(p) => Some(p.id),
            Who::System => None,
        }
    }
}
