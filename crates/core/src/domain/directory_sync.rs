//! The network's directory as Affise has it, applied to affdesk's tables: partners
//! with their manager, affiliate managers, offers, Smartlinks and who may run a
//! private offer. Each record is matched by its Affise id (kept beside affdesk's
//! own id), else by email for people, and inserted or updated; a page of records
//! is applied in one transaction. Reading Affise is the caller's (the server's `affise` client).

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;

use super::states::AuditAction;
use super::states::{AffiliateStatus, OfferStatus, Privacy, Role};
use super::{Acted, Actor, Effects, audit, lookups, now, secrets, users};
use crate::db::schema::{affiliates, sessions, users as users_t};
use crate::db::{AnyConnection, write_transaction};
use crate::error::DomainResult;

/// An affiliate manager of the network's Affise.
#[derive(Clone, Debug, PartialEq)]
pub struct ManagerRecord {
    pub affise_id: String,
    pub email: String,
    pub name: String,
}

/// A partner (affiliate) of the network's Affise.
#[derive(Clone, Debug, PartialEq)]
pub struct PartnerRecord {
    pub affise_id: String,
    pub email: String,
    pub login: String,
    pub name: String,
    pub status: AffiliateStatus,
    pub manager: Option<ManagerKey>,
}

/// How a partner names their manager: Affise by the manager's Affise id, an import
/// by the manager's email.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ManagerKey {
    AffiseId(String),
    Email(String),
}

impl std::fmt::Display for ManagerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ManagerKey::AffiseId(id) => write!(f, "with Affise id {id}"),
            ManagerKey::Email(email) => write!(f, "{email}"),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct OfferRecord {
    pub affise_id: String,
    pub title: String,
    pub status: OfferStatus,
    pub privacy: Privacy,
    /// In cents.
    pub payout: i64,
    pub currency: String,
    pub preview_url: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SmartlinkRecord {
    pub affise_id: String,
    pub name: String,
    /// An import says; Affise does not, and a new Smartlink from there is protected.
    pub privacy: Option<Privacy>,
}

/// What a page of records did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[must_use]
pub struct Applied {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Records left out, each with why ("partner 17: the email ... is another affiliate's").
    pub skipped: Vec<Skipped>,
}

/// A record left out: its place in the slice applied, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    pub at: usize,
    pub why: String,
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.why)
    }
}

impl Applied {
    fn skip(&mut self, at: usize, why: String) {
        self.skipped.push(Skipped { at, why });
    }

    pub fn add(&mut self, other: Applied) {
        self.created += other.created;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
        self.skipped.extend(other.skipped);
    }

    pub fn summary(&self) -> String {
        let mut s = format!("{} new, {} updated, {} unchanged", self.created, self.updated, self.unchanged);
        if !self.skipped.is_empty() {
            s.push_str(&format!(", {} skipped", self.skipped.len()));
        }
        s
    }
}

/// A password nobody knows: an account made by a sync or an import logs in after
/// an invitation or a password reset.
fn unusable_password() -> String {
    secrets::hash_password(&secrets::random_token(24))
}

/// Affise's words for privacy: public, protected (premoderated in affdesk), private.
pub fn privacy_from_affise(word: &str) -> Option<Privacy> {
    match word.trim().to_lowercase().as_str() {
        "public" => Some(Privacy::Public),
        "protected" | "premoderated" => Some(Privacy::Premoderated),
        "private" => Some(Privacy::Private),
        _ => None,
    }
}

pub fn privacy_to_affise(p: Privacy) -> &'static str {
    match p {
        Privacy::Public => "public",
        Privacy::Premoderated => "protected",
        Privacy::Private => "private",
    }
}

/// Affise's offer statuses: active, stopped, suspended.
pub fn offer_status_from_affise(word: &str) -> Option<OfferStatus> {
    match word.trim().to_lowercase().as_str() {
        "active" => Some(OfferStatus::Active),
        "suspended" | "paused" => Some(OfferStatus::Paused),
        "stopped" | "disabled" | "deleted" => Some(OfferStatus::Disabled),
        _ => None,
    }
}

/// Affise writes partner statuses with a space ("not active", "on moderation").
pub fn partner_status_from_affise(word: &str) -> Option<AffiliateStatus> {
    AffiliateStatus::parse(&word.trim().to_lowercase().replace([' ', '-'], "_"))
}

/// Applies affiliate managers: a new one is a manager of affdesk with no password
/// (invite them); one matched by email gets the Affise id. Never changes a role.
pub fn apply_managers(conn: &mut AnyConnection, records: &[ManagerRecord]) -> DomainResult<Acted<Applied>> {
    write_transaction(conn, |conn| {
        let mut applied = Applied::default();
        let t = now();
        for (at, r) in records.iter().enumerate() {
            let email = users::normalize_email(&r.email);
            if !users::looks_like_email(&email) {
                applied.skip(at, format!("manager {}: {:?} is not an email address", r.affise_id, r.email));
                continue;
            }
            let by_id: Option<(i64, String, String)> = users_t::table
                .filter(users_t::affise_id.eq(&r.affise_id))
                .select((users_t::id, users_t::email, users_t::name))
                .first(conn)
                .optional()?;
            let by_email: Option<(i64, Option<String>)> = users_t::table
                .filter(users_t::email.eq(&email))
                .select((users_t::id, users_t::affise_id))
                .first(conn)
                .optional()?;
            let name = if r.name.trim().is_empty() { email.clone() } else { r.name.trim().to_string() };
            match (by_id, by_email) {
                (Some((id, old_email, old_name)), other) => {
                    if other.is_some_and(|(other_id, _)| other_id != id) {
                        applied.skip(at, format!("manager {}: the email {email} is another user's", r.affise_id));
                        continue;
                    }
                    if old_email == email && old_name == name {
                        applied.unchanged += 1;
                        continue;
                    }
                    diesel::update(users_t::table.find(id))
                        .set((users_t::email.eq(&email), users_t::name.eq(&name), users_t::updated_at.eq(t)))
                        .execute(conn)?;
                    applied.updated += 1;
                }
                (None, Some((id, None))) => {
                    diesel::update(users_t::table.find(id))
                        .set((users_t::affise_id.eq(&r.affise_id), users_t::updated_at.eq(t)))
                        .execute(conn)?;
                    applied.updated += 1;
                }
                (None, Some((_, Some(other)))) => {
                    applied.skip(
                        at,
                        format!(
                            "manager {}: the email {email} belongs to the user with Affise id {other}",
                            r.affise_id
                        ),
                    );
                }
                (None, None) => {
                    diesel::insert_into(users_t::table)
                        .values((
                            users_t::kind.eq(Role::Manager),
                            users_t::email.eq(&email),
                            users_t::name.eq(&name),
                            users_t::password_hash.eq(unusable_password()),
                            users_t::disabled.eq(false),
                            users_t::sees_all_tickets.eq(false),
                            users_t::created_at.eq(t),
                            users_t::updated_at.eq(t),
                            users_t::affise_id.eq(&r.affise_id),
                        ))
                        .execute(conn)?;
                    applied.created += 1;
                }
            }
        }
        let effects = if applied.created + applied.updated > 0 { lookups::changed(conn)? } else { Effects::NONE };
        Ok(Acted::new(applied, effects))
    })
}

/// The affdesk user ids of managers by their Affise id.
fn managers_by_affise_id(conn: &mut AnyConnection) -> DomainResult<HashMap<String, i64>> {
    let rows: Vec<(i64, Option<String>)> =
        users_t::table.filter(users_t::affise_id.is_not_null()).select((users_t::id, users_t::affise_id)).load(conn)?;
    Ok(rows.into_iter().filter_map(|(id, a)| Some((a?, id))).collect())
}

/// Applies partners: matched by Affise id, else by email (an affiliate made by hand
/// gets the Affise id), else created without a password. The manager named by
/// Affise id must be known (sync managers first); an unknown one leaves the
/// affiliate's manager as it is and says so. A partner's tickets follow a change
/// of manager, so filters by manager stay right.
pub fn apply_partners(conn: &mut AnyConnection, records: &[PartnerRecord]) -> DomainResult<Applied> {
    write_transaction(conn, |conn| {
        let managers = managers_by_affise_id(conn)?;
        let mut applied = Applied::default();
        let t = now();
        for (at, r) in records.iter().enumerate() {
            let email = users::normalize_email(&r.email);
            if !users::looks_like_email(&email) {
                applied.skip(at, format!("partner {}: {:?} is not an email address", r.affise_id, r.email));
                continue;
            }
            let manager = match &r.manager {
                None => Some(None),
                Some(ManagerKey::AffiseId(m)) => managers.get(m).map(|id| Some(*id)),
                Some(ManagerKey::Email(e)) => users_t::table
                    .filter(users_t::email.eq(users::normalize_email(e)))
                    .select(users_t::id)
                    .first::<i64>(conn)
                    .optional()?
                    .map(Some),
            };
            if let (None, Some(key)) = (manager, &r.manager) {
                applied.skip(at, format!("partner {}: the manager {key} is not known here", r.affise_id));
            }
            let login = if r.login.trim().is_empty() { email.clone() } else { r.login.trim().to_string() };
            let name = if r.name.trim().is_empty() { login.clone() } else { r.name.trim().to_string() };
            let by_id: Option<super::affiliates::Affiliate> = affiliates::table
                .filter(affiliates::affise_id.eq(&r.affise_id))
                .select(super::affiliates::Affiliate::as_select())
                .first(conn)
                .optional()?;
            let by_email: Option<super::affiliates::Affiliate> = affiliates::table
                .filter(affiliates::email.eq(&email))
                .select(super::affiliates::Affiliate::as_select())
                .first(conn)
                .optional()?;
            let existing = match (by_id, by_email) {
                (Some(a), Some(b)) if a.id != b.id => {
                    applied.skip(at, format!("partner {}: the email {email} is another affiliate's", r.affise_id));
                    continue;
                }
                (Some(a), _) => Some(a),
                (None, Some(b)) if b.affise_id.is_some() => {
                    applied.skip(
                        at,
                        format!(
                            "partner {}: the email {email} belongs to the affiliate with Affise id {}",
                            r.affise_id,
                            b.affise_id.as_deref().unwrap_or("")
                        ),
                    );
                    continue;
                }
                (None, b) => b,
            };
            match existing {
                Some(a) => {
                    let manager_id = manager.unwrap_or(a.manager_id);
                    let same = a.email == email
                        && a.login == login
                        && a.name == name
                        && a.status == r.status
                        && a.manager_id == manager_id
                        && a.affise_id.as_deref() == Some(&r.affise_id)
                        && !a.disabled;
                    if same {
                        applied.unchanged += 1;
                        continue;
                    }
                    diesel::update(affiliates::table.find(a.id))
                        .set((
                            affiliates::email.eq(&email),
                            affiliates::login.eq(&login),
                            affiliates::name.eq(&name),
                            affiliates::status.eq(r.status),
                            affiliates::manager_id.eq(manager_id),
                            affiliates::affise_id.eq(&r.affise_id),
                            affiliates::disabled.eq(false),
                            affiliates::updated_at.eq(t),
                        ))
                        .execute(conn)?;
                    if manager_id != a.manager_id {
                        super::directory::move_tickets(conn, a.id, manager_id)?;
                    }
                    if r.status == AffiliateStatus::Banned {
                        end_affiliate_sessions(conn, a.id)?;
                    }
                    applied.updated += 1;
                }
                None => {
                    diesel::insert_into(affiliates::table)
                        .values((
                            affiliates::email.eq(&email),
                            affiliates::login.eq(&login),
                            affiliates::name.eq(&name),
                            affiliates::status.eq(r.status),
                            affiliates::manager_id.eq(manager.flatten()),
                            affiliates::password_hash.eq(unusable_password()),
                            affiliates::created_at.eq(t),
                            affiliates::updated_at.eq(t),
                            affiliates::affise_id.eq(&r.affise_id),
                            affiliates::disabled.eq(false),
                        ))
                        .execute(conn)?;
                    applied.created += 1;
                }
            }
        }
        Ok(applied)
    })
}

/// Ends every session of an affiliate at once (disabled, banned or removed).
pub fn end_affiliate_sessions(conn: &mut AnyConnection, affiliate_id: i64) -> DomainResult<()> {
    diesel::delete(sessions::table.filter(sessions::affiliate_id.eq(affiliate_id))).execute(conn)?;
    Ok(())
}

/// After a full pull of partners: affiliates that came from Affise and are no
/// longer there are disabled (kept, with their tickets) and logged out.
pub fn disable_missing_partners(conn: &mut AnyConnection, seen: &HashSet<String>) -> DomainResult<usize> {
    write_transaction(conn, |conn| {
        let synced: Vec<(i64, Option<String>)> = affiliates::table
            .filter(affiliates::affise_id.is_not_null())
            .filter(affiliates::disabled.eq(false))
            .select((affiliates::id, affiliates::affise_id))
            .load(conn)?;
        let gone: Vec<i64> = synced
            .into_iter()
            .filter(|(_, a)| a.as_ref().is_some_and(|a| !seen.contains(a)))
            .map(|(id, _)| id)
            .collect();
        for chunk in gone.chunks(500) {
            diesel::update(affiliates::table.filter(affiliates::id.eq_any(chunk)))
                .set((affiliates::disabled.eq(true), affiliates::updated_at.eq(now())))
                .execute(conn)?;
            diesel::delete(sessions::table.filter(sessions::affiliate_id.eq_any(chunk))).execute(conn)?;
        }
        for id in &gone {
            audit::record(
                conn,
                &Actor::system(),
                AuditAction::AffiliateRemovedInAffise,
                None,
                &format!("affiliate #{id}"),
            )?;
        }
        Ok(gone.len())
    })
}

mod catalogue;
pub use catalogue::*;
