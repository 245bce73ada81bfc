//! Text search in the managers' list: words and their starts, the newest matches
//! across the search index's id ranges, and the first page of a common word.

use crate::db_test;
use crate::support::*;

db_test!(a_search_of_several_words_finds_the_newest_across_id_ranges, |app| {
    app.seed_demo();
    let mut affiliate = app.login_affiliate("affiliate2@affdesk.test").await;
    // New tickets far apart in id: PostgreSQL's search index is split by ranges of
    // 65,536 ids, read newest first, a few one by one and then the rest at once.
    let mut made = Vec::new();
    for (n, next_id) in [(1, 70_000), (2, 300_000), (3, 900_000), (4, 0)] {
        if app.backend == crate::harness::Backend::Postgres && next_id > 0 {
            let mut conn = app.conn();
            let setval = diesel::sql_query(format!("SELECT setval('tickets_id_seq', {next_id})"));
            diesel::RunQueryDsl::execute(setval, &mut *conn as &mut affdesk::db::AnyConnection).unwrap();
        }
        let title = format!("Postback check {n}");
        affiliate.get("/affiliate/tickets/new").await;
        let page = affiliate
            .post_multipart(
                "/affiliate/tickets",
                &[("type", "technical"), ("title", &title), ("body", "No payout.")],
                &[],
            )
            .await;
        assert_eq!(page.status, 303);
        made.push(scalar(&app, "SELECT MAX(id) AS n FROM tickets"));
    }
    let mut c = app.login_admin("admin@affdesk.test").await;
    let has = |word: &str| {
        format!(
            "(lower(title) LIKE '%{word}%' OR id IN (SELECT ticket_id FROM messages WHERE lower(body) LIKE '%{word}%'))"
        )
    };
    let expected = ids_where(&app, &format!("{} AND {}", has("payout"), has("postback")));
    assert!(made.iter().all(|id| expected.contains(id)));
    assert!(expected.len() > made.len(), "demo tickets match too");
    for q in ["payout postback", "postback payout", "payou postb"] {
        let page = c.get(&format!("/admin/tickets?per_page=500&q={q}")).await;
        assert_eq!(row_ids(&page.body), expected, "q={q}");
    }
});

db_test!(text_search_expands_word_starts_and_learns_new_words, |app| {
    app.seed_demo();
    let mut c = app.login_admin("admin@affdesk.test").await;
    let search = |body: &str| row_ids(body);

    // A word start finds what the whole words find (demo text has "postback" and "postbacks").
    let start = c.get("/admin/tickets?per_page=500&q=postb").await;
    let whole = c.get("/admin/tickets?per_page=500&q=postback").await;
    assert!(!search(&start.body).is_empty());
    assert_eq!(search(&start.body), search(&whole.body));

    // Words first written in a reply are searchable at once, by their start too.
    let ticket = ids_where(&app, "status = 'open'")[0];
    let page = c
        .post_multipart(&format!("/admin/tickets/{ticket}/messages"), &[("body", "The xylophonic quasar fired.")], &[])
        .await;
    assert_eq!(page.status, 303);
    for q in ["xylophonic", "xyloph", "quas", "QUASAR xylo"] {
        let page = c.get(&format!("/admin/tickets?q={q}")).await;
        assert_eq!(search(&page.body), vec![ticket], "q={q}");
        assert!(page.contains("<strong>1 ticket</strong>"), "q={q}");
    }

    // A start shared by more words than are looked up one by one still matches
    // (the engine's own prefix search takes over).
    let many: Vec<String> = (0..70).map(|i| format!("zqw{i:02}")).collect();
    let other = ids_where(&app, "status = 'open'")[1];
    let page = c.post_multipart(&format!("/admin/tickets/{other}/messages"), &[("body", &many.join(" "))], &[]).await;
    assert_eq!(page.status, 303);
    for q in ["zq", "zqw", "zqw69"] {
        let page = c.get(&format!("/admin/tickets?q={q}")).await;
        assert_eq!(search(&page.body), vec![other], "q={q}");
    }

    // A start no stored word has: nothing, said plainly.
    let page = c.get("/admin/tickets?q=qqqqzzzz").await;
    assert!(search(&page.body).is_empty());
    assert!(page.contains("No tickets match"));
});

db_test!(the_first_page_of_a_common_search_is_the_newest_matches_in_order, |app| {
    {
        let mut conn = app.conn();
        let options = affdesk::seed::DemoOptions { tickets: 6_000 };
        affdesk::seed::seed(&mut conn, &options, &mut |_| {}).expect("demo seed");
    }
    // "the" is in nearly every demo ticket: the search keeps its newest matches,
    // and SQLite finds their first page by walking the list's own order.
    let newest = {
        let mut conn = app.conn();
        let terms = affdesk::domain::search::terms("the");
        affdesk::domain::search::newest_matches(&mut conn, &terms).unwrap()
    };
    assert_eq!(newest.len() as i64, affdesk::domain::search::MAX_MATCHES, "a common word");
    let matches = newest.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let expected = |condition: &str, order: &str, n: usize| {
        let mut ids = ids_where(&app, &format!("id IN ({matches}) AND {condition}"));
        if order == "created" {
            use diesel::RunQueryDsl;
            let mut conn = app.conn();
            #[derive(diesel::QueryableByName)]
            struct Id {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                id: i64,
            }
            ids = diesel::sql_query(format!(
                "SELECT id FROM tickets WHERE id IN ({matches}) AND {condition} ORDER BY created_at DESC, id DESC"
            ))
            .load::<Id>(&mut *conn as &mut affdesk::db::AnyConnection)
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect();
        }
        ids.truncate(n);
        ids
    };
    let m1 = user_id(&app, "manager1@affdesk.test");
    let few = scalar(&app, &format!("SELECT MIN(affiliate_id) AS n FROM tickets WHERE id IN ({matches})"));
    let mut admin = app.login_admin("admin@affdesk.test").await;
    let mut manager = app.login_admin("manager1@affdesk.test").await;
    let cases = [
        ("q=the", "1 = 1", "updated", 25),
        ("q=the&per_page=500", "1 = 1", "updated", 500),
        ("q=the&sort=created_desc", "1 = 1", "created", 25),
        ("q=the&status=open", "status = 'open'", "updated", 25),
        ("q=the&type=financial&status=closed", "type = 'financial' AND status = 'closed'", "updated", 25),
        // An affiliate's few matches: the walk does not find a page; they are looked up.
        (&format!("q=the&affiliate_id={few}") as &str, &format!("affiliate_id = {few}") as &str, "updated", 25),
    ];
    for (query, condition, order, n) in cases {
        let page = admin.get(&format!("/admin/tickets?{query}")).await;
        assert_eq!(page.status, 200, "{query}");
        assert_eq!(row_ids(&page.body), expected(condition, order, n), "rows for ?{query}");
    }
    // A manager's search: their affiliates' newest matches only.
    let page = manager.get("/admin/tickets?q=the").await;
    assert_eq!(row_ids(&page.body), expected(&format!("manager_id = {m1}"), "updated", 25));
    // The next page follows on from the walked one.
    let first = admin.get("/admin/tickets?q=the&per_page=10").await;
    let next = link_with_text(&first.body, "Next ›").expect("a next link");
    let second = admin.get(&next).await;
    let mut both = row_ids(&first.body);
    both.extend(row_ids(&second.body));
    assert_eq!(both, expected("1 = 1", "updated", 20));
});
