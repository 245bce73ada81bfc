//! Small helpers the tests share: reading rows out of pages, and database truths.

use affdesk::db::AnyConnection;
use diesel::prelude::*;

use crate::harness::TestApp;

/// The ticket ids of the rows of a list page, in order.
pub fn row_ids(body: &str) -> Vec<i64> {
    body.match_indices("<tr id=\"ticket-")
        .filter_map(|(i, m)| {
            let rest = &body[i + m.len()..];
            rest[..rest.find('"')?].parse().ok()
        })
        .collect()
}

/// The href of the first link whose text contains `text`.
pub fn link_with_text(body: &str, text: &str) -> Option<String> {
    let at = body.find(text)?;
    let start = body[..at].rfind("href=\"")? + 6;
    let end = start + body[start..].find('"')?;
    Some(body[start..end].replace("&amp;", "&").replace("&#38;", "&"))
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
}

/// Ticket ids matching a SQL condition, in the list's default order.
pub fn ids_where(app: &TestApp, condition: &str) -> Vec<i64> {
    let mut conn = app.conn();
    diesel::sql_query(format!("SELECT id FROM tickets WHERE {condition} ORDER BY updated_at DESC, id DESC"))
        .load::<Id>(&mut *conn as &mut AnyConnection)
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect()
}

pub fn scalar(app: &TestApp, sql: &str) -> i64 {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = app.conn();
    diesel::sql_query(sql).get_result::<N>(&mut *conn as &mut AnyConnection).unwrap().n
}

pub fn text(app: &TestApp, sql: &str) -> String {
    #[derive(QueryableByName)]
    struct T {
        #[diesel(sql_type = diesel::sql_types::Text)]
        t: String,
    }
    let mut conn = app.conn();
    diesel::sql_query(sql).get_result::<T>(&mut *conn as &mut AnyConnection).unwrap().t
}

pub fn user_id(app: &TestApp, email: &str) -> i64 {
    scalar(app, &format!("SELECT id AS n FROM users WHERE email = '{email}'"))
}

/// The totals table agrees with the tickets.
pub fn assert_counts_consistent(app: &TestApp) {
    let bad = scalar(
        app,
        "SELECT COUNT(*) AS n FROM (SELECT COALESCE(manager_id, 0) AS m, status, type, COUNT(*) AS c FROM tickets \
         GROUP BY COALESCE(manager_id, 0), status, type) real_counts \
         FULL OUTER JOIN (SELECT manager_id AS m, status, type, n FROM ticket_counts WHERE n <> 0) kept \
         ON kept.m = real_counts.m AND kept.status = real_counts.status AND kept.type = real_counts.type \
         WHERE kept.n IS NULL OR real_counts.c IS NULL OR kept.n <> real_counts.c",
    );
    assert_eq!(bad, 0, "ticket_counts matches the tickets");
}

/// A tiny valid PNG.
pub const PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 0, 1, 0, 0, 0, 1, 8, 6,
    0, 0, 0, 0x1F, 0x15, 0xC4, 0x89, 0, 0, 0, 10, b'I', b'D', b'A', b'T', 0x78, 0x9C, 0x63, 0, 1, 0, 0, 5, 0, 1, 0x0D,
    0x0A, 0x2D, 0xB4, 0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82,
];

/// Sends a raw HTTP/1.1 request and reads the answer (head and, by its
/// Content-Length, body) while the body is still being written: a server that
/// answers early and stops reading must not leave the test blocked on a full socket.
/// Gives up after `limit`; a status of 0 means no answer came.
pub async fn raw_exchange(app: &TestApp, head: String, body: Vec<u8>, limit: std::time::Duration) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = app.base.trim_start_matches("http://").to_string();
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let mut request = head.as_bytes().to_vec();
    request.extend_from_slice(&body);
    let sending = actix_web::rt::spawn(async move {
        let _ = writer.write_all(&request).await;
        // Keep the half open until the answer is read: a shutdown here would look
        // like the client going away.
        std::future::pending::<()>().await;
    });
    let mut got = Vec::new();
    let read = async {
        let mut buf = vec![0u8; 16 * 1024];
        while let Ok(n) = reader.read(&mut buf).await {
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
            if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
                let length = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                if got.len() >= end + 4 + length {
                    break;
                }
            }
        }
    };
    let _ = tokio::time::timeout(limit, read).await;
    sending.abort();
    let text = String::from_utf8_lossy(&got).to_string();
    let status = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, text)
}

/// The JSON body of a raw answer read by `raw_exchange`.
pub fn raw_json(answer: &str) -> serde_json::Value {
    answer.split_once("\r\n\r\n").and_then(|(_, b)| serde_json::from_str(b).ok()).unwrap_or_default()
}

/// The outcome of a use case called directly, its effects set aside: no instance
/// runs here to apply them (the tests that check effects read them with
/// `into_parts`).
pub trait Settle {
    type Value;
    fn settled(self) -> Self::Value;
}

impl<T> Settle for affdesk::domain::Acted<T> {
    type Value = T;
    fn settled(self) -> T {
        self.into_parts().0
    }
}

impl<T, E> Settle for Result<affdesk::domain::Acted<T>, E> {
    type Value = Result<T, E>;
    fn settled(self) -> Result<T, E> {
        self.map(Settle::settled)
    }
}
