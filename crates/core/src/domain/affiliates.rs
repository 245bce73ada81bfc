//! Affiliates: the partners who send tickets from their own panel.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::actor::Actor;
use super::states::AffiliateStatus;
use super::{now, secrets};
use crate::db::AnyConnection;
use crate::db::schema::affiliates;
use crate::error::DomainResult;

/// Serializable so the session store can hand the logged-in account to the request
/// that loaded it (src/web/session_store.rs); the password hash stays out of that.
#[derive(Queryable, Selectable, Identifiable, Debug, Clone, serde::Serialize, serde::Deserialize)]
#[diesel(table_name = affiliates)]
pub struct Affiliate {
    pub id: i64,
    pub email: String,
    pub login: String,
    pub name: String,
    pub status: AffiliateStatus,
    pub manager_id: Option<i64>,
    #[serde(skip, default)]
    pub password_hash: String,
    #[diesel(deserialize_as = crate::db::Stamp)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::db::Stamp)]
    pub updated_at: NaiveDateTime,
    /// The partner's id in the network's Affise, when it came from there.
    pub affise_id: Option<String>,
    /// Disabled by a manager or removed in Affise: no login, whatever the status.
    pub disabled: bool,
}

impl Affiliate {
    pub fn is_active(&self) -> bool {
        self.status == AffiliateStatus::Active
    }

    /// Banned and disabled affiliates lose their panel and API access at once.
    pub fn may_log_in(&self) -> bool {
        self.status != AffiliateStatus::Banned && !self.disabled
    }

    /// The affiliate as the actor of a use case.
    pub fn actor(&self, via: super::actor::Via) -> Actor {
        Actor::affiliate(self.id, self.status, via)
    }

    pub fn status_label(&self) -> &'static str {
        self.status.label()
    }

    pub fn find(conn: &mut AnyConnection, id: i64) -> DomainResult<Option<Affiliate>> {
        Ok(affiliates::table.find(id).select(Affiliate::as_select()).get_result(conn).optional()?)
    }

    pub fn find_by_email(conn: &mut AnyConnection, email: &str) -> DomainResult<Option<Affiliate>> {
        Ok(affiliates::table
            .filter(affiliates::email.eq(super::users::normalize_email(email)))
            .select(Affiliate::as_select())
            .get_result(conn)
            .optional()?)
    }

    pub fn find_by_api_key(conn: &mut AnyConnection, key: &str) -> DomainResult<Option<Affiliate>> {
        Ok(affiliates::table
            .filter(affiliates::api_key_hash.eq(secrets::hash_api_key(key)))
            .select(Affiliate::as_select())
            .get_result(conn)
            .optional()?)
    }

    /// `None` for a wrong email, a wrong password or a banned account alike.
    pub fn authenticate(conn: &mut AnyConnection, email: &str, password: &str) -> DomainResult<Option<Affiliate>> {
        let affiliate = Affiliate::find_by_email(conn, email)?;
        let hash = affiliate.as_ref().map(|a| a.password_hash.as_str()).unwrap_or(secrets::dummy_password_hash());
        let ok = secrets::verify_password(password, hash);
        Ok(affiliate.filter(|a| ok && a.may_log_in()))
    }

    pub fn issue_api_key(conn: &mut AnyConnection, id: i64) -> DomainResult<String> {
        let key = secrets::new_api_key();
        diesel::update(affiliates::table.find(id))
            .set((affiliates::api_key_hash.eq(secrets::hash_api_key(&key)), affiliates::updated_at.eq(now())))
            .execute(conn)?;
        Ok(key)
    }

    pub fn set_status(conn: &mut AnyConnection, id: i64, status: AffiliateStatus) -> DomainResult<()> {
        diesel::update(affiliates::table.find(id))
            .set((affiliates::status.eq(status), affiliates::updated_at.eq(now())))
            .execute(conn)?;
        Ok(())
    }
}

/// The affiliate if the actor may see them (an admin: any; a manager: their own; an
/// affiliate: themself), otherwise `None`, as if there were none.
pub fn visible_to(conn: &mut AnyConnection, actor: &Actor, id: i64) -> DomainResult<Option<Affiliate>> {
    Ok(Affiliate::find(conn, id)?.filter(|a| actor.scope().allows_affiliate(a.id, a.manager_id)))
}

/// An affiliate as a suggestion shows it.
#[derive(Queryable, Debug, Clone, PartialEq)]
pub struct AffiliateName {
    pub id: i64,
    pub name: String,
}

/// Affiliates the actor may see whose ID is `text` or whose name contains it, best
/// first (the ID, then names that start with it), at most `limit`.
pub fn suggest(conn: &mut AnyConnection, actor: &Actor, text: &str, limit: i64) -> DomainResult<Vec<AffiliateName>> {
    use super::ticket_filter::{contains_pattern, lower};
    use super::tickets::Scope;
    let text = text.trim();
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = affiliates::table.into_boxed();
    q = match actor.scope() {
        Scope::All => q,
        Scope::Manager(m) => q.filter(affiliates::manager_id.eq(m)),
        Scope::Affiliate(a) => q.filter(affiliates::id.eq(a)),
    };
    let named = lower(affiliates::name).like(contains_pattern(text)).escape('\\');
    q = match text.parse::<i64>() {
        Ok(id) => q.filter(affiliates::id.eq(id).or(named)),
        Err(_) => q.filter(named),
    };
    let mut found: Vec<AffiliateName> = q
        .order(affiliates::name.asc())
        .limit(limit.max(1) * 4)
        .select((affiliates::id, affiliates::name))
        .load(conn)?;
    let lowered = text.to_lowercase();
    found.sort_by_key(|a| {
        (a.id.to_string() != text, !a.name.to_lowercase().starts_with(&lowered), a.name.to_lowercase())
    });
    found.truncate(limit.max(1) as usize);
    Ok(found)
}

/// The one affiliate a form's affiliate field names: an ID, or a name (or part of
/// one) that fits exactly one of the actor's affiliates. The error says why not.
pub fn resolve(conn: &mut AnyConnection, actor: &Actor, text: &str) -> DomainResult<Result<i64, String>> {
    let text = text.trim();
    if let Ok(id) = text.parse::<i64>() {
        return Ok(if id > 0 {
            Ok(id)
        } else {
            Err(format!("\"{text}\" is not an affiliate ID (a whole number above 0)."))
        });
    }
    if text.chars().count() > 100 {
        return Ok(Err("An affiliate name is at most 100 characters.".into()));
    }
    let found = suggest(conn, actor, text, 6)?;
    let exact: Vec<AffiliateName> = found.iter().filter(|a| a.name.eq_ignore_ascii_case(text)).cloned().collect();
    Ok(match (found.as_slice(), exact.as_slice()) {
        ([one], _) | (_, [one]) => Ok(one.id),
        ([], _) => Err(format!("No affiliate of yours has \"{text}\" in their name.")),
        (many, _) => Err(format!(
            "{} affiliates match \"{text}\" ({}{}): type more of the name or the ID.",
            if many.len() > 5 { "More than 5".to_string() } else { many.len().to_string() },
            many.iter().take(5).map(|a| format!("{} #{}", a.name, a.id)).collect::<Vec<_>>().join(", "),
            if many.len() > 5 { ", …" } else { "" },
        )),
    })
}
