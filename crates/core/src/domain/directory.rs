//! The network's people and affiliates as admins and managers keep them: invite a
//! user, disable or enable one, hand a manager's affiliates and tickets to another
//! in one step; create, edit and disable affiliates. Admins do everything; a
//! manager sees and edits only their own affiliates. Every change is audited.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::accounts::{self, AccountKind};
use super::affiliates::Affiliate;
use super::states::AuditAction;
use super::states::{AffiliateStatus, Role, TicketKind, TicketStatus};
use super::ticket_filter::{FieldError, contains_pattern, lower};
use super::tickets::Scope;
use super::users::{User, looks_like_email, normalize_email};
use super::{Acted, Actor, audit, lookups, now, secrets, ticket_counts};
use crate::db::schema::{affiliates, sessions, tickets, users};
use crate::db::{AnyConnection, write_transaction};
use crate::error::{DomainError, DomainResult};

pub(crate) fn admin_only(actor: &Actor) -> DomainResult<()> {
    match actor.as_staff()? {
        s if s.is_admin => Ok(()),
        _ => Err(DomainError::not_allowed("Only admins manage people.")),
    }
}

/// A user as the People page shows them.
#[derive(Clone, Debug)]
pub struct Person {
    pub user: User,
    pub affiliates: i64,
    pub open_tickets: i64,
}

/// Use case: the People page (admins): every user with how many affiliates and
/// open tickets they have.
pub fn people(conn: &mut AnyConnection, actor: &Actor) -> DomainResult<Vec<Person>> {
    admin_only(actor)?;
    let all: Vec<User> = users::table.order(users::name.asc()).select(User::as_select()).load(conn)?;
    let affiliate_counts: BTreeMap<i64, i64> = affiliates::table
        .filter(affiliates::manager_id.is_not_null())
        .group_by(affiliates::manager_id)
        .select((affiliates::manager_id, diesel::dsl::count_star()))
        .load::<(Option<i64>, i64)>(conn)?
        .into_iter()
        .filter_map(|(m, n)| Some((m?, n)))
        .collect();
    let open: BTreeMap<i64, i64> = crate::db::schema::ticket_counts::table
        .filter(crate::db::schema::ticket_counts::status.eq(TicketStatus::Open))
        .select((crate::db::schema::ticket_counts::manager_id, crate::db::schema::ticket_counts::n))
        .load::<(i64, i64)>(conn)?
        .into_iter()
        .fold(BTreeMap::new(), |mut m, (id, n)| {
            *m.entry(id).or_default() += n;
            m
        });
    Ok(all
        .into_iter()
        .map(|user| Person {
            affiliates: affiliate_counts.get(&user.id).copied().unwrap_or(0),
            open_tickets: open.get(&user.id).copied().unwrap_or(0),
            user,
        })
        .collect())
}

/// What an admin typed to invite someone.
#[derive(Clone, Debug, Default)]
pub struct NewPerson {
    pub email: String,
    pub name: String,
    pub role: String,
}

/// Someone invited: their user id, and the token of the link in their email.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invited {
    pub id: i64,
    pub token: String,
}

/// Use case: an admin invites someone by email: a user without a password, and an
/// email with the link to set one. The form's problems come back per field.
pub fn invite_person(
    conn: &mut AnyConnection,
    actor: &Actor,
    form: &NewPerson,
) -> DomainResult<Acted<Result<Invited, Vec<FieldError>>>> {
    admin_only(actor)?;
    let email = normalize_email(&form.email);
    let name = form.name.trim();
    let mut errors = Vec::new();
    if !looks_like_email(&email) {
        errors.push(FieldError::new("email", "Enter an email address, like name@network.com."));
    }
    if name.is_empty() || name.chars().count() > 100 {
        errors.push(FieldError::new("name", "Enter a name of 1 to 100 characters."));
    }
    let role = Role::parse(form.role.trim());
    if role.is_none() {
        errors.push(FieldError::new("role", "Choose Admin or Affiliate manager."));
    }
    write_transaction(conn, |conn| {
        if errors.is_empty() && User::find_by_email(conn, &email)?.is_some() {
            errors.push(FieldError::new("email", format!("{email} already has an account: find them in the list.")));
        }
        let Some(role) = role.filter(|_| errors.is_empty()) else { return Ok(Acted::quiet(Err(errors))) };
        let t = now();
        let id: i64 = diesel::insert_into(users::table)
            .values((
                users::kind.eq(role),
                users::email.eq(&email),
                users::name.eq(name),
                users::password_hash.eq(secrets::hash_password(&secrets::random_token(24))),
                users::disabled.eq(false),
                users::sees_all_tickets.eq(false),
                users::created_at.eq(t),
                users::updated_at.eq(t),
            ))
            .returning(users::id)
            .get_result(conn)?;
        let effects = lookups::changed(conn)?;
        audit::record(conn, actor, AuditAction::AddUser, None, &format!("user #{id} {email} as {}", role.as_str()))?;
        let token = accounts::invite_in(conn, actor, AccountKind::User, id)?;
        Ok(Acted::new(Ok(Invited { id, token }), effects))
    })
}

/// Use case: an admin disables or enables a user. Disabling ends their sessions at
/// once; nobody disables themselves (a desk must keep an admin who can log in).
pub fn set_person_disabled(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: i64,
    disabled: bool,
) -> DomainResult<Acted<User>> {
    admin_only(actor)?;
    if actor.id() == Some(id) && disabled {
        return Err(DomainError::invalid("You cannot disable your own account."));
    }
    write_transaction(conn, |conn| {
        let user = User::find(conn, id)?.ok_or(DomainError::NotFound)?;
        diesel::update(users::table.find(id))
            .set((users::disabled.eq(disabled), users::updated_at.eq(now())))
            .execute(conn)?;
        if disabled {
            diesel::delete(sessions::table.filter(sessions::user_id.eq(id))).execute(conn)?;
        }
        let effects = lookups::changed(conn)?;
        let action = if disabled { AuditAction::DisableUser } else { AuditAction::EnableUser };
        audit::record(conn, actor, action, None, &format!("user #{id} {}", user.email))?;
        Ok(Acted::new(User::find(conn, id)?.ok_or(DomainError::NotFound)?, effects))
    })
}

/// Use case: an admin lets a manager see every queue (to cover colleagues), or
/// takes that back. Admins see every queue anyway.
pub fn set_sees_all(conn: &mut AnyConnection, actor: &Actor, id: i64, on: bool) -> DomainResult<User> {
    admin_only(actor)?;
    write_transaction(conn, |conn| {
        let user = User::find(conn, id)?.ok_or(DomainError::NotFound)?;
        if user.is_admin() {
            return Err(DomainError::invalid(format!("{} is an admin and sees every queue already.", user.name)));
        }
        diesel::update(users::table.find(id))
            .set((users::sees_all_tickets.eq(on), users::updated_at.eq(now())))
            .execute(conn)?;
        let what = if on { "sees every queue" } else { "sees their own queue" };
        audit::record(conn, actor, AuditAction::Queues, None, &format!("user #{id} {} {what}", user.email))?;
        User::find(conn, id)?.ok_or(DomainError::NotFound)
    })
}

/// What a hand-over moved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub struct HandedOver {
    pub affiliates: usize,
    pub tickets: usize,
}

/// Use case: an admin hands everything of one manager to another in one step: their
/// affiliates, and the tickets kept under their name (open and closed, so the new
/// manager sees each affiliate's history). Audited once, with the numbers.
pub fn hand_over(conn: &mut AnyConnection, actor: &Actor, from: i64, to: i64) -> DomainResult<HandedOver> {
    admin_only(actor)?;
    if from == to {
        return Err(DomainError::invalid("Choose another manager to hand over to."));
    }
    write_transaction(conn, |conn| {
        let giver = User::find(conn, from)?.ok_or(DomainError::NotFound)?;
        let taker =
            User::find(conn, to)?.ok_or_else(|| DomainError::invalid("The manager to hand over to is not there."))?;
        if taker.disabled {
            return Err(DomainError::invalid(format!(
                "{} is disabled: enable them first, or choose someone else.",
                taker.name
            )));
        }
        let affiliates = diesel::update(affiliates::table.filter(affiliates::manager_id.eq(from)))
            .set((affiliates::manager_id.eq(Some(to)), affiliates::updated_at.eq(now())))
            .execute(conn)?;
        let tickets = move_manager_tickets(conn, from, to)?;
        audit::record(
            conn,
            actor,
            AuditAction::HandOver,
            None,
            &format!(
                "{affiliates} affiliates and {tickets} tickets of {} (#{from}) to {} (#{to})",
                giver.name, taker.name
            ),
        )?;
        Ok(HandedOver { affiliates, tickets })
    })
}

/// Moves every ticket kept under manager `from` to manager `to`, keeping the
/// totals per manager right.
fn move_manager_tickets(conn: &mut AnyConnection, from: i64, to: i64) -> DomainResult<usize> {
    let groups: Vec<(TicketStatus, TicketKind, i64)> = tickets::table
        .filter(tickets::manager_id.eq(from))
        .group_by((tickets::status, tickets::kind))
        .select((tickets::status, tickets::kind, diesel::dsl::count_star()))
        .load(conn)?;
    let moved: i64 = groups.iter().map(|g| g.2).sum();
    if moved == 0 {
        return Ok(0);
    }
    let mut tally = ticket_counts::Tally::default();
    for (status, kind, n) in &groups {
        tally.add(Some(from), *status, *kind, -n);
        tally.add(Some(to), *status, *kind, *n);
    }
    diesel::update(tickets::table.filter(tickets::manager_id.eq(from)))
        .set(tickets::manager_id.eq(Some(to)))
        .execute(conn)?;
    tally.write(conn)?;
    Ok(moved as usize)
}

/// An affiliate's tickets follow them to a new manager (or to none), so the
/// managers' filters and scopes stay index lookups on the ticket.
pub fn move_tickets(conn: &mut AnyConnection, affiliate_id: i64, manager: Option<i64>) -> DomainResult<usize> {
    let groups: Vec<(Option<i64>, TicketStatus, TicketKind, i64)> = tickets::table
        .filter(tickets::affiliate_id.eq(affiliate_id))
        .group_by((tickets::manager_id, tickets::status, tickets::kind))
        .select((tickets::manager_id, tickets::status, tickets::kind, diesel::dsl::count_star()))
        .load(conn)?;
    let mut tally = ticket_counts::Tally::default();
    let mut moved = 0;
    for (old, status, kind, n) in groups.into_iter().filter(|g| g.0 != manager) {
        tally.add(old, status, kind, -n);
        tally.add(manager, status, kind, n);
        moved += n;
    }
    if moved > 0 {
        diesel::update(tickets::table.filter(tickets::affiliate_id.eq(affiliate_id)))
            .set(tickets::manager_id.eq(manager))
            .execute(conn)?;
        tally.write(conn)?;
    }
    Ok(moved as usize)
}

/// Affiliates the actor may see, found by ID, name or email, newest first.
pub struct AffiliatePage {
    pub rows: Vec<AffiliateRow>,
    pub total: i64,
}

#[derive(Clone, Debug)]
pub struct AffiliateRow {
    pub affiliate: Affiliate,
    pub manager_name: Option<String>,
}

/// Use case: the Affiliates page: the actor's affiliates (all for admins), matching
/// `text` (an ID, or part of a name or email), a page at a time.
pub fn affiliates_page(
    conn: &mut AnyConnection,
    actor: &Actor,
    text: &str,
    page: i64,
    per_page: i64,
) -> DomainResult<AffiliatePage> {
    actor.as_staff()?;
    let scope = actor.scope();
    let text = text.trim().to_string();
    let filtered = || {
        let mut q = affiliates::table.into_boxed();
        if let Scope::Manager(m) = scope {
            q = q.filter(affiliates::manager_id.eq(m));
        }
        if !text.is_empty() {
            let pattern = contains_pattern(&text);
            let words = lower(affiliates::name)
                .like(pattern.clone())
                .escape('\\')
                .or(affiliates::email.like(pattern.clone()).escape('\\'))
                .or(lower(affiliates::login).like(pattern).escape('\\'));
            q = match text.parse::<i64>() {
                Ok(id) => q.filter(affiliates::id.eq(id).or(words)),
                Err(_) => q.filter(words),
            };
        }
        q
    };
    let total: i64 = filtered().count().get_result(conn)?;
    let page = page.max(1);
    let list: Vec<Affiliate> = filtered()
        .order(affiliates::id.desc())
        .limit(per_page)
        .offset((page - 1).saturating_mul(per_page))
        .select(Affiliate::as_select())
        .load(conn)?;
    let manager_ids: Vec<i64> = list.iter().filter_map(|a| a.manager_id).collect();
    let names: BTreeMap<i64, String> = users::table
        .filter(users::id.eq_any(&manager_ids))
        .select((users::id, users::name))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect();
    let rows = list
        .into_iter()
        .map(|affiliate| AffiliateRow {
            manager_name: affiliate.manager_id.and_then(|m| names.get(&m).cloned()),
            affiliate,
        })
        .collect();
    Ok(AffiliatePage { rows, total })
}

/// What an admin or manager typed about an affiliate.
#[derive(Clone, Debug, Default)]
pub struct AffiliateForm {
    pub email: String,
    pub login: String,
    pub name: String,
    pub status: String,
    /// An admin's choice; a manager's own affiliates stay theirs.
    pub manager_id: String,
}

struct CheckedAffiliate {
    email: String,
    login: String,
    name: String,
    status: AffiliateStatus,
    manager_id: Option<i64>,
}

fn check_affiliate(
    conn: &mut AnyConnection,
    actor: &Actor,
    form: &AffiliateForm,
    id: Option<i64>,
) -> DomainResult<Result<CheckedAffiliate, Vec<FieldError>>> {
    let staff = actor.as_staff()?;
    let mut errors = Vec::new();
    let email = normalize_email(&form.email);
    if !looks_like_email(&email) {
        errors.push(FieldError::new("email", "Enter an email address, like partner@example.com."));
    } else if let Some(other) = Affiliate::find_by_email(conn, &email)?.filter(|a| Some(a.id) != id) {
        errors.push(FieldError::new("email", format!("{email} is already the email of affiliate #{}.", other.id)));
    }
    let name = form.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 100 {
        errors.push(FieldError::new("name", "Enter a name of 1 to 100 characters."));
    }
    let login = match form.login.trim() {
        "" => email.clone(),
        l if l.chars().count() > 100 => {
            errors.push(FieldError::new("login", "A login is at most 100 characters."));
            String::new()
        }
        l => l.to_string(),
    };
    let status = match AffiliateStatus::parse(form.status.trim()) {
        Some(s) => s,
        None => {
            errors.push(FieldError::new("status", "Choose a status from the list."));
            AffiliateStatus::Active
        }
    };
    let manager_id = if staff.is_admin {
        match form.manager_id.trim() {
            "" => None,
            raw => match raw.parse::<i64>().ok().map(|m| User::find(conn, m)).transpose()?.flatten() {
                Some(u) if !u.disabled => Some(u.id),
                Some(u) => {
                    errors.push(FieldError::new("manager_id", format!("{} is disabled.", u.name)));
                    None
                }
                None => {
                    errors.push(FieldError::new("manager_id", "Choose a manager from the list."));
                    None
                }
            },
        }
    } else {
        Some(staff.id)
    };
    if errors.is_empty() {
        Ok(Ok(CheckedAffiliate { email, login, name, status, manager_id }))
    } else {
        Ok(Err(errors))
    }
}

/// Use case: create an affiliate (a manager's becomes theirs). Without a password:
/// invite them to the panel from their page.
pub fn create_affiliate(
    conn: &mut AnyConnection,
    actor: &Actor,
    form: &AffiliateForm,
) -> DomainResult<Result<i64, Vec<FieldError>>> {
    write_transaction(conn, |conn| {
        let a = match check_affiliate(conn, actor, form, None)? {
            Ok(a) => a,
            Err(errors) => return Ok(Err(errors)),
        };
        let t = now();
        let id: i64 = diesel::insert_into(affiliates::table)
            .values((
                affiliates::email.eq(&a.email),
                affiliates::login.eq(&a.login),
                affiliates::name.eq(&a.name),
                affiliates::status.eq(a.status),
                affiliates::manager_id.eq(a.manager_id),
                affiliates::password_hash.eq(secrets::hash_password(&secrets::random_token(24))),
                affiliates::created_at.eq(t),
                affiliates::updated_at.eq(t),
                affiliates::disabled.eq(false),
            ))
            .returning(affiliates::id)
            .get_result(conn)?;
        audit::record(conn, actor, AuditAction::AddAffiliate, None, &format!("affiliate #{id} {}", a.email))?;
        Ok(Ok(id))
    })
}

/// The affiliate if the actor may edit them: admins any, managers their own.
pub fn editable_affiliate(conn: &mut AnyConnection, actor: &Actor, id: i64) -> DomainResult<Affiliate> {
    actor.as_staff()?;
    super::affiliates::visible_to(conn, actor, id)?.ok_or(DomainError::NotFound)
}

/// Use case: edit an affiliate. A new manager takes the affiliate's tickets with them.
pub fn update_affiliate(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: i64,
    form: &AffiliateForm,
) -> DomainResult<Result<Affiliate, Vec<FieldError>>> {
    write_transaction(conn, |conn| {
        let before = editable_affiliate(conn, actor, id)?;
        let mut a = match check_affiliate(conn, actor, form, Some(id))? {
            Ok(a) => a,
            Err(errors) => return Ok(Err(errors)),
        };
        if !actor.as_staff()?.is_admin {
            a.manager_id = before.manager_id;
        }
        diesel::update(affiliates::table.find(id))
            .set((
                affiliates::email.eq(&a.email),
                affiliates::login.eq(&a.login),
                affiliates::name.eq(&a.name),
                affiliates::status.eq(a.status),
                affiliates::manager_id.eq(a.manager_id),
                affiliates::updated_at.eq(now()),
            ))
            .execute(conn)?;
        if a.manager_id != before.manager_id {
            move_tickets(conn, id, a.manager_id)?;
        }
        if a.status == AffiliateStatus::Banned {
            accounts::end_sessions(conn, AccountKind::Affiliate, id)?;
        }
        let mut changes = Vec::new();
        if before.email != a.email {
            changes.push(format!("email {} -> {}", before.email, a.email));
        }
        if before.name != a.name {
            changes.push(format!("name {} -> {}", before.name, a.name));
        }
        if before.status != a.status {
            changes.push(format!("status {} -> {}", before.status, a.status));
        }
        if before.manager_id != a.manager_id {
            changes.push(format!("manager {:?} -> {:?}", before.manager_id, a.manager_id));
        }
        audit::record(
            conn,
            actor,
            AuditAction::EditAffiliate,
            None,
            &format!("affiliate #{id}: {}", changes.join("; ")),
        )?;
        Ok(Ok(Affiliate::find(conn, id)?.ok_or(DomainError::NotFound)?))
    })
}

/// Use case: disable or enable an affiliate. A disabled affiliate cannot log in
/// and their sessions end at once.
pub fn set_affiliate_disabled(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: i64,
    disabled: bool,
) -> DomainResult<Affiliate> {
    write_transaction(conn, |conn| {
        let a = editable_affiliate(conn, actor, id)?;
        diesel::update(affiliates::table.find(id))
            .set((affiliates::disabled.eq(disabled), affiliates::updated_at.eq(now())))
            .execute(conn)?;
        if disabled {
            accounts::end_sessions(conn, AccountKind::Affiliate, id)?;
        }
        let action = if disabled { AuditAction::DisableAffiliate } else { AuditAction::EnableAffiliate };
        audit::record(conn, actor, action, None, &format!("affiliate #{id} {}", a.email))?;
        Affiliate::find(conn, id)?.ok_or(DomainError::NotFound)
    })
}

/// The last change of an account's password link (the pages say "invited on ...").
pub fn last_invited(conn: &mut AnyConnection, kind: AccountKind, id: i64) -> DomainResult<Option<NaiveDateTime>> {
    use crate::db::schema::account_tokens;
    Ok(account_tokens::table
        .filter(account_tokens::account_kind.eq(kind))
        .filter(account_tokens::account_id.eq(id))
        .filter(account_tokens::purpose.eq(accounts::TokenPurpose::Invite))
        .order(account_tokens::created_at.desc())
        .select(account_tokens::created_at)
        .first(conn)
        .optional()?)
}
