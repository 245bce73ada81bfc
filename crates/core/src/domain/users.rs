//! Users of the admin panel: admins and affiliate managers.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::actor::{Actor, Staff, Via};
pub use super::states::Role;
use super::{Acted, now, secrets};
use crate::db::AnyConnection;
use crate::db::schema::users;
use crate::error::{DomainError, DomainResult};

/// Serializable so the session store can hand the logged-in account to the request
/// that loaded it (src/web/session_store.rs); the password hash stays out of that.
#[derive(Queryable, Selectable, Identifiable, Debug, Clone, serde::Serialize, serde::Deserialize)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i64,
    pub kind: Role,
    pub email: String,
    pub name: String,
    #[serde(skip, default)]
    pub password_hash: String,
    pub disabled: bool,
    pub sees_all_tickets: bool,
    #[diesel(deserialize_as = crate::db::Stamp)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::db::MaybeStamp)]
    pub last_login_at: Option<NaiveDateTime>,
    /// The user's id in the network's Affise (24 hex digits), when it came from there.
    pub affise_id: Option<String>,
}

/// What lists and pickers show of a user.
#[derive(Queryable, Selectable, Debug, Clone, PartialEq)]
#[diesel(table_name = users)]
pub struct UserSummary {
    pub id: i64,
    pub name: String,
    pub email: String,
}

impl User {
    pub fn is_admin(&self) -> bool {
        self.kind == Role::Admin
    }

    /// The user as the actor of a use case.
    pub fn actor(&self, via: Via) -> Actor {
        Actor::staff(
            Staff {
                id: self.id,
                name: self.name.clone(),
                is_admin: self.is_admin(),
                sees_all_tickets: self.sees_all_tickets,
            },
            via,
        )
    }

    pub fn find(conn: &mut AnyConnection, id: i64) -> DomainResult<Option<User>> {
        Ok(users::table.find(id).select(User::as_select()).get_result(conn).optional()?)
    }

    pub fn find_by_email(conn: &mut AnyConnection, email: &str) -> DomainResult<Option<User>> {
        Ok(users::table
            .filter(users::email.eq(normalize_email(email)))
            .select(User::as_select())
            .get_result(conn)
            .optional()?)
    }

    pub fn find_by_api_key(conn: &mut AnyConnection, key: &str) -> DomainResult<Option<User>> {
        Ok(users::table
            .filter(users::api_key_hash.eq(secrets::hash_api_key(key)))
            .select(User::as_select())
            .get_result(conn)
            .optional()?)
    }

    /// Checks a login; `None` for a wrong email, a wrong password or a disabled account
    /// alike, so the login page cannot be used to probe which emails exist.
    pub fn authenticate(conn: &mut AnyConnection, email: &str, password: &str) -> DomainResult<Option<User>> {
        let user = User::find_by_email(conn, email)?;
        let hash = user.as_ref().map(|u| u.password_hash.as_str()).unwrap_or(secrets::dummy_password_hash());
        let ok = secrets::verify_password(password, hash);
        match user {
            Some(u) if ok && !u.disabled => {
                diesel::update(users::table.find(u.id)).set(users::last_login_at.eq(now())).execute(conn)?;
                Ok(Some(u))
            }
            _ => Ok(None),
        }
    }

    pub fn create(
        conn: &mut AnyConnection,
        email: &str,
        name: &str,
        role: Role,
        password: &str,
    ) -> DomainResult<Acted<User>> {
        let email = normalize_email(email);
        if !looks_like_email(&email) {
            return Err(DomainError::invalid(format!("{email:?} is not an email address")));
        }
        if name.trim().is_empty() {
            return Err(DomainError::invalid("the name must not be empty"));
        }
        if password.chars().count() < 8 {
            return Err(DomainError::invalid("the password must have at least 8 characters"));
        }
        if User::find_by_email(conn, &email)?.is_some() {
            return Err(DomainError::conflict(format!("a user with the email {email} already exists")));
        }
        let t = now();
        let id: i64 = diesel::insert_into(users::table)
            .values((
                users::kind.eq(role),
                users::email.eq(&email),
                users::name.eq(name.trim()),
                users::password_hash.eq(secrets::hash_password(password)),
                users::disabled.eq(false),
                users::sees_all_tickets.eq(false),
                users::created_at.eq(t),
                users::updated_at.eq(t),
            ))
            .returning(users::id)
            .get_result(conn)?;
        // A new name in the managers' filter.
        let effects = super::lookups::changed(conn)?;
        Ok(Acted::new(User::find(conn, id)?.ok_or(DomainError::NotFound)?, effects))
    }

    /// Issues a new API key (the old one stops working) and returns it; only its hash is kept.
    pub fn issue_api_key(conn: &mut AnyConnection, id: i64) -> DomainResult<String> {
        let key = secrets::new_api_key();
        diesel::update(users::table.find(id))
            .set((users::api_key_hash.eq(secrets::hash_api_key(&key)), users::updated_at.eq(now())))
            .execute(conn)?;
        Ok(key)
    }

    pub fn set_disabled(conn: &mut AnyConnection, id: i64, disabled: bool) -> DomainResult<()> {
        diesel::update(users::table.find(id))
            .set((users::disabled.eq(disabled), users::updated_at.eq(now())))
            .execute(conn)?;
        Ok(())
    }

    /// Managers and admins, for filters and pickers.
    pub fn list_staff(conn: &mut AnyConnection) -> DomainResult<Vec<UserSummary>> {
        Ok(users::table.order(users::name.asc()).select(UserSummary::as_select()).load(conn)?)
    }
}

pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

pub fn looks_like_email(email: &str) -> bool {
    let mut parts = email.split('@');
    matches!((parts.next(), parts.next(), parts.next()), (Some(l), Some(d), None) if !l.is_empty() && d.contains('.') && !email.contains(char::is_whitespace))
}
