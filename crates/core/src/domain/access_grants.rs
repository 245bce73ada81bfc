//! Who may run an offer or a Smartlink, seen from the offer: each affiliate's
//! access, how it was granted (by hand, by an approved request, in Affise, by an
//! import) and when; staff grant or take it away by hand. A manager sees and
//! changes only their own affiliates' access. A change to an offer's access is
//! pushed to Affise like a decision on a request.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::access::{Target, current_grant};
use super::catalogue_admin::CatalogueKind;
use super::states::AuditAction;
use super::states::{AccessGrant, AccessSource};
use super::tickets::Scope;
use super::{Actor, affise_push, audit, now};
use crate::db::schema::{affiliates, offer_access, smartlink_access, users};
use crate::db::{AnyConnection, write_transaction};
use crate::error::{DomainError, DomainResult};

/// One affiliate's access to an offer or a Smartlink.
#[derive(Clone, Debug, PartialEq)]
pub struct AccessRow {
    pub affiliate_id: i64,
    pub affiliate_name: String,
    pub state: AccessGrant,
    pub source: AccessSource,
    pub updated_at: NaiveDateTime,
    /// The staff member who made the last change; none for Affise and imports.
    pub updated_by: Option<String>,
}

pub struct AccessPage {
    pub rows: Vec<AccessRow>,
    pub total: i64,
}

fn target(kind: CatalogueKind, id: i64) -> Target {
    match kind {
        CatalogueKind::Offer => Target::Offer(id),
        CatalogueKind::Smartlink => Target::Smartlink(id),
    }
}

type RawRow = (i64, String, AccessGrant, AccessSource, NaiveDateTime, Option<i64>);

/// Use case: the access list of an offer or a Smartlink, latest change first, a
/// page at a time; a manager's list holds their own affiliates only.
pub fn access_page(
    conn: &mut AnyConnection,
    actor: &Actor,
    kind: CatalogueKind,
    id: i64,
    page: i64,
    per_page: i64,
) -> DomainResult<AccessPage> {
    actor.as_staff()?;
    let manager = match actor.scope() {
        Scope::Manager(m) => Some(m),
        _ => None,
    };
    let offset = (page.max(1) - 1).saturating_mul(per_page);
    macro_rules! page_of {
        ($table:ident, $column:ident) => {{
            let filtered = || {
                let mut q = $table::table.inner_join(affiliates::table).filter($table::$column.eq(id)).into_boxed();
                if let Some(m) = manager {
                    q = q.filter(affiliates::manager_id.eq(m));
                }
                q
            };
            let total: i64 = filtered().count().get_result(conn)?;
            let rows: Vec<RawRow> = filtered()
                .order(($table::updated_at.desc(), $table::affiliate_id.asc()))
                .limit(per_page)
                .offset(offset)
                .select((
                    $table::affiliate_id,
                    affiliates::name,
                    $table::state,
                    $table::source,
                    $table::updated_at,
                    $table::updated_by,
                ))
                .load(conn)?;
            (rows, total)
        }};
    }
    let (raw, total) = match kind {
        CatalogueKind::Offer => page_of!(offer_access, offer_id),
        CatalogueKind::Smartlink => page_of!(smartlink_access, smartlink_id),
    };
    let staff_ids: Vec<i64> = raw.iter().filter_map(|r| r.5).collect();
    let names: std::collections::HashMap<i64, String> = users::table
        .filter(users::id.eq_any(&staff_ids))
        .select((users::id, users::name))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect();
    let rows = raw
        .into_iter()
        .map(|(affiliate_id, affiliate_name, state, source, updated_at, by)| AccessRow {
            affiliate_id,
            affiliate_name,
            state,
            source,
            updated_at,
            updated_by: by.and_then(|b| names.get(&b).cloned()),
        })
        .collect();
    Ok(AccessPage { rows, total })
}

/// Use case: grant (`AccessGrant::Enabled`) or take away (`Disabled`) an
/// affiliate's access by hand. The affiliate must be the actor's to see; a grant
/// is recorded as by hand, a removal keeps how the access had come about. An
/// offer's change goes to Affise through the push outbox, in the same
/// transaction. Returns false when nothing changed.
pub fn set_by_hand(
    conn: &mut AnyConnection,
    actor: &Actor,
    kind: CatalogueKind,
    id: i64,
    affiliate_id: i64,
    grant: AccessGrant,
) -> DomainResult<bool> {
    let staff = actor.as_staff()?;
    write_transaction(conn, |conn| {
        super::catalogue_admin::item(conn, actor, kind, id)?;
        let affiliate = super::affiliates::visible_to(conn, actor, affiliate_id)?
            .ok_or_else(|| DomainError::invalid(format!("There is no affiliate #{affiliate_id} of yours.")))?;
        let t = target(kind, id);
        let before = current_grant(conn, t, affiliate_id)?;
        if before.is_some() == (grant == AccessGrant::Enabled) {
            return Ok(false);
        }
        let at = now();
        macro_rules! write_access {
            ($table:ident, $column:ident) => {{
                let updated = diesel::update($table::table.find((id, affiliate_id)))
                    .set((
                        $table::state.eq(grant),
                        $table::source
                            .eq(before.filter(|_| grant == AccessGrant::Disabled).unwrap_or(AccessSource::Manual)),
                        $table::updated_at.eq(at),
                        $table::updated_by.eq(Some(staff.id)),
                    ))
                    .execute(conn)?;
                if updated == 0 {
                    diesel::insert_into($table::table)
                        .values((
                            $table::$column.eq(id),
                            $table::affiliate_id.eq(affiliate_id),
                            $table::state.eq(grant),
                            $table::source.eq(AccessSource::Manual),
                            $table::updated_at.eq(at),
                            $table::updated_by.eq(Some(staff.id)),
                        ))
                        .execute(conn)?;
                }
            }};
        }
        match kind {
            CatalogueKind::Offer => {
                write_access!(offer_access, offer_id);
                let action = if grant == AccessGrant::Enabled {
                    affise_push::PushAction::Enable
                } else {
                    affise_push::PushAction::Disable
                };
                affise_push::enqueue(conn, None, action, id, affiliate_id, at)?;
            }
            CatalogueKind::Smartlink => write_access!(smartlink_access, smartlink_id),
        }
        let detail = match (grant, before) {
            (AccessGrant::Enabled, _) => format!("granted {} access to {t} by hand", affiliate.name),
            (AccessGrant::Disabled, Some(source)) => {
                format!("revoked {}'s access to {t} (granted {})", affiliate.name, source.how())
            }
            (AccessGrant::Disabled, None) => format!("revoked {}'s access to {t}", affiliate.name),
        };
        let action = if grant == AccessGrant::Enabled { AuditAction::GrantAccess } else { AuditAction::RevokeAccess };
        audit::record(conn, actor, action, None, &format!("affiliate #{affiliate_id}: {detail}"))?;
        Ok(true)
    })
}
