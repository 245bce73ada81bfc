//! Quick-reply templates: text a manager inserts into a reply, with variables
//! filled from the ticket on the server.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::{Actor, now};
use crate::db::AnyConnection;
use crate::db::schema::{reply_templates, users};
use crate::error::{AppError, AppResult};

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
    pub fn first_line(&self) -> &str {
        self.body.lines().find(|l| !l.trim().is_empty()).unwrap_or("")
    }
}

/// The variables a template may use, with what they stand for (shown in the editor).
pub const VARIABLES: [(&str, &str); 7] = [
    ("{affiliate.name}", "the affiliate's name"),
    ("{affiliate.id}", "the affiliate's ID"),
    ("{manager.name}", "the name of the manager replying"),
    ("{ticket.id}", "the ticket's ID"),
    ("{ticket.title}", "the ticket's title"),
    ("{offer.title}", "the offer's title (offer requests)"),
    ("{offer.id}", "the offer's ID (offer requests)"),
];

/// The values of a ticket for filling; `None` where the ticket has none (no offer).
#[derive(Clone, Debug, Default)]
pub struct TemplateValues {
    pub affiliate_name: String,
    pub affiliate_id: i64,
    pub manager_name: String,
    pub ticket_id: i64,
    pub ticket_title: String,
    pub offer_title: Option<String>,
    pub offer_id: Option<i64>,
}

/// The filled text, and the variables left in it for want of a value.
#[derive(Clone, Debug, PartialEq)]
pub struct Filled {
    pub text: String,
    pub missing: Vec<&'static str>,
}

/// Fills the known variables. One without a value (no offer on the ticket) stays
/// visible and is reported; unknown `{...}` text is left as it is.
pub fn fill(body: &str, v: &TemplateValues) -> Filled {
    let mut text = body.to_string();
    let mut missing = Vec::new();
    let values: [(&'static str, Option<String>); 7] = [
        ("{affiliate.name}", Some(v.affiliate_name.clone())),
        ("{affiliate.id}", Some(v.affiliate_id.to_string())),
        ("{manager.name}", Some(v.manager_name.clone())),
        ("{ticket.id}", Some(v.ticket_id.to_string())),
        ("{ticket.title}", Some(v.ticket_title.clone())),
        ("{offer.title}", v.offer_title.clone()),
        ("{offer.id}", v.offer_id.map(|id| id.to_string())),
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

/// A template with the name of who last changed it, for the list.
pub struct TemplateRow {
    pub template: ReplyTemplate,
    pub edited_by: Option<String>,
}

pub fn list(conn: &mut AnyConnection) -> AppResult<Vec<TemplateRow>> {
    let rows: Vec<(ReplyTemplate, Option<String>)> = reply_templates::table
        .left_join(users::table.on(users::id.nullable().eq(reply_templates::updated_by)))
        .order(reply_templates::title.asc())
        .select((ReplyTemplate::as_select(), users::name.nullable()))
        .load(conn)?;
    Ok(rows.into_iter().map(|(template, edited_by)| TemplateRow { template, edited_by }).collect())
}

pub fn find(conn: &mut AnyConnection, id: i64) -> AppResult<Option<ReplyTemplate>> {
    Ok(reply_templates::table.find(id).select(ReplyTemplate::as_select()).first(conn).optional()?)
}

/// Checked input of the editor: per-field messages for the form.
pub fn check(
    conn: &mut AnyConnection,
    id: Option<i64>,
    title: &str,
    body: &str,
) -> AppResult<Vec<(&'static str, String)>> {
    let mut errors = Vec::new();
    let title = title.trim();
    if title.is_empty() {
        errors.push(("title", "Enter a title.".to_string()));
    } else if title.chars().count() > 100 {
        errors.push(("title", "The title is too long (at most 100 characters).".to_string()));
    } else {
        let mut same =
            reply_templates::table.filter(reply_templates::title.eq(title)).select(reply_templates::id).into_boxed();
        if let Some(id) = id {
            same = same.filter(reply_templates::id.ne(id));
        }
        if same.first::<i64>(conn).optional()?.is_some() {
            errors.push(("title", format!("A template called \"{title}\" already exists.")));
        }
    }
    if body.trim().is_empty() {
        errors.push(("body", "Enter the text of the template.".to_string()));
    } else if body.chars().count() > 20_000 {
        errors.push(("body", "The text is too long (at most 20,000 characters).".to_string()));
    }
    Ok(errors)
}

pub fn create(conn: &mut AnyConnection, actor: &Actor, title: &str, body: &str) -> AppResult<ReplyTemplate> {
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
    find(conn, id)?.ok_or(AppError::NotFound)
}

pub fn update(conn: &mut AnyConnection, actor: &Actor, id: i64, title: &str, body: &str) -> AppResult<()> {
    let n = diesel::update(reply_templates::table.find(id))
        .set((
            reply_templates::title.eq(title.trim()),
            reply_templates::body.eq(body.trim_end()),
            reply_templates::updated_by.eq(actor.id()),
            reply_templates::updated_at.eq(now()),
        ))
        .execute(conn)?;
    if n == 0 { Err(AppError::NotFound) } else { Ok(()) }
}

pub fn delete(conn: &mut AnyConnection, id: i64) -> AppResult<()> {
    let n = diesel::delete(reply_templates::table.find(id)).execute(conn)?;
    if n == 0 { Err(AppError::NotFound) } else { Ok(()) }
}
