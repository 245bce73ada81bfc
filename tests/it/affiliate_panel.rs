//! The affiliate panel: Support list, new tickets, and the access request flow.

use crate::db_test;
use crate::support::*;

/// A premoderated offer affiliate1 has neither access to nor asked for.
fn fresh_offer(app: &crate::harness::TestApp) -> i64 {
    scalar(
        app,
        "SELECT MIN(o.id) AS n FROM offers o WHERE o.privacy = 'premoderated' AND o.status = 'active' \
         AND NOT EXISTS (SELECT 1 FROM offer_access x WHERE x.offer_id = o.id AND x.affiliate_id = 1) \
         AND NOT EXISTS (SELECT 1 FROM tickets t WHERE t.offer_id = o.id AND t.affiliate_id = 1)",
    )
}

db_test!(offer_request_flow_approve_and_reject, |app| {
    app.seed_demo();
    let offer = fresh_offer(&app);
    let title = text(&app, &format!("SELECT title AS t FROM offers WHERE id = {offer}"));
    let mut affiliate = app.login_affiliate("affiliate1@affdesk.test").await;
    let page = affiliate.get("/affiliate/offers").await;
    assert!(page.contains(&format!("/affiliate/offers/{offer}/request")), "can request");
    // A comment is required.
    affiliate.post(&format!("/affiliate/offers/{offer}/request"), &[("comment", " ")]).await;
    assert!(affiliate.get("/affiliate/offers").await.contains("Write a comment"));
    let page = affiliate.post(&format!("/affiliate/offers/{offer}/request"), &[("comment", "Push traffic, DE")]).await;
    assert_eq!(page.status, 303);
    let ticket = scalar(&app, "SELECT MAX(id) AS n FROM tickets");
    assert_eq!(
        text(&app, &format!("SELECT title AS t FROM tickets WHERE id = {ticket}")),
        format!("Connect offer {title} ({offer})")
    );
    assert_eq!(text(&app, &format!("SELECT description AS t FROM tickets WHERE id = {ticket}")), "Push traffic, DE");
    assert_eq!(
        scalar(
            &app,
            &format!(
                "SELECT COUNT(*) AS n FROM tickets t JOIN affiliates a ON a.id = t.affiliate_id WHERE t.id = {ticket} AND t.manager_id = a.manager_id"
            )
        ),
        1,
        "for the affiliate's manager"
    );
    let page = affiliate.get("/affiliate/offers").await;
    assert!(page.contains(&format!("Request pending (ticket {ticket})")));
    // A second request while one is pending is refused.
    affiliate.post(&format!("/affiliate/offers/{offer}/request"), &[("comment", "again")]).await;
    assert!(affiliate.get("/affiliate/offers").await.contains("You already asked for this offer"));
    assert_eq!(
        scalar(&app, &format!("SELECT COUNT(*) AS n FROM tickets WHERE offer_id = {offer} AND affiliate_id = 1")),
        1
    );

    // The manager rejects from the list; the affiliate may ask again.
    let manager_email =
        text(&app, "SELECT u.email AS t FROM users u JOIN affiliates a ON a.manager_id = u.id WHERE a.id = 1");
    let mut manager = app.login_admin(&manager_email).await;
    manager.get("/admin/tickets").await;
    let page = manager.htmx_post("/admin/tickets/bulk", &[("action", "reject"), ("ids", &ticket.to_string())]).await;
    assert!(page.contains(&format!("Rejected #{ticket}")), "{}", page.body);
    let thread = affiliate.get(&format!("/affiliate/tickets/{ticket}")).await;
    assert!(thread.contains("Request rejected by"));
    let page = affiliate.get("/affiliate/offers").await;
    assert!(page.contains("Rejected ") && page.contains(&format!("/affiliate/offers/{offer}/request")));
    affiliate.post(&format!("/affiliate/offers/{offer}/request"), &[("comment", "Now with SEO traffic")]).await;
    let second = scalar(&app, "SELECT MAX(id) AS n FROM tickets");
    assert_ne!(second, ticket);
    // Approve from the row action; the offer shows approved.
    manager.get("/admin/tickets").await;
    let page = manager.post(&format!("/admin/tickets/{second}/activate"), &[("return_to", "/admin/tickets")]).await;
    assert_eq!(page.status, 303);
    assert_eq!(
        text(&app, &format!("SELECT state AS t FROM offer_access WHERE offer_id = {offer} AND affiliate_id = 1")),
        "enabled"
    );
    let page = affiliate.get("/affiliate/offers").await;
    assert!(page.contains("Approved "));
    assert!(!page.contains(&format!("/affiliate/offers/{offer}/request")));
});

db_test!(smartlink_requests_work_the_same, |app| {
    app.seed_demo();
    // An active affiliate and a premoderated Smartlink they could ask for.
    let free = "FROM smartlinks s, affiliates a WHERE s.privacy = 'premoderated' AND a.status = 'active' \
         AND NOT EXISTS (SELECT 1 FROM smartlink_access x WHERE x.smartlink_id = s.id AND x.affiliate_id = a.id AND x.state = 'enabled') \
         AND NOT EXISTS (SELECT 1 FROM tickets t WHERE t.smartlink_id = s.id AND t.affiliate_id = a.id AND t.request_state = 'pending')";
    let pair = scalar(&app, &format!("SELECT MIN(a.id * 1000000 + s.id) AS n {free}"));
    let (affiliate_id, smartlink) = (pair / 1_000_000, pair % 1_000_000);
    let email = text(&app, &format!("SELECT email AS t FROM affiliates WHERE id = {affiliate_id}"));
    let mut affiliate = app.login_affiliate(&email).await;
    affiliate.get("/affiliate/smartlinks").await;
    let page =
        affiliate.post(&format!("/affiliate/smartlinks/{smartlink}/request"), &[("comment", "Mobile traffic")]).await;
    assert_eq!(page.status, 303);
    let ticket = scalar(&app, "SELECT MAX(id) AS n FROM tickets");
    assert_eq!(text(&app, &format!("SELECT type AS t FROM tickets WHERE id = {ticket}")), "smartlink_request");
    let mut admin = app.login_admin("admin@affdesk.test").await;
    admin.get("/admin/tickets").await;
    admin.htmx_post("/admin/tickets/bulk", &[("action", "activate"), ("ids", &ticket.to_string())]).await;
    assert_eq!(
        text(
            &app,
            &format!(
                "SELECT state || '/' || source AS t FROM smartlink_access WHERE smartlink_id = {smartlink} AND affiliate_id = {affiliate_id}"
            )
        ),
        "enabled/ticket"
    );
    assert!(affiliate.get("/affiliate/smartlinks").await.contains("Approved "));
});

db_test!(support_list_and_new_ticket, |app| {
    app.seed_demo();
    let mut affiliate = app.login_affiliate("affiliate2@affdesk.test").await;
    let page = affiliate.get("/affiliate/tickets").await;
    assert_eq!(
        row_ids(&page.body),
        ids_where(&app, "affiliate_id = 2")[..ids_where(&app, "affiliate_id = 2").len().min(25)].to_vec()
    );
    let page = affiliate.get("/affiliate/tickets?status=closed").await;
    assert_eq!(row_ids(&page.body), ids_where(&app, "affiliate_id = 2 AND status = 'closed'"));
    affiliate.get("/affiliate/tickets/new").await;
    let page = affiliate
        .post_multipart(
            "/affiliate/tickets",
            &[("type", "financial"), ("title", "Where is my payout?"), ("body", "March is missing.")],
            &[("proof.png", PNG.to_vec())],
        )
        .await;
    assert_eq!(page.status, 303);
    let id = scalar(&app, "SELECT MAX(id) AS n FROM tickets");
    assert_eq!(page.location.as_deref(), Some(&format!("/affiliate/tickets/{id}")[..]));
    assert_eq!(scalar(&app, &format!("SELECT affiliate_id AS n FROM tickets WHERE id = {id}")), 2);
    assert_eq!(scalar(&app, &format!("SELECT CAST(unread_by_manager AS BIGINT) AS n FROM tickets WHERE id = {id}")), 1);
    // The manager sees it in their list, with that manager.
    let manager_email =
        text(&app, "SELECT u.email AS t FROM users u JOIN affiliates a ON a.manager_id = u.id WHERE a.id = 2");
    let mut manager = app.login_admin(&manager_email).await;
    let list = manager.get("/admin/tickets").await;
    assert_eq!(row_ids(&list.body)[0], id);
    // A request type cannot be opened by hand; a bad file is refused.
    let page = affiliate
        .post_multipart("/affiliate/tickets", &[("type", "offer_request"), ("title", "x"), ("body", "y")], &[])
        .await;
    assert_eq!(page.status, 422);
    assert!(page.contains("Choose the type of question."));
});

db_test!(inactive_affiliates_cannot_open_tickets, |app| {
    app.seed_demo();
    let mut affiliate = app.login_affiliate("affiliate1@affdesk.test").await;
    let mut conn = app.conn();
    affdesk::domain::affiliates::Affiliate::set_status(
        &mut conn,
        1,
        affdesk::domain::states::AffiliateStatus::NotActive,
    )
    .unwrap();
    let page = affiliate.get("/affiliate/tickets/new").await;
    assert!(page.contains("Your account is not active"));
    let before = scalar(&app, "SELECT COUNT(*) AS n FROM tickets");
    let page = affiliate
        .post_multipart("/affiliate/tickets", &[("type", "general"), ("title", "Hi"), ("body", "Hello")], &[])
        .await;
    assert_eq!(page.status, 403);
    let offer = fresh_offer(&app);
    affiliate.get("/affiliate/offers").await;
    affiliate.post(&format!("/affiliate/offers/{offer}/request"), &[("comment", "x")]).await;
    assert_eq!(scalar(&app, "SELECT COUNT(*) AS n FROM tickets"), before);
});

db_test!(templates_tab_crud, |app| {
    app.seed_demo();
    let mut c = app.login_admin("manager1@affdesk.test").await;
    // A thread's quick-reply picker offers every change as soon as it is saved
    // (the instance keeps the templates between pages).
    let ticket = ids_where(&app, "manager_id = (SELECT id FROM users WHERE email = 'manager1@affdesk.test')")[0];
    let thread = format!("/admin/tickets/{ticket}");
    let option = |id: i64, title: &str| format!("<option value=\"{id}\">{title}</option>");
    assert!(c.get(&thread).await.contains(">Looking into it</option>"));
    let page = c.get("/admin/templates").await;
    assert!(page.contains("Looking into it"));
    c.get("/admin/templates/new").await;
    let page = c.post("/admin/templates", &[("title", ""), ("body", "")]).await;
    assert_eq!(page.status, 422);
    assert!(page.contains("Enter a title.") && page.contains("Enter the text of the template."));
    let page = c.post("/admin/templates", &[("title", "Greeting"), ("body", "Hi")]).await;
    assert!(page.contains("A template called &#34;Greeting&#34; already exists."));
    // An unknown variable would reach the affiliate as typed: refused, named.
    let templates = app.count("reply_templates");
    let page = c.post("/admin/templates", &[("title", "Typo"), ("body", "Your {smartlink.titel} is on.")]).await;
    assert_eq!(page.status, 422);
    assert!(page.contains("{smartlink.titel} is not a variable"), "{}", page.body);
    assert!(page.contains("Your {smartlink.titel} is on."), "the text is kept");
    assert_eq!(app.count("reply_templates"), templates);
    let page = c
        .post("/admin/templates", &[("title", "Weekend"), ("body", "Hi {affiliate.name}, we answer on Monday.")])
        .await;
    assert_eq!(page.status, 303);
    let id = scalar(&app, "SELECT id AS n FROM reply_templates WHERE title = 'Weekend'");
    assert!(c.get(&thread).await.contains(&option(id, "Weekend")), "a new template is offered at once");
    let list = c.get("/admin/templates").await;
    assert!(list.contains("Weekend") && list.contains("Maria Keller"), "edited by");
    c.get(&format!("/admin/templates/{id}/edit")).await;
    let page = c.post(&format!("/admin/templates/{id}"), &[("title", "Weekend reply"), ("body", "Changed")]).await;
    assert_eq!(page.status, 303);
    assert_eq!(text(&app, &format!("SELECT body AS t FROM reply_templates WHERE id = {id}")), "Changed");
    assert!(c.get(&thread).await.contains(&option(id, "Weekend reply")), "a renamed one under its new title");
    let ask = c.post(&format!("/admin/templates/{id}/delete"), &[]).await;
    assert_eq!(ask.status, 200);
    assert!(ask.contains("Delete the template"));
    assert_eq!(scalar(&app, &format!("SELECT COUNT(*) AS n FROM reply_templates WHERE id = {id}")), 1);
    c.post(&format!("/admin/templates/{id}/delete"), &[("confirm", "1")]).await;
    assert_eq!(scalar(&app, &format!("SELECT COUNT(*) AS n FROM reply_templates WHERE id = {id}")), 0);
    let page = c.get(&thread).await;
    assert!(!page.contains(&format!("<option value=\"{id}\">")), "a deleted one is gone");
    assert!(page.contains(">Looking into it</option>"));
});

db_test!(statistics_sum_the_database_and_draw_a_chart, |app| {
    app.seed_demo();
    let mut c = app.login_admin("admin@affdesk.test").await;
    let today = chrono::Utc::now().date_naive();
    let from = today - chrono::Duration::days(9);
    let page = c.get(&format!("/admin/stats/daily?affiliate_id=1&from={from}&to={today}")).await;
    assert_eq!(page.status, 200);
    let clicks = scalar(
        &app,
        &format!(
            "SELECT CAST(COALESCE(SUM(clicks), 0) AS BIGINT) AS n FROM daily_stats WHERE affiliate_id = 1 AND day >= '{from}' AND day <= '{today}'"
        ),
    );
    assert!(
        page.contains(&format!(
            "<tfoot>\n    <tr><td>Total</td><td class=\"num\">{}</td>",
            affdesk::domain::group_digits(clicks)
        )),
        "total clicks {clicks}"
    );
    assert_eq!(page.body.matches("<tbody>").count(), 1);
    assert_eq!(
        page.body.split("<tbody>").nth(1).unwrap().split("</tbody>").next().unwrap().matches("<tr>").count(),
        10,
        "one row per day"
    );
    assert!(page.contains("<svg") && page.contains("<polyline") && page.contains("<rect"), "the chart");
    // Days without traffic are zero rows.
    let page = c.get("/admin/stats/daily?affiliate_id=1&from=2020-01-01&to=2020-01-03").await;
    assert_eq!(page.body.split("<tbody>").nth(1).unwrap().split("</tbody>").next().unwrap().matches("<tr>").count(), 3);
    // Bad input is explained; a manager sees only their affiliates.
    let page = c.get("/admin/stats/daily?affiliate_id=x&from=yesterday").await;
    assert!(
        page.contains("No affiliate of yours has &#34;x&#34; in their name")
            && page.contains("From must be a date like"),
        "{}",
        page.body
    );
    // A range too long, or backwards, is said so: the form keeps what was typed and
    // no other range is shown in its place.
    for (from, to, why) in [
        ("2020-01-01", "2021-06-01", "Show at most 366 days at once"),
        ("2020-03-01", "2020-02-01", "From must not be after To."),
    ] {
        let page = c.get(&format!("/admin/stats/daily?affiliate_id=1&from={from}&to={to}")).await;
        assert_eq!(page.status, 200);
        assert!(page.contains(why), "{}", page.body);
        assert!(
            page.contains(&format!("value=\"{from}\"")) && page.contains(&format!("value=\"{to}\"")),
            "{from} {to}"
        );
        assert!(!page.contains("<tbody>") && !page.contains("<svg"), "no statistics for another range");
    }
    // Dates at the edge of the calendar are typing errors, not a dropped connection.
    for query in ["to=-262143-01-01", "from=-262143-01-01", "to=262142-12-31", "from=0001-01-01&to=0001-01-02"] {
        let page = c.get(&format!("/admin/stats/daily?affiliate_id=1&{query}")).await;
        assert_eq!(page.status, 200, "{query}");
        assert!(page.contains("must be a date"), "{query}");
    }
    let other = scalar(
        &app,
        "SELECT MIN(id) AS n FROM affiliates WHERE manager_id <> (SELECT id FROM users WHERE email = 'manager1@affdesk.test')",
    );
    let mut m = app.login_admin("manager1@affdesk.test").await;
    let page = m.get(&format!("/admin/stats/daily?affiliate_id={other}")).await;
    assert!(page.contains(&format!("There is no affiliate with ID {other} among yours.")));
    assert!(!page.contains("<svg"));
});
