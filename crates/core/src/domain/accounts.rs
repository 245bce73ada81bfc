//! Accounts of people: invitations and password resets by emailed link, and
//! changing a password. A link carries a random token; only its SHA-256 is kept,
//! it is used once and it expires. Asking for a reset answers the same whether or
//! not the address has an account, and is throttled per account and per address.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::notify::{Account, MailEvent};
use super::outbox::{self, NewMail};
use super::states::AuditAction;
pub use super::states::{AccountKind, TokenPurpose};
use super::{Actor, audit, now, secrets, users};
use crate::db::schema::{account_tokens, affiliates, login_failures, sessions, users as users_t};
use crate::db::{AnyConnection, write_transaction};
use crate::error::{DomainError, DomainResult};

/// An invitation link works for a week; a reset link for an hour.
pub fn lifetime(purpose: TokenPurpose) -> Duration {
    match purpose {
        TokenPurpose::Invite => Duration::days(7),
        TokenPurpose::Reset | TokenPurpose::Unlock => Duration::hours(1),
    }
}

/// The login page of a panel, where an unlock link leads.
pub fn login_path(kind: AccountKind) -> &'static str {
    match kind {
        AccountKind::User => "/admin/login",
        AccountKind::Affiliate => "/affiliate/login",
    }
}

/// Reset emails per account in an hour, and reset requests per address in 15 minutes.
pub const RESETS_PER_ACCOUNT_PER_HOUR: i64 = 3;
pub const RESETS_PER_ADDRESS: i64 = 10;

/// The path of the page where a link's owner sets their password, in their panel.
pub fn set_password_path(kind: AccountKind) -> &'static str {
    match kind {
        AccountKind::User => "/admin/password",
        AccountKind::Affiliate => "/affiliate/password",
    }
}

/// Why a link no longer works, in words for the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkProblem {
    Unknown,
    Used,
    Expired,
}

impl LinkProblem {
    pub fn message(self) -> &'static str {
        match self {
            LinkProblem::Unknown => "This link is not valid. Copy the whole link from the email, or ask for a new one.",
            LinkProblem::Used => {
                "This link was already used. Ask for a new one if you need to set your password again."
            }
            LinkProblem::Expired => "This link has expired. Ask for a new one.",
        }
    }
}

/// Whose password a link sets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkOwner {
    pub kind: AccountKind,
    pub id: i64,
    pub email: String,
    pub name: String,
    pub purpose: TokenPurpose,
}

fn hash(token: &str) -> String {
    secrets::sha256_hex(token.as_bytes())
}

/// The name and email of an account.
fn contact(conn: &mut AnyConnection, kind: AccountKind, id: i64) -> DomainResult<Option<(String, String)>> {
    Ok(match kind {
        AccountKind::User => users_t::table.find(id).select((users_t::name, users_t::email)).first(conn).optional()?,
        AccountKind::Affiliate => {
            affiliates::table.find(id).select((affiliates::name, affiliates::email)).first(conn).optional()?
        }
    })
}

/// Makes a token for an account and writes its email into the outbox, in the
/// caller's transaction. Returns the token (the tests and the command line show it).
fn send_link(
    conn: &mut AnyConnection,
    kind: AccountKind,
    id: i64,
    purpose: TokenPurpose,
    sender: &str,
) -> DomainResult<String> {
    let (name, email) = contact(conn, kind, id)?.ok_or(DomainError::NotFound)?;
    let token = secrets::random_token(32);
    let t = now();
    diesel::insert_into(account_tokens::table)
        .values((
            account_tokens::token_hash.eq(hash(&token)),
            account_tokens::purpose.eq(purpose),
            account_tokens::account_kind.eq(kind),
            account_tokens::account_id.eq(id),
            account_tokens::created_at.eq(t),
            account_tokens::expires_at.eq(t + lifetime(purpose)),
        ))
        .execute(conn)?;
    let (event, body) = match purpose {
        TokenPurpose::Invite => (
            MailEvent::Invitation,
            format!("{sender} invited you to the support desk. The link works for 7 days and once."),
        ),
        TokenPurpose::Reset => (
            MailEvent::PasswordReset,
            "Someone (we hope you) asked to reset your password. The link works for one hour and once; \
             if it was not you, ignore this email and your password stays as it is."
                .to_string(),
        ),
        TokenPurpose::Unlock => (
            MailEvent::LoginUnlock,
            "Your account is locked after several wrong passwords (someone may be guessing it). This link \
             lets you log in with your own password although the account is locked; it works for one hour \
             and once. If the wrong passwords were not yours, consider a new password."
                .to_string(),
        ),
    };
    let link = match purpose {
        TokenPurpose::Unlock => format!("{}?unlock={token}", login_path(kind)),
        _ => format!("{}?token={token}", set_password_path(kind)),
    };
    let recipient = match kind {
        AccountKind::User => Account::User(id),
        AccountKind::Affiliate => Account::Affiliate(id),
    };
    outbox::enqueue(
        conn,
        &NewMail {
            event,
            ticket_id: 0,
            ticket_title: "",
            recipient,
            recipient_name: &name,
            recipient_email: &email,
            actor_name: sender,
            body: &body,
            link_path: &link,
            outcome: None,
            ticket_count: 1,
        },
        t,
    )?;
    Ok(token)
}

/// Use case: invite a user or an affiliate to set their password (a new account,
/// or one made by a sync or an import). Admins invite anyone; a manager invites
/// their own affiliates. Earlier links of the account stop working.
pub fn invite(conn: &mut AnyConnection, actor: &Actor, kind: AccountKind, id: i64) -> DomainResult<String> {
    write_transaction(conn, |conn| invite_in(conn, actor, kind, id))
}

/// `invite`, in the caller's transaction.
pub(crate) fn invite_in(conn: &mut AnyConnection, actor: &Actor, kind: AccountKind, id: i64) -> DomainResult<String> {
    let staff = actor.as_staff()?;
    match kind {
        AccountKind::User if !staff.is_admin => return Err(DomainError::not_allowed("Only admins invite people.")),
        AccountKind::User => {
            users_t::table.find(id).select(users_t::id).first::<i64>(conn).optional()?.ok_or(DomainError::NotFound)?;
        }
        AccountKind::Affiliate => {
            super::affiliates::visible_to(conn, actor, id)?.ok_or(DomainError::NotFound)?;
        }
    }
    retire_links(conn, kind, id)?;
    let token = send_link(conn, kind, id, TokenPurpose::Invite, &staff.name)?;
    audit::record(conn, actor, AuditAction::Invite, None, &format!("{} #{id}", kind.as_str()))?;
    Ok(token)
}

/// Every earlier link of the account stops working.
fn retire_links(conn: &mut AnyConnection, kind: AccountKind, id: i64) -> DomainResult<()> {
    diesel::update(
        account_tokens::table
            .filter(account_tokens::account_kind.eq(kind))
            .filter(account_tokens::account_id.eq(id))
            .filter(account_tokens::used_at.is_null()),
    )
    .set(account_tokens::used_at.eq(Some(now())))
    .execute(conn)?;
    Ok(())
}

/// Use case: someone asks for a password reset link for `email` of a panel, from
/// `address`. Nothing tells them whether the account exists: the answer is the same
/// and an email goes out only when it does, at most `RESETS_PER_ACCOUNT_PER_HOUR`.
/// Returns the token when one was sent (for tests and logs, never for the page).
pub fn request_reset(
    conn: &mut AnyConnection,
    kind: AccountKind,
    email: &str,
    address: &str,
) -> DomainResult<Option<String>> {
    request_link(conn, kind, email, address, TokenPurpose::Reset)
}

/// Use case: the owner of an account locked by failed logins asks for the link
/// that lets them log in with their password. The same answer, and the same
/// throttles, as a password reset.
pub fn request_unlock(
    conn: &mut AnyConnection,
    kind: AccountKind,
    email: &str,
    address: &str,
) -> DomainResult<Option<String>> {
    request_link(conn, kind, email, address, TokenPurpose::Unlock)
}

fn request_link(
    conn: &mut AnyConnection,
    kind: AccountKind,
    email: &str,
    address: &str,
    purpose: TokenPurpose,
) -> DomainResult<Option<String>> {
    let email = users::normalize_email(email);
    write_transaction(conn, |conn| {
        let t = now();
        let window = t - Duration::minutes(super::logins::WINDOW_MINUTES);
        let from_address: i64 = login_failures::table
            .filter(login_failures::address.eq(address))
            .filter(login_failures::account.like("reset:%"))
            .filter(login_failures::at.gt(window))
            .count()
            .get_result(conn)?;
        diesel::insert_into(login_failures::table)
            .values((
                login_failures::account.eq(format!("reset:{}:{}:{email}", purpose.as_str(), kind.as_str())),
                login_failures::address.eq(address),
                login_failures::at.eq(t),
            ))
            .execute(conn)?;
        if from_address >= RESETS_PER_ADDRESS {
            log::warn!("password reset requests from {address} throttled");
            return Ok(None);
        }
        let account: Option<(i64, bool)> = match kind {
            AccountKind::User => users_t::table
                .filter(users_t::email.eq(&email))
                .select((users_t::id, users_t::disabled))
                .first(conn)
                .optional()?,
            AccountKind::Affiliate => affiliates::table
                .filter(affiliates::email.eq(&email))
                .select((affiliates::id, affiliates::disabled))
                .first(conn)
                .optional()?,
        };
        let Some((id, false)) = account else { return Ok(None) };
        let recent: i64 = account_tokens::table
            .filter(account_tokens::account_kind.eq(kind))
            .filter(account_tokens::account_id.eq(id))
            .filter(account_tokens::purpose.eq(purpose))
            .filter(account_tokens::created_at.gt(t - Duration::hours(1)))
            .count()
            .get_result(conn)?;
        if recent >= RESETS_PER_ACCOUNT_PER_HOUR {
            return Ok(None);
        }
        Ok(Some(send_link(conn, kind, id, purpose, "affdesk")?))
    })
}

/// Whose link this is, if it still works and belongs to this panel's kind of
/// account (the "set your password" page asks first).
pub fn check_link(
    conn: &mut AnyConnection,
    kind: AccountKind,
    token: &str,
) -> DomainResult<Result<LinkOwner, LinkProblem>> {
    Ok(check_link_at(conn, token, now())?.and_then(|o| if o.kind == kind { Ok(o) } else { Err(LinkProblem::Unknown) }))
}

fn check_link_at(
    conn: &mut AnyConnection,
    token: &str,
    at: NaiveDateTime,
) -> DomainResult<Result<LinkOwner, LinkProblem>> {
    if token.is_empty() || token.len() > 200 {
        return Ok(Err(LinkProblem::Unknown));
    }
    // An unlock link lets its owner log in; it never sets a password.
    let row: Option<(AccountKind, i64, TokenPurpose, NaiveDateTime, Option<NaiveDateTime>)> = account_tokens::table
        .filter(account_tokens::token_hash.eq(hash(token)))
        .filter(account_tokens::purpose.ne(TokenPurpose::Unlock))
        .select((
            account_tokens::account_kind,
            account_tokens::account_id,
            account_tokens::purpose,
            account_tokens::expires_at,
            account_tokens::used_at,
        ))
        .first(conn)
        .optional()?;
    let Some((kind, id, purpose, expires_at, used_at)) = row else { return Ok(Err(LinkProblem::Unknown)) };
    if used_at.is_some() {
        return Ok(Err(LinkProblem::Used));
    }
    if expires_at <= at {
        return Ok(Err(LinkProblem::Expired));
    }
    let Some((name, email)) = contact(conn, kind, id)? else { return Ok(Err(LinkProblem::Unknown)) };
    Ok(Ok(LinkOwner { kind, id, email, name, purpose }))
}

/// What is wrong with a new password, in words; `None` when it will do.
pub fn password_problem(password: &str, repeat: &str) -> Option<&'static str> {
    if password.chars().count() < 10 {
        Some("Use at least 10 characters.")
    } else if password.chars().count() > 200 {
        Some("Use at most 200 characters.")
    } else if password != repeat {
        Some("The two passwords are not the same.")
    } else {
        None
    }
}

/// Use case: the owner of a link sets their password. The link is used up, every
/// other link of the account stops working, and every session of the account ends
/// (whoever was logged in with the old password is logged out).
pub fn set_password_with_link(
    conn: &mut AnyConnection,
    kind: AccountKind,
    token: &str,
    password: &str,
) -> DomainResult<Result<LinkOwner, LinkProblem>> {
    let password_hash = secrets::hash_password(password);
    write_transaction(conn, |conn| {
        let owner = match check_link(conn, kind, token)? {
            Ok(owner) => owner,
            Err(problem) => return Ok(Err(problem)),
        };
        // Used in the same statement that checks it is unused: a second submit loses.
        let used = diesel::update(
            account_tokens::table
                .filter(account_tokens::token_hash.eq(hash(token)))
                .filter(account_tokens::used_at.is_null()),
        )
        .set(account_tokens::used_at.eq(Some(now())))
        .execute(conn)?;
        if used != 1 {
            return Ok(Err(LinkProblem::Used));
        }
        store_password(conn, owner.kind, owner.id, &password_hash)?;
        retire_links(conn, owner.kind, owner.id)?;
        end_sessions(conn, owner.kind, owner.id)?;
        let actor = match owner.kind {
            AccountKind::User => Actor::staff(
                super::Staff { id: owner.id, name: owner.name.clone(), is_admin: false, sees_all_tickets: false },
                super::Via::Panel,
            ),
            AccountKind::Affiliate => {
                Actor::affiliate(owner.id, super::states::AffiliateStatus::Active, super::Via::Panel)
            }
        };
        let what = if owner.purpose == TokenPurpose::Invite { "accepted the invitation" } else { "reset the password" };
        audit::record(conn, &actor, AuditAction::SetPassword, None, what)?;
        Ok(Ok(owner))
    })
}

fn store_password(conn: &mut AnyConnection, kind: AccountKind, id: i64, password_hash: &str) -> DomainResult<()> {
    let t = now();
    match kind {
        AccountKind::User => diesel::update(users_t::table.find(id))
            .set((users_t::password_hash.eq(password_hash), users_t::updated_at.eq(t)))
            .execute(conn)?,
        AccountKind::Affiliate => diesel::update(affiliates::table.find(id))
            .set((affiliates::password_hash.eq(password_hash), affiliates::updated_at.eq(t)))
            .execute(conn)?,
    };
    Ok(())
}

/// Ends every session of an account at once.
pub fn end_sessions(conn: &mut AnyConnection, kind: AccountKind, id: i64) -> DomainResult<usize> {
    Ok(match kind {
        AccountKind::User => diesel::delete(sessions::table.filter(sessions::user_id.eq(id))).execute(conn)?,
        AccountKind::Affiliate => {
            diesel::delete(sessions::table.filter(sessions::affiliate_id.eq(id))).execute(conn)?
        }
    })
}

/// Why a password change was refused, and next to which field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasswordRefusal {
    pub field: &'static str,
    pub message: &'static str,
}

/// Use case: a logged-in person changes their password, giving the old one.
pub fn change_password(
    conn: &mut AnyConnection,
    kind: AccountKind,
    id: i64,
    old: &str,
    new: &str,
    repeat: &str,
) -> DomainResult<Result<(), PasswordRefusal>> {
    let current: Option<String> = match kind {
        AccountKind::User => users_t::table.find(id).select(users_t::password_hash).first(conn).optional()?,
        AccountKind::Affiliate => {
            affiliates::table.find(id).select(affiliates::password_hash).first(conn).optional()?
        }
    };
    let current = current.ok_or(DomainError::NotFound)?;
    if !secrets::verify_password(old, &current) {
        return Ok(Err(PasswordRefusal { field: "old_password", message: "This is not your current password." }));
    }
    if let Some(problem) = password_problem(new, repeat) {
        return Ok(Err(PasswordRefusal { field: "new_password", message: problem }));
    }
    store_password(conn, kind, id, &secrets::hash_password(new))?;
    retire_links(conn, kind, id)?;
    Ok(Ok(()))
}

/// Whether `token` is a live unlock link of the account `email` of `kind`.
pub fn unlock_is_valid(conn: &mut AnyConnection, kind: AccountKind, token: &str, email: &str) -> DomainResult<bool> {
    let t = now();
    let owner: Option<i64> = account_tokens::table
        .filter(account_tokens::token_hash.eq(hash(token.trim())))
        .filter(account_tokens::purpose.eq(TokenPurpose::Unlock))
        .filter(account_tokens::account_kind.eq(kind))
        .filter(account_tokens::used_at.is_null())
        .filter(account_tokens::expires_at.gt(t))
        .select(account_tokens::account_id)
        .first(conn)
        .optional()?;
    let Some(id) = owner else { return Ok(false) };
    Ok(contact(conn, kind, id)?.is_some_and(|(_, e)| e == users::normalize_email(email)))
}

/// An unlock link has let its owner in: it works no more.
pub fn use_unlock(conn: &mut AnyConnection, token: &str) -> DomainResult<()> {
    diesel::update(account_tokens::table.filter(account_tokens::token_hash.eq(hash(token.trim()))))
        .set(account_tokens::used_at.eq(Some(now())))
        .execute(conn)?;
    Ok(())
}
