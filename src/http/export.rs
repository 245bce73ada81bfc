//! CSV export of a ticket filter, for the panel and the API alike: streamed a chunk
//! at a time (each read by an index range after the last ticket of the chunk
//! before), so a million rows never sit in memory.

use actix_web::HttpResponse;
use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::web::Bytes;

use super::AppState;
use super::stamp::date;
use crate::domain::Actor;
use crate::domain::ticket_filter::TicketFilter;
use crate::domain::ticket_list::{self, Cursor, ExportRow};
use crate::error::AppError;

/// Rows read per chunk: the list's largest page plus one, a statement kept prepared.
const CHUNK: u32 = 501;

pub const HEADER: &str = "\"id\",\"created\",\"updated\",\"status\",\"type\",\"request_state\",\"affiliate_id\",\"affiliate\",\"manager\",\"title\"\r\n";

/// The whole filter as CSV (`text/csv; charset=utf-8`, one header row).
pub fn csv(state: &AppState, actor: Actor, filter: TicketFilter) -> HttpResponse {
    let state = state.clone();
    let first = Some(Ok::<Bytes, AppError>(Bytes::from_static(HEADER.as_bytes())));
    let rows = futures_util::stream::unfold(Some(None::<Cursor>), move |after| {
        let (state, actor, filter) = (state.clone(), actor.clone(), filter.clone());
        async move {
            let after = after?;
            let chunk = state.db(move |conn| Ok(ticket_list::export_chunk(conn, &actor, &filter, after, CHUNK)?)).await;
            match chunk {
                Ok(rows) if rows.is_empty() => None,
                Ok(rows) => {
                    let next = rows.last().map(|r| Cursor { at: r.ticket.updated_at, id: r.ticket.id });
                    let done = rows.len() < CHUNK as usize;
                    let mut out = String::with_capacity(rows.len() * 120);
                    for r in &rows {
                        line(&mut out, r);
                    }
                    Some((Ok(Bytes::from(out)), if done { None } else { Some(next) }))
                }
                // The status line is sent; a broken export ends early and says so in the log.
                Err(e) => {
                    log::error!("CSV export stopped: {e}");
                    Some((Err(e), None))
                }
            }
        }
    });
    let body = futures_util::StreamExt::chain(futures_util::stream::iter(first), rows);
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename("tickets.csv".into())],
        })
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .streaming(body)
}

/// One ticket's row. Cells are written straight into the chunk's text: an export
/// writes ten of them for each of 100,000 rows or more.
fn line(out: &mut String, r: &ExportRow) {
    let t = &r.ticket;
    let (id, affiliate_id) = (t.id.to_string(), t.affiliate_id.to_string());
    let fields = [
        id.as_str(),
        &date(t.created_at),
        &date(t.updated_at),
        t.status.as_str(),
        t.kind.as_str(),
        t.request_state.map(|s| s.as_str()).unwrap_or_default(),
        &affiliate_id,
        &r.affiliate_name,
        r.manager_name.as_deref().unwrap_or_default(),
        &t.title,
    ];
    for (i, f) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_cell(out, f);
    }
    out.push_str("\r\n");
}

/// One CSV cell, always quoted: a spreadsheet whose locale separates cells with
/// `;` would otherwise split `x;=1+1` and run the second half. Text a spreadsheet
/// would run as a formula (`=`, `+`, `-`, `@`, tab, CR first) is made plain text
/// with a leading apostrophe.
pub fn push_cell(out: &mut String, value: &str) {
    out.push('"');
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        out.push('\'');
    }
    out.push_str(&value.replace('"', "\"\""));
    out.push('"');
}

#[cfg(test)]
mod tests {
    fn cell(value: &str) -> String {
        let mut out = String::new();
        super::push_cell(&mut out, value);
        out
    }

    #[test]
    fn cells_are_plain_text() {
        assert_eq!(cell("plain"), "\"plain\"");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("x;=1+1"), "\"x;=1+1\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("-1+1"), "\"'-1+1\"");
        assert_eq!(cell("two\nlines"), "\"two\nlines\"");
    }
}
