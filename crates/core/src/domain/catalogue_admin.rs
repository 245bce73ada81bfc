//! The catalogue as the admin panel keeps it: offers and Smartlinks found by ID,
//! Affise id or name, a page at a time; admins add and edit them. What the fields
//! may hold is checked here and told next to the field.

use std::collections::HashMap;

use diesel::prelude::*;

use super::catalogue::{Offer, Smartlink};
use super::states::AuditAction;
use super::states::{AccessGrant, OfferStatus, Privacy};
use super::ticket_filter::{FieldError, contains_pattern, lower};
use super::{Actor, audit, now};
use crate::db::schema::{affiliates, offer_access, offers, smartlink_access, smartlinks};
use crate::db::{AnyConnection, write_transaction};
use crate::error::{DomainError, DomainResult};

/// Offers or Smartlinks: the two halves of the catalogue share their pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CatalogueKind {
    Offer,
    Smartlink,
}

impl CatalogueKind {
    /// The path under `/admin`: "offers" or "smartlinks".
    pub fn path(self) -> &'static str {
        match self {
            CatalogueKind::Offer => "offers",
            CatalogueKind::Smartlink => "smartlinks",
        }
    }
    pub fn one(self) -> &'static str {
        match self {
            CatalogueKind::Offer => "offer",
            CatalogueKind::Smartlink => "Smartlink",
        }
    }
    pub fn many(self) -> &'static str {
        match self {
            CatalogueKind::Offer => "Offers",
            CatalogueKind::Smartlink => "Smartlinks",
        }
    }
}

/// One offer or Smartlink as the catalogue pages show it.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    pub kind: CatalogueKind,
    pub id: i64,
    pub affise_id: Option<String>,
    pub name: String,
    /// Offers only: Smartlinks have no status.
    pub status: Option<OfferStatus>,
    pub privacy: Privacy,
    /// Offers only, in cents, with the currency.
    pub payout: Option<(i64, String)>,
    pub preview_url: String,
    /// Affiliates the actor may see with access enabled.
    pub with_access: i64,
}

impl Item {
    /// Privacy in Affise's words: public, protected, private.
    pub fn privacy_word(&self) -> &'static str {
        super::directory_sync::privacy_to_affise(self.privacy)
    }
    pub fn payout_text(&self) -> Option<String> {
        self.payout.as_ref().map(|(c, cur)| format!("{} {cur}", super::catalogue::money(*c)))
    }
}

fn from_offer(o: Offer) -> Item {
    Item {
        kind: CatalogueKind::Offer,
        id: o.id,
        affise_id: o.affise_id,
        name: o.title,
        status: Some(o.status),
        privacy: o.privacy,
        payout: Some((o.payout, o.currency)),
        preview_url: o.preview_url,
        with_access: 0,
    }
}

fn from_smartlink(s: Smartlink) -> Item {
    Item {
        kind: CatalogueKind::Smartlink,
        id: s.id,
        affise_id: s.affise_id,
        name: s.name,
        status: None,
        privacy: s.privacy,
        payout: None,
        preview_url: String::new(),
        with_access: 0,
    }
}

pub struct ItemPage {
    pub rows: Vec<Item>,
    pub total: i64,
}

/// Use case: the Offers or Smartlinks page: items matching `text` (an ID, an
/// Affise id or part of the name), newest first, with how many of the actor's
/// affiliates have access to each (one grouped query for the page).
pub fn items_page(
    conn: &mut AnyConnection,
    actor: &Actor,
    kind: CatalogueKind,
    text: &str,
    page: i64,
    per_page: i64,
) -> DomainResult<ItemPage> {
    actor.as_staff()?;
    let text = text.trim().to_string();
    let offset = (page.max(1) - 1).saturating_mul(per_page);
    let (mut rows, total) = match kind {
        CatalogueKind::Offer => {
            let filtered = || {
                let mut q = offers::table.into_boxed();
                if !text.is_empty() {
                    let words = lower(offers::title)
                        .like(contains_pattern(&text))
                        .escape('\\')
                        .or(offers::affise_id.eq(text.clone()));
                    q = match text.parse::<i64>() {
                        Ok(id) => q.filter(offers::id.eq(id).or(words)),
                        Err(_) => q.filter(words),
                    };
                }
                q
            };
            let total: i64 = filtered().count().get_result(conn)?;
            let list: Vec<Offer> = filtered()
                .order(offers::id.desc())
                .limit(per_page)
                .offset(offset)
                .select(Offer::as_select())
                .load(conn)?;
            (list.into_iter().map(from_offer).collect::<Vec<_>>(), total)
        }
        CatalogueKind::Smartlink => {
            let filtered = || {
                let mut q = smartlinks::table.into_boxed();
                if !text.is_empty() {
                    let words = lower(smartlinks::name)
                        .like(contains_pattern(&text))
                        .escape('\\')
                        .or(smartlinks::affise_id.eq(text.clone()));
                    q = match text.parse::<i64>() {
                        Ok(id) => q.filter(smartlinks::id.eq(id).or(words)),
                        Err(_) => q.filter(words),
                    };
                }
                q
            };
            let total: i64 = filtered().count().get_result(conn)?;
            let list: Vec<Smartlink> = filtered()
                .order(smartlinks::id.desc())
                .limit(per_page)
                .offset(offset)
                .select(Smartlink::as_select())
                .load(conn)?;
            (list.into_iter().map(from_smartlink).collect::<Vec<_>>(), total)
        }
    };
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let counts = access_counts(conn, actor, kind, &ids)?;
    for r in &mut rows {
        r.with_access = counts.get(&r.id).copied().unwrap_or(0);
    }
    Ok(ItemPage { rows, total })
}

/// Enabled access per item among the affiliates the actor may see.
fn access_counts(
    conn: &mut AnyConnection,
    actor: &Actor,
    kind: CatalogueKind,
    ids: &[i64],
) -> DomainResult<HashMap<i64, i64>> {
    let manager = match actor.scope() {
        super::tickets::Scope::Manager(m) => Some(m),
        _ => None,
    };
    // Grouped before boxing: a boxed query cannot take GROUP BY.
    macro_rules! counts {
        ($table:ident, $column:ident) => {{
            let q = $table::table
                .inner_join(affiliates::table)
                .filter($table::$column.eq_any(ids))
                .filter($table::state.eq(AccessGrant::Enabled))
                .group_by($table::$column)
                .select(($table::$column, diesel::dsl::count_star()));
            match manager {
                Some(m) => q.filter(affiliates::manager_id.eq(m)).load::<(i64, i64)>(conn)?,
                None => q.load::<(i64, i64)>(conn)?,
            }
        }};
    }
    let rows = match kind {
        CatalogueKind::Offer => counts!(offer_access, offer_id),
        CatalogueKind::Smartlink => counts!(smartlink_access, smartlink_id),
    };
    Ok(rows.into_iter().collect())
}

/// One offer or Smartlink, for any staff member.
pub fn item(conn: &mut AnyConnection, actor: &Actor, kind: CatalogueKind, id: i64) -> DomainResult<Item> {
    actor.as_staff()?;
    let found = match kind {
        CatalogueKind::Offer => Offer::find(conn, id)?.map(from_offer),
        CatalogueKind::Smartlink => {
            smartlinks::table.find(id).select(Smartlink::as_select()).get_result(conn).optional()?.map(from_smartlink)
        }
    };
    let mut item = found.ok_or(DomainError::NotFound)?;
    item.with_access = access_counts(conn, actor, kind, &[id])?.get(&id).copied().unwrap_or(0);
    Ok(item)
}

/// What an admin typed about an offer or a Smartlink. Smartlinks use the name and
/// the privacy only.
#[derive(Clone, Debug, Default)]
pub struct ItemForm {
    pub name: String,
    pub status: String,
    /// In Affise's words: public, protected, private.
    pub privacy: String,
    /// "12.50".
    pub payout: String,
    pub currency: String,
    pub preview_url: String,
}

impl ItemForm {
    pub fn of(item: &Item) -> ItemForm {
        ItemForm {
            name: item.name.clone(),
            status: item.status.map(|s| s.as_str().to_string()).unwrap_or_default(),
            privacy: item.privacy_word().into(),
            payout: item.payout.as_ref().map(|(c, _)| format!("{}.{:02}", c / 100, c % 100)).unwrap_or_default(),
            currency: item.payout.as_ref().map(|(_, cur)| cur.clone()).unwrap_or_default(),
            preview_url: item.preview_url.clone(),
        }
    }
}

/// "12", "12.5", "12.50" as cents; a negative, a third decimal or a word is refused.
pub fn parse_cents(raw: &str) -> Option<i64> {
    let raw = raw.trim();
    let (whole, frac) = raw.split_once('.').unwrap_or((raw, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || frac.len() > 2 {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: i64 = whole.parse().ok().filter(|w: &i64| *w <= 1_000_000_000)?;
    let frac: i64 = if frac.is_empty() { 0 } else { format!("{frac:0<2}").parse().ok()? };
    Some(whole * 100 + frac)
}

struct Checked {
    name: String,
    status: OfferStatus,
    privacy: Privacy,
    payout: i64,
    currency: String,
    preview_url: String,
}

fn check(kind: CatalogueKind, form: &ItemForm) -> Result<Checked, Vec<FieldError>> {
    let mut errors = Vec::new();
    let name = form.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 200 {
        errors.push(FieldError::new("name", "Enter a name of 1 to 200 characters."));
    }
    let privacy = super::directory_sync::privacy_from_affise(form.privacy.trim()).unwrap_or_else(|| {
        errors.push(FieldError::new("privacy", "Choose public, protected or private."));
        Privacy::Public
    });
    let mut checked = Checked {
        name,
        status: OfferStatus::Active,
        privacy,
        payout: 0,
        currency: String::new(),
        preview_url: String::new(),
    };
    if kind == CatalogueKind::Offer {
        checked.status = OfferStatus::parse(form.status.trim()).unwrap_or_else(|| {
            errors.push(FieldError::new("status", "Choose a status from the list."));
            OfferStatus::Active
        });
        checked.payout = parse_cents(&form.payout).unwrap_or_else(|| {
            errors.push(FieldError::new("payout", "Enter an amount like 12.50 (at most two decimals)."));
            0
        });
        checked.currency = form.currency.trim().to_ascii_uppercase();
        if checked.currency.len() != 3 || !checked.currency.bytes().all(|b| b.is_ascii_uppercase()) {
            errors.push(FieldError::new("currency", "Enter a three-letter currency code, like USD."));
        }
        checked.preview_url = form.preview_url.trim().to_string();
        let url_ok = checked.preview_url.is_empty()
            || ((checked.preview_url.starts_with("https://") || checked.preview_url.starts_with("http://"))
                && checked.preview_url.len() <= 500);
        if !url_ok {
            errors.push(FieldError::new("preview_url", "Enter an address starting with https:// (or leave it empty)."));
        }
    }
    if errors.is_empty() { Ok(checked) } else { Err(errors) }
}

fn admin_only(actor: &Actor) -> DomainResult<()> {
    match actor.as_staff()? {
        s if s.is_admin => Ok(()),
        _ => Err(DomainError::not_allowed("Only admins add and edit offers and Smartlinks.")),
    }
}

/// Use case: an admin adds an offer or a Smartlink.
pub fn create(
    conn: &mut AnyConnection,
    actor: &Actor,
    kind: CatalogueKind,
    form: &ItemForm,
) -> DomainResult<Result<i64, Vec<FieldError>>> {
    admin_only(actor)?;
    let c = match check(kind, form) {
        Ok(c) => c,
        Err(errors) => return Ok(Err(errors)),
    };
    write_transaction(conn, |conn| {
        let t = now();
        let id: i64 = match kind {
            CatalogueKind::Offer => diesel::insert_into(offers::table)
                .values((
                    offers::title.eq(&c.name),
                    offers::privacy.eq(c.privacy),
                    offers::status.eq(c.status),
                    offers::payout.eq(c.payout),
                    offers::currency.eq(&c.currency),
                    offers::preview_url.eq(&c.preview_url),
                    offers::created_at.eq(t),
                ))
                .returning(offers::id)
                .get_result(conn)?,
            CatalogueKind::Smartlink => diesel::insert_into(smartlinks::table)
                .values((smartlinks::name.eq(&c.name), smartlinks::privacy.eq(c.privacy), smartlinks::created_at.eq(t)))
                .returning(smartlinks::id)
                .get_result(conn)?,
        };
        let action = match kind {
            CatalogueKind::Offer => AuditAction::AddOffer,
            CatalogueKind::Smartlink => AuditAction::AddSmartlink,
        };
        audit::record(conn, actor, action, None, &format!("{} #{id} {}", kind.one(), c.name))?;
        Ok(Ok(id))
    })
}

/// Use case: an admin edits an offer or a Smartlink.
pub fn update(
    conn: &mut AnyConnection,
    actor: &Actor,
    kind: CatalogueKind,
    id: i64,
    form: &ItemForm,
) -> DomainResult<Result<(), Vec<FieldError>>> {
    admin_only(actor)?;
    write_transaction(conn, |conn| {
        let before = item(conn, actor, kind, id)?;
        let c = match check(kind, form) {
            Ok(c) => c,
            Err(errors) => return Ok(Err(errors)),
        };
        match kind {
            CatalogueKind::Offer => diesel::update(offers::table.find(id))
                .set((
                    offers::title.eq(&c.name),
                    offers::privacy.eq(c.privacy),
                    offers::status.eq(c.status),
                    offers::payout.eq(c.payout),
                    offers::currency.eq(&c.currency),
                    offers::preview_url.eq(&c.preview_url),
                ))
                .execute(conn)?,
            CatalogueKind::Smartlink => diesel::update(smartlinks::table.find(id))
                .set((smartlinks::name.eq(&c.name), smartlinks::privacy.eq(c.privacy)))
                .execute(conn)?,
        };
        let mut changes = Vec::new();
        if before.name != c.name {
            changes.push(format!("name {} -> {}", before.name, c.name));
        }
        if before.privacy != c.privacy {
            changes.push(format!("privacy {} -> {}", before.privacy, c.privacy));
        }
        if kind == CatalogueKind::Offer && before.status != Some(c.status) {
            changes.push(format!("status -> {}", c.status));
        }
        let action = match kind {
            CatalogueKind::Offer => AuditAction::EditOffer,
            CatalogueKind::Smartlink => AuditAction::EditSmartlink,
        };
        audit::record(conn, actor, action, None, &format!("{} #{id}: {}", kind.one(), changes.join("; ")))?;
        Ok(Ok(()))
    })
}

#[cfg(test)]
mod tests {
    use super::parse_cents;

    #[test]
    fn amounts_read_as_cents() {
        assert_eq!(parse_cents("12"), Some(1200));
        assert_eq!(parse_cents("12.5"), Some(1250));
        assert_eq!(parse_cents(" 0.07 "), Some(7));
        assert_eq!(parse_cents("12.345"), None);
        assert_eq!(parse_cents("-1"), None);
        assert_eq!(parse_cents("1e3"), None);
        assert_eq!(parse_cents(""), None);
        assert_eq!(parse_cents(".5"), None);
    }
}
