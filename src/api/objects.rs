//! The JSON objects of the API, exactly as Affise clients decode them: ticket ids
//! as strings, partner and offer ids as integers, dates as "YYYY-MM-DD HH:MM:SS".
//! Loaded for a whole page at once: a fixed number of queries, none per ticket.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::db::AnyConnection;
use crate::db::schema::{affiliates, attachments, messages, offers, users};
use crate::domain::affiliates::Affiliate;
use crate::domain::catalogue::Offer;
use crate::domain::states::{AffiliateStatus, Privacy, Role};
use crate::domain::tickets::Ticket;
use crate::error::AppResult;

pub fn date(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// Affise writes statuses with spaces: "not active", "on moderation".
fn partner_status(s: AffiliateStatus) -> String {
    s.as_str().replace('_', " ")
}

fn manager_object(id: i64, name: &str, email: &str, kind: Role) -> Value {
    let (first, last) = name.split_once(' ').unwrap_or((name, ""));
    json!({
        "id": id.to_string(),
        "first_name": first,
        "last_name": last,
        "email": email,
        "type": "affiliate_manager",
        "roles": if kind == Role::Admin { vec!["admin", "affiliate_manager"] } else { vec!["affiliate_manager"] },
    })
}

fn partner_object(a: &Affiliate, manager: Option<Value>) -> Value {
    json!({
        "id": a.id,
        "email": a.email,
        "login": a.login,
        "name": a.name,
        "status": partner_status(a.status),
        "created_at": date(a.created_at),
        "updated_at": date(a.updated_at),
        "manager": manager.unwrap_or(Value::Null),
    })
}

fn offer_object(o: &Offer) -> Value {
    json!({
        "id": o.id,
        "offer_id": o.id.to_string(),
        "title": o.title,
        "privacy": o.privacy,
        "required_approval": o.privacy != Privacy::Public,
        "preview_url": o.preview_url,
    })
}

/// The ticket objects of `tickets`, in the same order.
pub fn tickets(conn: &mut AnyConnection, tickets: &[Ticket]) -> AppResult<Vec<Value>> {
    let affiliate_ids: Vec<i64> = tickets.iter().map(|t| t.affiliate_id).collect();
    let partners: HashMap<i64, Affiliate> = affiliates::table
        .filter(affiliates::id.eq_any(&affiliate_ids))
        .select(Affiliate::as_select())
        .load::<Affiliate>(conn)?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    let manager_ids: Vec<i64> = partners.values().filter_map(|a| a.manager_id).collect();
    let managers: HashMap<i64, Value> = users::table
        .filter(users::id.eq_any(&manager_ids))
        .select((users::id, users::name, users::email, users::kind))
        .load::<(i64, String, String, Role)>(conn)?
        .into_iter()
        .map(|(id, name, email, kind)| (id, manager_object(id, &name, &email, kind)))
        .collect();
    let offer_ids: Vec<i64> = tickets.iter().filter_map(|t| t.offer_id).collect();
    let offer_objects: HashMap<i64, Value> = offers::table
        .filter(offers::id.eq_any(&offer_ids))
        .select(Offer::as_select())
        .load::<Offer>(conn)?
        .iter()
        .map(|o| (o.id, offer_object(o)))
        .collect();
    let ticket_ids: Vec<i64> = tickets.iter().map(|t| t.id).collect();
    let mut files: HashMap<i64, Vec<String>> = HashMap::new();
    for (ticket_id, attachment_id) in attachments::table
        .inner_join(messages::table)
        .filter(messages::ticket_id.eq_any(&ticket_ids))
        .order(attachments::id)
        .select((messages::ticket_id, attachments::id))
        .load::<(i64, i64)>(conn)?
    {
        files.entry(ticket_id).or_default().push(format!("/3.0/admin/attachments/{attachment_id}"));
    }
    Ok(tickets
        .iter()
        .map(|t| {
            let partner = partners
                .get(&t.affiliate_id)
                .map(|a| partner_object(a, a.manager_id.and_then(|m| managers.get(&m).cloned())));
            json!({
                "id": t.id.to_string(),
                "status": t.status,
                "type": t.kind.api_name(),
                "title": t.title,
                "description": t.description,
                "created": date(t.created_at),
                "updated": t.changed_at().map(date),
                "attachments": files.remove(&t.id).unwrap_or_default(),
                "comments": { "answers": t.manager_answers, "unread": t.unread_by_manager },
                "partner": partner.unwrap_or(Value::Null),
                "offer": t.offer_id.and_then(|o| offer_objects.get(&o).cloned()).unwrap_or(Value::Null),
            })
        })
        .collect())
}
