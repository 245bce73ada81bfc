//! The JSON objects of the API, exactly as Affise clients decode them: ticket ids
//! as strings, partner and offer ids as integers, dates as "YYYY-MM-DD HH:MM:SS".
//! Loaded for a whole page at once: a fixed number of queries, none per ticket.

use std::collections::HashMap;
use std::sync::Arc;

use diesel::prelude::*;
use serde::Serialize;
use serde_json::Value;

use crate::db::schema::{affiliates, attachments, messages, offers, smartlinks, users};
use crate::db::{AnyConnection, Stamp, id_in};
use crate::domain::catalogue::Offer;
use crate::domain::states::TicketStatus;
use crate::domain::states::{AffiliateStatus, OfferStatus, Privacy, Role};
use crate::domain::tickets::Ticket;
use crate::error::{AppError, AppResult};

pub use crate::http::stamp::date;

/// Affise writes statuses with spaces: "not active", "on moderation".
fn partner_status(s: AffiliateStatus) -> String {
    s.as_str().replace('_', " ")
}

/// A ticket as the API shows it. Typed rather than built as a JSON tree: a page of a
/// hundred is serialised straight into the response. Fields are in the order a JSON
/// map sorts them, so the bytes are those the untyped objects gave.
#[derive(Serialize)]
pub struct TicketObject {
    attachments: Vec<String>,
    comments: Comments,
    created: String,
    description: String,
    id: String,
    offer: Option<Arc<OfferObject>>,
    partner: Option<Arc<PartnerObject>>,
    smartlink: Option<Arc<SmartlinkObject>>,
    /// Affise knows open and closed: a ticket waiting on the affiliate is open
    /// there, and `pending` says the rest.
    status: TicketStatus,
    pending: bool,
    title: String,
    #[serde(rename = "type")]
    kind: &'static str,
    updated: Option<String>,
}

#[derive(Serialize)]
struct Comments {
    answers: i32,
    unread: i32,
}

#[derive(Serialize)]
struct PartnerObject {
    created_at: String,
    email: String,
    id: i64,
    login: String,
    manager: Option<Arc<ManagerObject>>,
    name: String,
    status: String,
    updated_at: String,
}

#[derive(Serialize)]
struct ManagerObject {
    created_at: String,
    email: String,
    first_name: String,
    id: String,
    last_login_at: Option<String>,
    last_name: String,
    roles: &'static [&'static str],
    #[serde(rename = "type")]
    kind: &'static str,
    updated_at: String,
}

#[derive(Serialize)]
struct OfferObject {
    created_at: String,
    id: i64,
    /// Affise's id of the offer when it came from there, else affdesk's.
    offer_id: String,
    payments: [Payment; 1],
    preview_url: String,
    /// In Affise's words: public, protected, private.
    privacy: &'static str,
    required_approval: bool,
    /// In Affise's words: active, suspended, stopped.
    status: &'static str,
    title: String,
}

/// What an affiliate is paid for the offer, as Affise lists an offer's payments.
#[derive(Serialize)]
struct Payment {
    currency: String,
    payouts: f64,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
struct SmartlinkObject {
    id: i64,
    title: String,
}

/// A manager as read beside an affiliate: id, name, email, role, created, updated,
/// last login.
type ManagerRow = (i64, String, String, Role, Stamp, Stamp, Option<Stamp>);

/// Affise's words for an offer's status.
fn offer_status(s: OfferStatus) -> &'static str {
    match s {
        OfferStatus::Active => "active",
        OfferStatus::Paused => "suspended",
        OfferStatus::Disabled => "stopped",
    }
}

/// An affiliate as its partner object shows it: id, email, login, name, status,
/// created and updated.
type PartnerRow = (i64, String, String, String, AffiliateStatus, Stamp, Stamp);

fn manager_object(row: ManagerRow) -> ManagerObject {
    let (id, name, email, kind, created_at, updated_at, last_login_at) = row;
    let (first, last) = name.split_once(' ').unwrap_or((&name, ""));
    // Affise's role constants.
    let roles: &'static [&'static str] =
        if kind == Role::Admin { &["ROLE_ADMIN", "ROLE_MANAGER_AFFILIATE"] } else { &["ROLE_MANAGER_AFFILIATE"] };
    ManagerObject {
        created_at: date(created_at.0),
        email,
        first_name: first.to_string(),
        id: id.to_string(),
        last_login_at: last_login_at.map(|t| date(t.0)),
        last_name: last.to_string(),
        roles,
        kind: "affiliate_manager",
        updated_at: date(updated_at.0),
    }
}

/// The ticket objects of `tickets`, in the same order, as JSON values.
pub fn tickets(conn: &mut AnyConnection, base: &str, tickets: &[Ticket]) -> AppResult<Vec<Value>> {
    ticket_objects(conn, base, tickets)?.iter().map(|t| serde_json::to_value(t).map_err(AppError::internal)).collect()
}

/// The ticket objects of `tickets`, in the same order: the names and objects they
/// refer to read in one statement each, every affiliate, manager and offer once.
/// Attachment links are absolute, on `base` (the `--public-url`).
pub fn ticket_objects(conn: &mut AnyConnection, base: &str, tickets: &[Ticket]) -> AppResult<Vec<TicketObject>> {
    let pg = conn.is_postgres();
    let distinct = |mut ids: Vec<i64>| {
        ids.sort_unstable();
        ids.dedup();
        ids
    };
    let affiliate_ids = distinct(tickets.iter().map(|t| t.affiliate_id).collect());
    // The affiliates with their managers, in one statement: each manager is built
    // once. Only what the object shows is read (not the password hash).
    let rows: Vec<(PartnerRow, Option<ManagerRow>)> = affiliates::table
        .left_join(users::table.on(affiliates::manager_id.eq(users::id.nullable())))
        .filter(id_in(affiliates::id, &affiliate_ids, pg))
        .select((
            (
                affiliates::id,
                affiliates::email,
                affiliates::login,
                affiliates::name,
                affiliates::status,
                affiliates::created_at,
                affiliates::updated_at,
            ),
            (
                users::id,
                users::name,
                users::email,
                users::kind,
                users::created_at,
                users::updated_at,
                users::last_login_at,
            )
                .nullable(),
        ))
        .load(conn)?;
    let mut managers: HashMap<i64, Arc<ManagerObject>> = HashMap::new();
    let partners: HashMap<i64, Arc<PartnerObject>> = rows
        .into_iter()
        .map(|((id, email, login, name, status, created_at, updated_at), manager)| {
            let manager =
                manager.map(|row| managers.entry(row.0).or_insert_with(|| Arc::new(manager_object(row))).clone());
            let partner = PartnerObject {
                created_at: date(created_at.0),
                email,
                id,
                login,
                manager,
                name,
                status: partner_status(status),
                updated_at: date(updated_at.0),
            };
            (id, Arc::new(partner))
        })
        .collect();
    let offer_ids = distinct(tickets.iter().filter_map(|t| t.offer_id).collect());
    let offers: HashMap<i64, Arc<OfferObject>> = offers::table
        .filter(id_in(offers::id, &offer_ids, pg))
        .select(Offer::as_select())
        .load::<Offer>(conn)?
        .into_iter()
        .map(|o| {
            let object = OfferObject {
                created_at: date(o.created_at),
                id: o.id,
                offer_id: o.affise_id.clone().unwrap_or_else(|| o.id.to_string()),
                payments: [Payment { currency: o.currency.clone(), payouts: o.payout as f64 / 100.0, kind: "fixed" }],
                preview_url: o.preview_url,
                required_approval: o.privacy != Privacy::Public,
                privacy: crate::domain::directory_sync::privacy_to_affise(o.privacy),
                status: offer_status(o.status),
                title: o.title,
            };
            (o.id, Arc::new(object))
        })
        .collect();
    let smartlink_ids = distinct(tickets.iter().filter_map(|t| t.smartlink_id).collect());
    let smartlinks: HashMap<i64, Arc<SmartlinkObject>> = smartlinks::table
        .filter(id_in(smartlinks::id, &smartlink_ids, pg))
        .select((smartlinks::id, smartlinks::name))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .map(|(id, title)| (id, Arc::new(SmartlinkObject { id, title })))
        .collect();
    let ticket_ids: Vec<i64> = tickets.iter().map(|t| t.id).collect();
    let mut files: HashMap<i64, Vec<String>> = HashMap::new();
    for (ticket_id, attachment_id) in attachments::table
        .inner_join(messages::table)
        .filter(id_in(messages::ticket_id, &ticket_ids, pg))
        .order(attachments::id)
        .select((messages::ticket_id, attachments::id))
        .load::<(i64, i64)>(conn)?
    {
        files.entry(ticket_id).or_default().push(format!("{base}/3.0/admin/attachments/{attachment_id}"));
    }
    Ok(tickets
        .iter()
        .map(|t| TicketObject {
            attachments: files.remove(&t.id).unwrap_or_default(),
            comments: Comments { answers: t.manager_answers, unread: t.unread_by_manager },
            created: date(t.created_at),
            description: t.description.clone(),
            id: t.id.to_string(),
            offer: t.offer_id.and_then(|o| offers.get(&o).cloned()),
            partner: partners.get(&t.affiliate_id).cloned(),
            smartlink: t.smartlink_id.and_then(|s| smartlinks.get(&s).cloned()),
            status: if t.status == TicketStatus::Pending { TicketStatus::Open } else { t.status },
            pending: t.status == TicketStatus::Pending,
            title: t.title.clone(),
            kind: t.kind.api_name(),
            updated: t.changed_at().map(date),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Written digit by digit, a date reads as chrono writes it.
        #[test]
        fn dates_as_chrono_writes_them(secs in -70_000_000_000i64..260_000_000_000) {
            if let Some(t) = chrono::DateTime::from_timestamp(secs, 0).map(|d| d.naive_utc()) {
                prop_assert_eq!(date(t), t.format("%Y-%m-%d %H:%M:%S").to_string());
            }
        }
    }
}
