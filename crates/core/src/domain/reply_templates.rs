//! Quick-reply templates: text a manager inserts into a reply, with variables
//! filled from the ticket on the server.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::actor::{Actor, Staff};
use super::affiliates::Affiliate;
use super::catalogue::{Offer, Smartlink};
use super::ticket_filter::FieldError;
use super::tickets::Ticket;
use super::{Acted, now};
use crate::db::schema::{reply_templates, users};
use crate::db::{AnyConnection, write_transaction};
use crate::error::{DomainError, DomainResult};

#[derive(Queryable, Selectable, Identifiable, Debug, Clone, PartialEq)]
#[diesel(table_name = reply_templates)]
pub struct ReplyTemplate {
    pub id: i64,
    pub title: String,
    pub body: String,
    pub created_by: Option<i64>,
    pub updated_by: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl ReplyTemplate {
    /// Every manager uses every template; its author and admins change it. A team's
    /// wording is shared, but nobody rewrites a colleague's reply under them.
    pub fn editable_by(&self, staff: &Staff) -> bool {
        staff.is_admin || self.created_by == Some(staff.id)
    }

    pub fn first_line(&self) -> &str {
        self.body.lines().find(|l| !l.trim().is_empty()).unwrap_or("")
    }
}

/// The variables a template may use, with what they stand for (shown in the editor).
pub const VARIABLES: [(&str, &str); 11] = [
    ("{affiliate.name}", "the affiliate's name"),
    ("{affiliate.id}", "the affiliate's ID"),
    ("{manager.name}", "the name of the manager replying"),
    ("{ticket.id}", "the ticket's ID"),
    ("{ticket.title}", "the ticket's title"),
    ("{offer.title}", "the offer's title (offer requests)"),
    ("{offer.id}", "the offer's ID (offer requests)"),
    ("{offer.payout}", "the offer's payout with its currency, such as 12.50 USD (offer requests)"),
    ("{offer.preview_url}", "the offer's preview link (offer requests)"),
    ("{smartlink.title}", "the Smartlink's name (Smartlink requests)"),
    ("{smartlink.id}", "the Smartlink's ID (Smartlink requests)"),
];

/// The values of a ticket for filling; `None` where the ticket has none (no offer).
#[derive(Clone, Debug, Default)]
pub struct TemplateValues {
    pub affiliate_name: String,
    pub affiliate_id: i64,
    pub manager_name: String,
    pub ticket_id: i64,
    pub ticket_title: String,
    pub offer: Option<Offer>,
    pub smartlink: Option<Smartlink>,
}

/// The filled text, and the variables left in it for want of a value.
#[derive(Clone, Debug, PartialEq)]
pub struct Filled {
    pub text: String,
    pub missing: Vec<&'static str>,
}

/// Fills the known variables. One without a value (no offer on the ticket) stays
/// visible and is reported. Saved templates hold no unknown variables (`check`).
pub fn fill(body: &str, v: &TemplateValues) -> Filled {
    let mut text = body.to_string();
    let mut missing = Vec::new();
    let offer = v.offer.as_ref();
    let smartlink = v.smartlink.as_ref();
    let values: [(&'static str, Option<String>); 11] = [
        ("{affiliate.name}", Some(v.affiliate_name.clone())),
        ("{affiliate.id}", Some(v.affiliate_id.to_string())),
        ("{manager.name}", Some(v.manager_name.clone())),
        ("{ticket.id}", Some(v.ticket_id.to_string())),
        ("{ticket.title}", Some(v.ticket_title.clone())),
        ("{offer.title}", offer.map(|o| o.title.clone())),
        ("{offer.id}", offer.map(|o| o.id.to_string())),
        ("{offer.payout}", offer.map(Offer::payout_text)),
        ("{offer.preview_url}", offer.map(|o| o.preview_url.clone()).filter(|u| !u.is_empty())),
        ("{smartlink.title}", smartlink.map(|s| s.name.clone())),
        ("{smartlink.id}", smartlink.map(|s| s.id.to_string())),
    ];
    for (name, value) in values {
        if !text.contains(name) {
            continue;
        }
        match value {
            Some(value) => text = text.replace(name, &value),
            None => missing.push(name),
        }
    }
    Filled { text, missing }
}

/// The `{...}` words of a text that look like variables but are none of ours (a
/// typo, or another helpdesk's), each once, in the order they appear.
pub fn unknown_variables(body: &str) -> Vec<String> {
    let mut unknown: Vec<String> = Vec::new();
    let mut rest = body;
    while let Some(open) = rest.find('{') {
        rest = &rest[open..];
        let word_end = rest[1..].find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '_'));
        match word_end {
            Some(n) if n > 0 && rest[1 + n..].starts_with('}') => {
                let word = &rest[..n + 2];
                if !VARIABLES.iter().any(|(name, _)| *name == word) && !unknown.iter().any(|u| u == word) {
                    unknown.push(word.to_string());
                }
                rest = &rest[n + 2..];
            }
            _ => rest = &rest[1..],
        }
    }
    unknown
}

/// A template with the name of who last changed it, for the list.
pub struct TemplateRow {
    pub template: ReplyTemplate,
    pub edited_by: Option<String>,
    /// May the person reading the list change it?
    pub editable: bool,
}

pub fn list(conn: &mut AnyConnection) -> DomainResult<Vec<TemplateRow>> {
    let rows: Vec<(ReplyTemplate, Option<String>)> = reply_templates::table
        .left_join(users::table.on(users::id.nullable().eq(reply_templates::updated_by)))
        .order(reply_templates::title.asc())
        .select((ReplyTemplate::as_select(), users::name.nullable()))
        .load(conn)?;
    Ok(rows.into_iter().map(|(template, edited_by)| TemplateRow { template, edited_by, editable: false }).collect())
}

/// The templates, each marked with whether the actor may change it.
pub fn list_for(conn: &mut AnyConnection, actor: &Actor) -> DomainResult<Vec<TemplateRow>> {
    let staff = actor.as_staff()?;
    let mut rows = list(conn)?;
    for r in &mut rows {
        r.editable = r.template.editable_by(staff);
    }
    Ok(rows)
}

/// A template the actor may change, for its editor: forbidden otherwise.
pub fn find_editable(conn: &mut AnyConnection, actor: &Actor, id: i64) -> DomainResult<ReplyTemplate> {
    let staff = actor.as_staff()?;
    let template = find(conn, id)?.ok_or(DomainError::NotFound)?;
    if template.editable_by(staff) { Ok(template) } else { Err(not_yours()) }
}

fn not_yours() -> DomainError {
    DomainError::not_allowed("Only the template's author or an admin can change it.")
}

pub fn find(conn: &mut AnyConnection, id: i64) -> DomainResult<Option<ReplyTemplate>> {
    Ok(reply_templates::table.find(id).select(ReplyTemplate::as_select()).get_result(conn).optional()?)
}

/// Use case: fill a template for a reply to a ticket the manager may see, with the
/// ticket's values and the manager's name. `None` when no template (or none of
/// that id) was chosen; the ticket must be one the manager may see either way.
pub fn fill_for_ticket(
    conn: &mut AnyConnection,
    actor: &Actor,
    ticket_id: i64,
    template_id: Option<i64>,
) -> DomainResult<Option<(ReplyTemplate, Filled)>> {
    let staff = actor.as_staff()?;
    let ticket = Ticket::find_visible(conn, &actor.scope(), ticket_id)?;
    let Some(template) = template_id.map(|id| find(conn, id)).transpose()?.flatten() else { return Ok(None) };
    let affiliate = Affiliate::find(conn, ticket.affiliate_id)?.ok_or(DomainError::NotFound)?;
    let offer = match ticket.offer_id {
        Some(id) => Offer::find(conn, id)?,
        None => None,
    };
    let smartlink = match ticket.smartlink_id {
        Some(id) => Smartlink::find(conn, id)?,
        None => None,
    };
    let values = TemplateValues {
        affiliate_name: affiliate.name,
        affiliate_id: affiliate.id,
        manager_name: staff.name.clone(),
        ticket_id: ticket.id,
        ticket_title: ticket.title,
        offer,
        smartlink,
    };
    let filled = fill(&template.body, &values);
    Ok(Some((template, filled)))
}

/// Why a template was not saved: what is wrong, field by field.
#[derive(Clone, Debug, PartialEq)]
pub struct NotSaved {
    pub errors: Vec<FieldError>,
    /// Another template has this title (a conflict for the API).
    pub duplicate_title: bool,
}

/// Use case: create (`id` None) or edit a template. Field errors come back for the
/// form; nothing is written then.
pub fn save(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: Option<i64>,
    title: &str,
    body: &str,
) -> DomainResult<Acted<Result<ReplyTemplate, NotSaved>>> {
    actor.as_staff()?;
    write_transaction(conn, |conn| {
        if let Some(id) = id {
            find_editable(conn, actor, id)?;
        }
        let refused = check(conn, id, title, body)?;
        if !refused.errors.is_empty() {
            return Ok(Acted::quiet(Err(refused)));
        }
        let saved = match id {
            Some(id) => update(conn, actor, id, title, body)?,
            None => create(conn, actor, title, body)?,
        };
        Ok(Acted::new(Ok(saved), super::lookups::changed(conn)?))
    })
}

/// Use case: delete a template.
pub fn delete(conn: &mut AnyConnection, actor: &Actor, id: i64) -> DomainResult<Acted<()>> {
    find_editable(conn, actor, id)?;
    let n = diesel::delete(reply_templates::table.find(id)).execute(conn)?;
    if n == 0 {
        return Err(DomainError::NotFound);
    }
    Ok(super::lookups::changed(conn)?.into())
}

/// Checked input of the editor: per-field messages for the form.
fn check(conn: &mut AnyConnection, id: Option<i64>, title: &str, body: &str) -> DomainResult<NotSaved> {
    let mut errors = Vec::new();
    let mut duplicate_title = false;
    let title = title.trim();
    if title.is_empty() {
        errors.push(FieldError::new("title", "Enter a title."));
    } else if title.chars().count() > 100 {
        errors.push(FieldError::new("title", "The title is too long (at most 100 characters)."));
    } else {
        let mut same =
            reply_templates::table.filter(reply_templates::title.eq(title)).select(reply_templates::id).into_boxed();
        if let Some(id) = id {
            same = same.filter(reply_templates::id.ne(id));
        }
        if same.get_result::<i64>(conn).optional()?.is_some() {
            duplicate_title = true;
            errors.push(FieldError::new("title", format!("A template called \"{title}\" already exists.")));
        }
    }
    if body.trim().is_empty() {
        errors.push(FieldError::new("body", "Enter the text of the template."));
    } else if body.chars().count() > 20_000 {
        errors.push(FieldError::new("body", "The text is too long (at most 20,000 characters)."));
    } else {
        // Saved, an unknown variable would reach the affiliate as typed.
        let unknown = unknown_variables(body);
        if !unknown.is_empty() {
            errors.push(FieldError::new(
                "body",
                format!(
                    "{} {} not a variable: use one of those listed beside the text, or write it without braces.",
                    unknown.join(", "),
                    if unknown.len() == 1 { "is" } else { "are" }
                ),
            ));
        }
    }
    Ok(NotSaved { errors, duplicate_title })
}

fn create(conn: &mut AnyConnection, actor: &Actor, title: &str, body: &str) -> DomainResult<ReplyTemplate> {
    let t = now();
    let id: i64 = diesel::insert_into(reply_templates::table)
        .values((
            reply_templates::title.eq(title.trim()),
            reply_templates::body.eq(body.trim_end()),
            reply_templates::created_by.eq(actor.id()),
            reply_templates::updated_by.eq(actor.id()),
            reply_templates::created_at.eq(t),
            reply_templates::updated_at.eq(t),
        ))
        .returning(reply_templates::id)
        .get_result(conn)?;
    find(conn, id)?.ok_or(DomainError::NotFound)
}

fn update(conn: &mut AnyConnection, actor: &Actor, id: i64, title: &str, body: &str) -> DomainResult<ReplyTemplate> {
    let n = diesel::update(reply_templates::table.find(id))
        .set((
            reply_templates::title.eq(title.trim()),
            reply_templates::body.eq(body.trim_end()),
            reply_templates::updated_by.eq(actor.id()),
            reply_templates::updated_at.eq(now()),
        ))
        .execute(conn)?;
    if n == 0 { Err(DomainError::NotFound) } else { find(conn, id)?.ok_or(DomainError::NotFound) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_variables_are_named_once_and_ours_and_plain_braces_pass() {
        assert_eq!(
            unknown_variables("Hi {affiliate.name}, {smartlink.titel} {x} {smartlink.titel} { not one } {}"),
            vec!["{smartlink.titel}".to_string(), "{x}".to_string()]
        );
        assert!(unknown_variables("{offer.payout} {smartlink.title} {smartlink.id} {{ offer.id }").is_empty());
        assert_eq!(unknown_variables("{{offer.idx}"), vec!["{offer.idx}".to_string()]);
        assert!(unknown_variables("{é.x} {").is_empty());
    }

    #[test]
    fn smartlink_and_payout_fill_from_the_ticket() {
        let values = TemplateValues {
            smartlink: Some(Smartlink {
                id: 7,
                name: "Dating mix".into(),
                privacy: crate::domain::states::Privacy::Public,
                created_at: chrono::NaiveDateTime::default(),
                affise_id: None,
            }),
            ..TemplateValues::default()
        };
        let filled = fill("{smartlink.title} ({smartlink.id}) pays {offer.payout}", &values);
        assert_eq!(filled.text, "Dating mix (7) pays {offer.payout}");
        assert_eq!(filled.missing, vec!["{offer.payout}"]);
    }
}
