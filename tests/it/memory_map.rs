//! SQLite is read through a memory map, and every page a statement touches stays
//! counted in the server's memory while the map lasts. The reads that range over
//! thousands of tickets (a text search, "all matching", a bulk action, an export)
//! drop their connection's map when they end. SQLite only: PostgreSQL maps nothing.

use affdesk::db::DbUrl;
use affdesk::domain::lifecycle::{self, BulkAction, BulkAnswer, Selection};
use affdesk::domain::ticket_filter::TicketFilter;
use affdesk::domain::ticket_list::{self, Detail, PageAt, PageRequest};
use affdesk::domain::users::User;
use affdesk::domain::{Actor, Via};
use affdesk::http::filter_params::FilterParams;
use affdesk::http::query::Params;
use affdesk::storage::LocalStore;

use crate::support::Settle;

/// Kilobytes of `file` resident in this process's mappings of it (Linux's smaps).
fn mapped_kb(file: &std::path::Path) -> u64 {
    let smaps = std::fs::read_to_string("/proc/self/smaps").expect("/proc/self/smaps");
    let name = file.to_str().expect("a UTF-8 temp path");
    let (mut ours, mut kb) = (false, 0);
    for line in smaps.lines() {
        let first = line.split_whitespace().next().unwrap_or_default();
        if !first.ends_with(':') {
            // A mapping's first line: "start-end perms offset device inode path".
            ours = line.ends_with(name);
        } else if ours && first == "Rss:" {
            kb += line.split_whitespace().nth(1).and_then(|n| n.parse::<u64>().ok()).unwrap_or(0);
        }
    }
    kb
}

fn filter(query: &str) -> TicketFilter {
    TicketFilter::parse(&Params::from_query(query)).0
}

#[cfg(target_os = "linux")]
#[test]
fn wide_reads_leave_none_of_the_file_mapped() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("affdesk.db");
    // One connection: every read below is on it, and no other maps this file.
    let pool = affdesk::open_database(&DbUrl::Sqlite(file.clone()), 1).unwrap();
    let mut conn = pool.get().unwrap();
    affdesk::seed::seed(&mut conn, &Default::default(), &mut |_| {}).unwrap();
    let admin: Actor = User::find_by_email(&mut conn, "admin@affdesk.test").unwrap().unwrap().actor(Via::Panel);
    let request =
        PageRequest { sort: Default::default(), at: PageAt::Number(1), per_page: 25, detail: Detail::NamesAndLast };
    let list_page = |conn: &mut affdesk::db::PooledConn, f: &TicketFilter| {
        ticket_list::list(conn, &admin, f, request).unwrap().rows.len()
    };

    // A page of the list keeps what it read mapped, for the next page to find there.
    assert!(list_page(&mut conn, &filter("")) > 0);
    assert!(mapped_kb(&file) > 0, "the file is read through the map");

    assert!(list_page(&mut conn, &filter("q=postback")) > 0, "the search finds the demo's postback questions");
    assert_eq!(mapped_kb(&file), 0, "a text search");

    list_page(&mut conn, &filter(""));
    assert!(mapped_kb(&file) > 0);
    let ids = ticket_list::matching_ids(&mut conn, &admin, &filter("status=open")).unwrap();
    assert!(!ids.is_empty());
    assert_eq!(mapped_kb(&file), 0, "every id matching a filter");

    list_page(&mut conn, &filter(""));
    let store = LocalStore::new(dir.path().join("attachments")).unwrap();
    let asked = lifecycle::bulk_or_ask(
        &mut conn,
        &store,
        &admin,
        BulkAction::Close,
        &Selection::Matching(filter("status=open")),
        false,
    )
    .settled();
    assert!(matches!(asked, Ok(BulkAnswer::NeedsConfirmation { count, .. }) if count == ids.len()), "{asked:?}");
    assert_eq!(mapped_kb(&file), 0, "the question before closing all matching");

    // A thread opened from a search finds the next ticket of that search.
    let search = filter("q=postback");
    let first = ticket_list::list(&mut conn, &admin, &search, request).unwrap().rows.remove(0).ticket;
    list_page(&mut conn, &filter(""));
    let sort = Default::default();
    ticket_list::next_after(&mut conn, &admin, &search, sort, ticket_list::place(sort, &first)).unwrap();
    assert_eq!(mapped_kb(&file), 0, "the next ticket of a search");

    list_page(&mut conn, &filter(""));
    let chunk = ticket_list::export_chunk(&mut conn, &admin, &filter(""), None, 501).unwrap();
    assert!(!chunk.is_empty());
    assert_eq!(mapped_kb(&file), 0, "a chunk of an export");

    list_page(&mut conn, &filter(""));
    let selection = Selection::Matching(filter("status=open&type=general"));
    let summary = lifecycle::bulk(&mut conn, &store, &admin, BulkAction::Close, &selection).settled().unwrap();
    assert!(!summary.done.is_empty());
    assert_eq!(mapped_kb(&file), 0, "a bulk action");

    // The next read maps the file again and reads as before.
    assert!(list_page(&mut conn, &filter("")) > 0);
    assert!(mapped_kb(&file) > 0);
}
