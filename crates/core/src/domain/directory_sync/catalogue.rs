//! Offers, Smartlinks and who may run a private offer, as Affise has them: matched
//! by Affise id and inserted or updated, a page at a time (see the parent module).

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;

use super::{Applied, OfferRecord, SmartlinkRecord};
use crate::db::schema::{affiliates, offer_access, offers, smartlinks};
use crate::db::{AnyConnection, write_transaction};
use crate::domain::now;
use crate::domain::states::{AccessGrant, AccessSource, OfferStatus, Privacy};
use crate::error::DomainResult;

/// Applies offers, matched by Affise id.
pub fn apply_offers(conn: &mut AnyConnection, records: &[OfferRecord]) -> DomainResult<Applied> {
    write_transaction(conn, |conn| {
        let mut applied = Applied::default();
        let t = now();
        for (at, r) in records.iter().enumerate() {
            if r.title.trim().is_empty() {
                applied.skip(at, format!("offer {}: it has no title", r.affise_id));
                continue;
            }
            let existing: Option<crate::domain::catalogue::Offer> = offers::table
                .filter(offers::affise_id.eq(&r.affise_id))
                .select(crate::domain::catalogue::Offer::as_select())
                .first(conn)
                .optional()?;
            match existing {
                Some(o) => {
                    if o.title == r.title
                        && o.status == r.status
                        && o.privacy == r.privacy
                        && o.payout == r.payout
                        && o.currency == r.currency
                        && o.preview_url == r.preview_url
                    {
                        applied.unchanged += 1;
                        continue;
                    }
                    diesel::update(offers::table.find(o.id))
                        .set((
                            offers::title.eq(r.title.trim()),
                            offers::status.eq(r.status),
                            offers::privacy.eq(r.privacy),
                            offers::payout.eq(r.payout),
                            offers::currency.eq(&r.currency),
                            offers::preview_url.eq(&r.preview_url),
                        ))
                        .execute(conn)?;
                    applied.updated += 1;
                }
                None => {
                    diesel::insert_into(offers::table)
                        .values((
                            offers::title.eq(r.title.trim()),
                            offers::privacy.eq(r.privacy),
                            offers::status.eq(r.status),
                            offers::payout.eq(r.payout),
                            offers::currency.eq(&r.currency),
                            offers::preview_url.eq(&r.preview_url),
                            offers::created_at.eq(t),
                            offers::affise_id.eq(&r.affise_id),
                        ))
                        .execute(conn)?;
                    applied.created += 1;
                }
            }
        }
        Ok(applied)
    })
}

/// After a full pull of offers: offers that came from Affise and are gone there
/// are disabled (their tickets keep them).
pub fn disable_missing_offers(conn: &mut AnyConnection, seen: &HashSet<String>) -> DomainResult<usize> {
    write_transaction(conn, |conn| {
        let synced: Vec<(i64, Option<String>)> = offers::table
            .filter(offers::affise_id.is_not_null())
            .filter(offers::status.ne(OfferStatus::Disabled))
            .select((offers::id, offers::affise_id))
            .load(conn)?;
        let gone: Vec<i64> = synced
            .into_iter()
            .filter(|(_, a)| a.as_ref().is_some_and(|a| !seen.contains(a)))
            .map(|(id, _)| id)
            .collect();
        for chunk in gone.chunks(500) {
            diesel::update(offers::table.filter(offers::id.eq_any(chunk)))
                .set(offers::status.eq(OfferStatus::Disabled))
                .execute(conn)?;
        }
        Ok(gone.len())
    })
}

pub fn apply_smartlinks(conn: &mut AnyConnection, records: &[SmartlinkRecord]) -> DomainResult<Applied> {
    write_transaction(conn, |conn| {
        let mut applied = Applied::default();
        for (at, r) in records.iter().enumerate() {
            if r.name.trim().is_empty() {
                applied.skip(at, format!("Smartlink {}: it has no name", r.affise_id));
                continue;
            }
            let existing: Option<(i64, String, Privacy)> = smartlinks::table
                .filter(smartlinks::affise_id.eq(&r.affise_id))
                .select((smartlinks::id, smartlinks::name, smartlinks::privacy))
                .first(conn)
                .optional()?;
            match existing {
                Some((_, name, privacy)) if name == r.name.trim() && r.privacy.is_none_or(|p| p == privacy) => {
                    applied.unchanged += 1
                }
                Some((id, _, privacy)) => {
                    diesel::update(smartlinks::table.find(id))
                        .set((smartlinks::name.eq(r.name.trim()), smartlinks::privacy.eq(r.privacy.unwrap_or(privacy))))
                        .execute(conn)?;
                    applied.updated += 1;
                }
                None => {
                    // Smartlinks are premoderated unless said otherwise: affiliates ask for them.
                    diesel::insert_into(smartlinks::table)
                        .values((
                            smartlinks::name.eq(r.name.trim()),
                            smartlinks::privacy.eq(r.privacy.unwrap_or(Privacy::Premoderated)),
                            smartlinks::created_at.eq(now()),
                            smartlinks::affise_id.eq(&r.affise_id),
                        ))
                        .execute(conn)?;
                    applied.created += 1;
                }
            }
        }
        Ok(applied)
    })
}

/// Offers from Affise whose access is kept per affiliate (protected and private):
/// (affdesk id, Affise id).
pub fn offers_with_access_lists(conn: &mut AnyConnection) -> DomainResult<Vec<(i64, String)>> {
    let rows: Vec<(i64, Option<String>)> = offers::table
        .filter(offers::affise_id.is_not_null())
        .filter(offers::privacy.ne(Privacy::Public))
        .filter(offers::status.ne(OfferStatus::Disabled))
        .order(offers::id.asc())
        .select((offers::id, offers::affise_id))
        .load(conn)?;
    Ok(rows.into_iter().filter_map(|(id, a)| Some((id, a?))).collect())
}

/// Applies who may run an offer, as Affise lists it: those affiliates are enabled
/// (source "affise", unless affdesk already enabled them itself); affiliates the
/// sync enabled before and Affise no longer lists are disabled. A decision of
/// affdesk's still on its way to Affise is left as it is: the pull must not undo it.
pub fn apply_offer_access(
    conn: &mut AnyConnection,
    offer_id: i64,
    partner_affise_ids: &[String],
) -> DomainResult<Applied> {
    write_transaction(conn, |conn| {
        let mut applied = Applied::default();
        let t = now();
        let waiting: HashSet<i64> =
            crate::domain::affise_push::pending_for_offer(conn, offer_id)?.into_iter().collect();
        let mut listed: HashSet<i64> = HashSet::new();
        for (c, chunk) in partner_affise_ids.chunks(500).enumerate() {
            let found: Vec<(i64, Option<String>)> = affiliates::table
                .filter(affiliates::affise_id.eq_any(chunk))
                .select((affiliates::id, affiliates::affise_id))
                .load(conn)?;
            let known: HashSet<String> = found.iter().filter_map(|(_, a)| a.clone()).collect();
            for (i, missing) in chunk.iter().enumerate().filter(|(_, a)| !known.contains(*a)) {
                applied.skip(c * 500 + i, format!("offer access: partner {missing} is not known here"));
            }
            listed.extend(found.into_iter().map(|(id, _)| id));
        }
        let current: Vec<(i64, AccessGrant, AccessSource)> = offer_access::table
            .filter(offer_access::offer_id.eq(offer_id))
            .select((offer_access::affiliate_id, offer_access::state, offer_access::source))
            .load(conn)?;
        let current: HashMap<i64, (AccessGrant, AccessSource)> =
            current.into_iter().map(|(a, g, s)| (a, (g, s))).collect();
        for affiliate in &listed {
            if waiting.contains(affiliate) {
                applied.unchanged += 1;
                continue;
            }
            match current.get(affiliate) {
                Some((AccessGrant::Enabled, _)) => applied.unchanged += 1,
                Some((AccessGrant::Disabled, _)) => {
                    diesel::update(offer_access::table.find((offer_id, *affiliate)))
                        .set((
                            offer_access::state.eq(AccessGrant::Enabled),
                            offer_access::source.eq(AccessSource::Affise),
                            offer_access::updated_at.eq(t),
                            offer_access::updated_by.eq(None::<i64>),
                        ))
                        .execute(conn)?;
                    applied.updated += 1;
                }
                None => {
                    diesel::insert_into(offer_access::table)
                        .values((
                            offer_access::offer_id.eq(offer_id),
                            offer_access::affiliate_id.eq(*affiliate),
                            offer_access::state.eq(AccessGrant::Enabled),
                            offer_access::source.eq(AccessSource::Affise),
                            offer_access::updated_at.eq(t),
                            offer_access::updated_by.eq(None::<i64>),
                        ))
                        .execute(conn)?;
                    applied.created += 1;
                }
            }
        }
        for (affiliate, (grant, source)) in &current {
            let dropped_in_affise = *grant == AccessGrant::Enabled && !listed.contains(affiliate);
            if dropped_in_affise && !waiting.contains(affiliate) {
                // Affise is where the offer runs: what it no longer lists, the affiliate no longer has.
                diesel::update(offer_access::table.find((offer_id, *affiliate)))
                    .set((
                        offer_access::state.eq(AccessGrant::Disabled),
                        offer_access::source.eq(*source),
                        offer_access::updated_at.eq(t),
                    ))
                    .execute(conn)?;
                applied.updated += 1;
            }
        }
        Ok(applied)
    })
}
