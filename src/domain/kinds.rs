//! The words of a ticket: its type, status and request state, as stored, shown and
//! named by the Affise API.

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TicketKind {
    General,
    Financial,
    Technical,
    Other,
    OfferRequest,
    SmartlinkRequest,
}

impl TicketKind {
    pub const ALL: [TicketKind; 6] = [
        TicketKind::General,
        TicketKind::Financial,
        TicketKind::Technical,
        TicketKind::Other,
        TicketKind::OfferRequest,
        TicketKind::SmartlinkRequest,
    ];

    /// The questions an affiliate or manager can open by hand (requests have their own flow).
    pub const QUESTIONS: [TicketKind; 4] =
        [TicketKind::General, TicketKind::Financial, TicketKind::Technical, TicketKind::Other];

    pub fn as_str(self) -> &'static str {
        match self {
            TicketKind::General => "general",
            TicketKind::Financial => "financial",
            TicketKind::Technical => "technical",
            TicketKind::Other => "other",
            TicketKind::OfferRequest => "offer_request",
            TicketKind::SmartlinkRequest => "smartlink_request",
        }
    }

    pub fn parse(s: &str) -> Option<TicketKind> {
        TicketKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The API calls `general` "common".
    pub fn api_name(self) -> &'static str {
        match self {
            TicketKind::General => "common",
            other => other.as_str(),
        }
    }

    pub fn parse_api(s: &str) -> Option<TicketKind> {
        if s == "common" {
            Some(TicketKind::General)
        } else {
            TicketKind::parse(s).filter(|k| *k != TicketKind::General)
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
}

pub fn kind_label(s: &str) -> &'static str {
    TicketKind::parse(s).map(|k| k.label()).unwrap_or("Unknown")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TicketStatus {
    Open,
    Closed,
}

impl TicketStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TicketStatus::Open => "open",
            TicketStatus::Closed => "closed",
        }
    }
    pub fn parse(s: &str) -> Option<TicketStatus> {
        match s {
            "open" => Some(TicketStatus::Open),
            "closed" => Some(TicketStatus::Closed),
            _ => None,
        }
    }
}

/// "Opened" / "Closed", as Affise shows them.
pub fn status_label(s: &str) -> &'static str {
    match s {
        "open" => "Opened",
        "closed" => "Closed",
        _ => "Unknown",
    }
}

pub fn request_state_label(s: &str) -> &'static str {
    match s {
        "pending" => "Pending",
        "approved" => "Approved",
        "rejected" => "Rejected",
        _ => "Unknown",
    }
}
