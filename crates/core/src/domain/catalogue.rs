//! Offers and Smartlinks: what affiliates may request access to.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::states::{OfferStatus, Privacy};
use crate::db::AnyConnection;
use crate::db::schema::{offers, smartlinks};
use crate::error::DomainResult;

#[derive(Queryable, Selectable, Identifiable, Debug, Clone, PartialEq)]
#[diesel(table_name = offers)]
pub struct Offer {
    pub id: i64,
    pub title: String,
    pub privacy: Privacy,
    pub status: OfferStatus,
    /// In cents.
    pub payout: i64,
    pub currency: String,
    pub preview_url: String,
    pub created_at: NaiveDateTime,
    /// The offer's id in the network's Affise, when it came from there.
    pub affise_id: Option<String>,
}

impl Offer {
    pub fn find(conn: &mut AnyConnection, id: i64) -> DomainResult<Option<Offer>> {
        Ok(offers::table.find(id).select(Offer::as_select()).get_result(conn).optional()?)
    }
    /// "12.50 USD".
    pub fn payout_text(&self) -> String {
        format!("{} {}", money(self.payout), self.currency)
    }
}

#[derive(Queryable, Selectable, Identifiable, Debug, Clone, PartialEq)]
#[diesel(table_name = smartlinks)]
pub struct Smartlink {
    pub id: i64,
    pub name: String,
    pub privacy: Privacy,
    pub created_at: NaiveDateTime,
    pub affise_id: Option<String>,
}

impl Smartlink {
    pub fn find(conn: &mut AnyConnection, id: i64) -> DomainResult<Option<Smartlink>> {
        Ok(smartlinks::table.find(id).select(Smartlink::as_select()).get_result(conn).optional()?)
    }
}

/// Cents as "1,234.50".
pub fn money(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.abs();
    let whole = c / 100;
    let digits = whole.to_string();
    let mut grouped = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    format!("{sign}{grouped}.{:02}", c % 100)
}
