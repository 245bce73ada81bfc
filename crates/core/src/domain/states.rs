//! The closed sets of the desk (a ticket's type, status and request state, who wrote
//! a message, how private an offer is, ...) as enums. They are stored in the same
//! text columns as always, read and written through Diesel as these types, and
//! parsed once at the edge: an unknown word is an error there, never a silently
//! different meaning further in.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Text;

use crate::db::Db;

/// Declares an enum stored as text: its variants with their stored word, the list of
/// all of them, and the Diesel conversions from and to the text column.
macro_rules! stored_as_text {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $word:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord,
            diesel::AsExpression, diesel::FromSqlRow, serde::Serialize, serde::Deserialize,
        )]
        #[diesel(sql_type = Text)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $word)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The word stored in the database and used in forms and URLs.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $word),+
                }
            }

            pub fn parse(s: &str) -> Option<$name> {
                match s {
                    $($word => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                // `pad`, so widths and alignment (`{:<7}`) apply.
                f.pad(self.as_str())
            }
        }

        impl FromSql<Text, Db> for $name {
            fn from_sql(bytes: <Db as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                let word = <String as FromSql<Text, Db>>::from_sql(bytes)?;
                $name::parse(&word)
                    .ok_or_else(|| format!("unknown {} {word:?} in the database", stringify!($name)).into())
            }
        }

        impl ToSql<Text, Db> for $name {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Db>) -> serialize::Result {
                <str as ToSql<Text, Db>>::to_sql(self.as_str(), out)
            }
        }

        // Lists of values (`IN`, `= ANY`) are bound per backend.
        impl ToSql<Text, diesel::pg::Pg> for $name {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, diesel::pg::Pg>) -> serialize::Result {
                <str as ToSql<Text, diesel::pg::Pg>>::to_sql(self.as_str(), out)
            }
        }

        impl ToSql<Text, diesel::sqlite::Sqlite> for $name {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, diesel::sqlite::Sqlite>) -> serialize::Result {
                <str as ToSql<Text, diesel::sqlite::Sqlite>>::to_sql(self.as_str(), out)
            }
        }
    };
}

stored_as_text!(
    /// What a ticket is about. The API calls `general` "common".
    TicketKind {
        General = "general",
        Financial = "financial",
        Technical = "technical",
        Other = "other",
        OfferRequest = "offer_request",
        SmartlinkRequest = "smartlink_request",
    }
);

impl TicketKind {
    /// The questions an affiliate or manager can open by hand (requests have their own flow).
    pub const QUESTIONS: [TicketKind; 4] =
        [TicketKind::General, TicketKind::Financial, TicketKind::Technical, TicketKind::Other];

    /// The API calls `general` "common".
    pub fn api_name(self) -> &'static str {
        match self {
            TicketKind::General => "common",
            other => other.as_str(),
        }
    }

    /// The API's word, or the panel's: `common` and `general` both mean a general question.
    pub fn parse_any(s: &str) -> Option<TicketKind> {
        match s {
            "common" => Some(TicketKind::General),
            // Affise documents payment requests as a ticket type: they are financial questions.
            "payment_request" => Some(TicketKind::Financial),
            _ => TicketKind::parse(s),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            TicketKind::General => "General question",
            TicketKind::Financial => "Financial question",
            TicketKind::Technical => "Technical question",
            TicketKind::Other => "Other",
            TicketKind::OfferRequest => "Offer request",
            TicketKind::SmartlinkRequest => "Smartlink request",
        }
    }

    pub fn is_request(self) -> bool {
        matches!(self, TicketKind::OfferRequest | TicketKind::SmartlinkRequest)
    }

    pub fn is_question(self) -> bool {
        !self.is_request()
    }
}

stored_as_text!(
    TicketStatus {
        Open = "open",
        Closed = "closed",
        /// Answered, waiting on the affiliate: back to open when they reply, closed
        /// after a while without a reply (`--pending-close-days`).
        Pending = "pending",
    }
);

impl TicketStatus {
    /// "Opened" / "Closed", as Affise shows them.
    pub fn label(self) -> &'static str {
        match self {
            TicketStatus::Open => "Opened",
            TicketStatus::Closed => "Closed",
            TicketStatus::Pending => "Waiting on the affiliate",
        }
    }

    /// The same status in the affiliate's words.
    pub fn affiliate_label(self) -> &'static str {
        match self {
            TicketStatus::Pending => "Waiting for your reply",
            other => other.label(),
        }
    }
}

stored_as_text!(
    /// Where an access request (an offer or Smartlink request ticket) stands.
    RequestState {
        Pending = "pending",
        Approved = "approved",
        Rejected = "rejected",
    }
);

impl RequestState {
    pub fn label(self) -> &'static str {
        match self {
            RequestState::Pending => "Pending",
            RequestState::Approved => "Approved",
            RequestState::Rejected => "Rejected",
        }
    }
}

stored_as_text!(
    /// Who wrote a message of a thread.
    AuthorKind {
        Manager = "manager",
        Affiliate = "affiliate",
        /// Decisions and other records the desk writes itself.
        System = "system",
    }
);

stored_as_text!(
    /// How an offer or Smartlink is shared with affiliates.
    Privacy {
        Public = "public",
        Premoderated = "premoderated",
        Private = "private",
    }
);

stored_as_text!(
    /// An affiliate's row in `offer_access` / `smartlink_access`.
    AccessGrant {
        Enabled = "enabled",
        Disabled = "disabled",
    }
);

stored_as_text!(
    /// What set an access row: a manager by hand, or an approved request ticket.
    AccessSource {
        Manual = "manual",
        Ticket = "ticket",
        /// Read from the network's Affise by the directory sync.
        Affise = "affise",
        /// From a CSV import.
        Import = "import",
    }
);

stored_as_text!(
    /// What an access decision asks of Affise (domain/affise_push.rs).
    PushAction {
        Enable = "enable",
        Disable = "disable",
    }
);

stored_as_text!(
    /// Where a push to Affise stands.
    PushState {
        Pending = "pending",
        Done = "done",
        /// Attempts used up: shown, and sent again on "Retry now".
        Failed = "failed",
        /// A later decision on the same offer and affiliate replaced it before it was sent.
        Superseded = "superseded",
    }
);

stored_as_text!(
    /// What an emailed account link is for (domain/accounts.rs).
    TokenPurpose {
        Invite = "invite",
        Reset = "reset",
        /// Lets the owner of an account locked by failed logins log in with their password.
        Unlock = "unlock",
    }
);

stored_as_text!(
    /// What a live event tells the browsers watching a list or a thread.
    LiveKind {
        /// The ticket changed: a message, a status, a decision.
        Ticket = "ticket",
        /// Someone is typing a reply.
        Typing = "typing",
    }
);

stored_as_text!(
    /// Who acted, as audit entries and live events record it.
    ActorKind {
        User = "user",
        Affiliate = "affiliate",
        /// The desk itself: the command line, the periodic chores, the directory sync.
        System = "system",
    }
);

stored_as_text!(
    /// What an audit entry records.
    AuditAction {
        Create = "create",
        Reply = "reply",
        Note = "note",
        Close = "close",
        Reopen = "reopen",
        /// "Send and wait": the ticket waits on the affiliate.
        Wait = "wait",
        Approve = "approve",
        Reject = "reject",
        Assign = "assign",
        Remove = "remove",
        GrantAccess = "grant_access",
        RevokeAccess = "revoke_access",
        AddUser = "add_user",
        DisableUser = "disable_user",
        EnableUser = "enable_user",
        /// A manager let see every queue, or no longer.
        Queues = "queues",
        HandOver = "hand_over",
        Cover = "cover",
        CoverEnded = "cover_ended",
        AddAffiliate = "add_affiliate",
        EditAffiliate = "edit_affiliate",
        DisableAffiliate = "disable_affiliate",
        EnableAffiliate = "enable_affiliate",
        AffiliateRemovedInAffise = "affiliate_removed_in_affise",
        AddOffer = "add_offer",
        EditOffer = "edit_offer",
        AddSmartlink = "add_smartlink",
        EditSmartlink = "edit_smartlink",
        Invite = "invite",
        SetPassword = "set_password",
        Import = "import",
    }
);

stored_as_text!(
    /// The kinds of email, each of which a person can switch off on their profile.
    MailEvent {
        /// An affiliate opened a ticket (a question or an access request): to their manager.
        NewTicket = "new_ticket",
        /// An affiliate replied: to their manager.
        AffiliateReply = "affiliate_reply",
        /// A manager replied: to the affiliate.
        ManagerReply = "manager_reply",
        /// A manager opened a ticket for the affiliate: to the affiliate.
        TicketForYou = "ticket_for_you",
        /// A manager closed the ticket: to the affiliate.
        TicketClosed = "ticket_closed",
        /// An access request was approved or rejected: to the affiliate.
        RequestDecided = "request_decided",
        /// An account was made for someone: the link to set their password.
        Invitation = "invitation",
        /// Someone asked to reset their password: the link to set a new one.
        PasswordReset = "password_reset",
        /// The account is locked by failed logins: the link that lets its owner log in.
        LoginUnlock = "login_unlock",
    }
);

stored_as_text!(
    /// Where an email stands in the outbox.
    OutboxState {
        Pending = "pending",
        Sent = "sent",
        /// Given up after its attempts; shown to admins on the Outbox page.
        Failed = "failed",
    }
);

stored_as_text!(
    /// Whose account: a user of the admin panel or an affiliate.
    AccountKind {
        User = "user",
        Affiliate = "affiliate",
    }
);

stored_as_text!(
    OfferStatus {
        Active = "active",
        Paused = "paused",
        Disabled = "disabled",
    }
);

stored_as_text!(
    /// The statuses of Affise.
    AffiliateStatus {
        Active = "active",
        NotActive = "not_active",
        Banned = "banned",
        OnModeration = "on_moderation",
    }
);

impl AffiliateStatus {
    pub fn label(self) -> &'static str {
        match self {
            AffiliateStatus::Active => "Active",
            AffiliateStatus::NotActive => "Not active",
            AffiliateStatus::Banned => "Banned",
            AffiliateStatus::OnModeration => "On moderation",
        }
    }
}

stored_as_text!(
    /// The kinds of users of the admin panel.
    Role {
        Admin = "admin",
        Manager = "manager",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_parses_back() {
        for k in TicketKind::ALL {
            assert_eq!(TicketKind::parse(k.as_str()), Some(*k));
            assert_eq!(TicketKind::parse_any(k.api_name()), Some(*k));
        }
        for s in AffiliateStatus::ALL {
            assert_eq!(AffiliateStatus::parse(s.as_str()), Some(*s));
        }
        assert_eq!(TicketStatus::parse("Open"), None);
        assert_eq!(TicketKind::parse("common"), None);
    }
}
