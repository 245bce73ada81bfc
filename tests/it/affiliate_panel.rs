//! The affiliate panel: Support list, new tickets, and the access request flow.

use affdesk::domain::states::{AccessGrant, AccessSource, AffiliateStatus, RequestState, TicketKind};

use crate::db_test;
use crate::desk::Team;
use crate::support::{PNG, row_ids};

db_test!(offer_request_flow_approve_and_reject, |app| {
    let Team { boss, maria, shop } = app.with_team();
    let offer = app.with_offer(&boss, "Summer promo").0;
    let mut affiliate = app.browser_of(&shop).await;
    let page = affiliate.get("/affiliate/offers").await;
    assert!(page.contains(&format!("/affiliate/offers/{offer}/request")), "can request");
    // A comment is required.
    affiliate.post(&format!("/affiliate/offers/{offer}/request"), &[("comment", " ")]).await;
    assert!(affiliate.get("/affiliate/offers").await.contains("Write a comment"));
    let page = affiliate.post(&format!("/affiliate/offers/{offer}/request"), &[("comment", "Push traffic, DE")]).await;
    assert_eq!(page.status, 303);
    let ticket = app.newest_ticket();
    let t = app.ticket(ticket);
    assert_eq!(t.title, format!("Connect offer Summer promo ({offer})"));
    assert_eq!(t.description, "Push traffic, DE");
    assert_eq!((t.kind, t.request_state), (TicketKind::OfferRequest, Some(RequestState::Pending)));
    assert_eq!(t.manager_id, Some(maria.id), "for the affiliate's manager");
    let page = affiliate.get("/affiliate/offers").await;
    assert!(page.contains(&format!("Request pending (ticket {})", ticket.0)));
    // A second request while one is pending is refused.
    affiliate.post(&format!("/affiliate/offers/{offer}/request"), &[("comment", "again")]).await;
    assert!(affiliate.get("/affiliate/offers").await.contains("You already asked for this offer"));
    assert_eq!(app.newest_ticket(), ticket, "no second ticket");

    // The manager rejects from the list; the affiliate may ask again.
    let mut manager = app.browser_as(&maria).await;
    manager.get("/admin/tickets").await;
    let page = manager.htmx_post("/admin/tickets/bulk", &[("action", "reject"), ("ids", &ticket.0.to_string())]).await;
    assert!(page.contains(&format!("Rejected #{}", ticket.0)), "{}", page.body);
    let thread = affiliate.get(&format!("/affiliate/tickets/{}", ticket.0)).await;
    assert!(thread.contains("Request rejected by"));
    let page = affiliate.get("/affiliate/offers").await;
    assert!(page.contains("Rejected ") && page.contains(&format!("/affiliate/offers/{offer}/request")));
    affiliate.post(&format!("/affiliate/offers/{offer}/request"), &[("comment", "Now with SEO traffic")]).await;
    let second = app.newest_ticket();
    assert_ne!(second, ticket);
    // Approve from the row action; the offer shows approved.
    manager.get("/admin/tickets").await;
    let page = manager.post(&format!("/admin/tickets/{}/activate", second.0), &[("return_to", "/admin/tickets")]).await;
    assert_eq!(page.status, 303);
    assert_eq!(app.offer_access(offer, shop.id), Some((AccessGrant::Enabled, AccessSource::Ticket)));
    let page = affiliate.get("/affiliate/offers").await;
    assert!(page.contains("Approved "));
    assert!(!page.contains(&format!("/affiliate/offers/{offer}/request")));
});

db_test!(smartlink_requests_work_the_same, |app| {
    let Team { boss, shop, .. } = app.with_team();
    let smartlink = app.with_smartlink(&boss, "Mobile sweeps");
    let mut affiliate = app.browser_of(&shop).await;
    affiliate.get("/affiliate/smartlinks").await;
    let page = affiliate
        .post(&format!("/affiliate/smartlinks/{}/request", smartlink.0), &[("comment", "Mobile traffic")])
        .await;
    assert_eq!(page.status, 303);
    let ticket = app.newest_ticket();
    assert_eq!(app.ticket(ticket).kind, TicketKind::SmartlinkRequest);
    let mut admin = app.browser_as(&boss).await;
    admin.get("/admin/tickets").await;
    admin.htmx_post("/admin/tickets/bulk", &[("action", "activate"), ("ids", &ticket.0.to_string())]).await;
    assert_eq!(app.smartlink_access(smartlink, shop.id), Some((AccessGrant::Enabled, AccessSource::Ticket)));
    assert!(affiliate.get("/affiliate/smartlinks").await.contains("Approved "));
});

db_test!(support_list_and_new_ticket, |app| {
    let Team { maria, shop, .. } = app.with_team();
    let blog = app.with_affiliate_of(&maria, "blog@partners.test");
    app.as_affiliate(&blog).asks("Not theirs", "Another affiliate's question.");
    // The most recently changed first; closed ones on the Closed tab too.
    let [first, second, third] = [0, 1, 2].map(|n| app.as_affiliate(&shop).asks(&format!("Question {n}"), "?"));
    app.as_manager(&maria).close(first).unwrap();
    let mut affiliate = app.browser_of(&shop).await;
    let page = affiliate.get("/affiliate/tickets").await;
    assert_eq!(row_ids(&page.body), vec![first.0, third.0, second.0]);
    let page = affiliate.get("/affiliate/tickets?status=closed").await;
    assert_eq!(row_ids(&page.body), vec![first.0]);
    affiliate.get("/affiliate/tickets/new").await;
    let page = affiliate
        .post_multipart(
            "/affiliate/tickets",
            &[("type", "financial"), ("title", "Where is my payout?"), ("body", "March is missing.")],
            &[("proof.png", PNG.to_vec())],
        )
        .await;
    assert_eq!(page.status, 303);
    let id = app.newest_ticket();
    assert_eq!(page.location.as_deref(), Some(&format!("/affiliate/tickets/{}", id.0)[..]));
    assert_eq!(app.ticket(id).affiliate_id, shop.id);
    assert_eq!(app.ticket(id).unread_by_manager, 1);
    // The manager sees it in their list, with that manager.
    let mut manager = app.browser_as(&maria).await;
    let list = manager.get("/admin/tickets").await;
    assert_eq!(row_ids(&list.body)[0], id.0);
    // A request type cannot be opened by hand; a bad file is refused.
    let page = affiliate
        .post_multipart("/affiliate/tickets", &[("type", "offer_request"), ("title", "x"), ("body", "y")], &[])
        .await;
    assert_eq!(page.status, 422);
    assert!(page.contains("Choose the type of question."));
    assert_eq!(app.newest_ticket(), id);
});

db_test!(inactive_affiliates_cannot_open_tickets, |app| {
    let Team { boss, maria, shop } = app.with_team();
    let offer = app.with_offer(&boss, "Summer promo").0;
    let mut affiliate = app.browser_of(&shop).await;
    let before = app.as_affiliate(&shop).asks("While active", "Fine.");
    app.set_status(&maria, &shop, AffiliateStatus::NotActive);
    let page = affiliate.get("/affiliate/tickets/new").await;
    assert!(page.contains("Your account is not active"));
    let page = affiliate
        .post_multipart("/affiliate/tickets", &[("type", "general"), ("title", "Hi"), ("body", "Hello")], &[])
        .await;
    assert_eq!(page.status, 403);
    affiliate.get("/affiliate/offers").await;
    affiliate.post(&format!("/affiliate/offers/{offer}/request"), &[("comment", "x")]).await;
    assert_eq!(app.newest_ticket(), before, "no ticket and no request");
});

db_test!(templates_tab_crud, |app| {
    let Team { maria, shop, .. } = app.with_team();
    app.with_template(&maria, "Looking into it", "We are looking into it.");
    app.with_template(&maria, "Greeting", "Hello!");
    let mut c = app.browser_as(&maria).await;
    // A thread's quick-reply picker offers every change as soon as it is saved
    // (the instance keeps the templates between pages).
    let ticket = app.as_affiliate(&shop).asks("Tracking", "Clicks are not counted.");
    let thread = format!("/admin/tickets/{}", ticket.0);
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
    let page = c.post("/admin/templates", &[("title", "Typo"), ("body", "Your {smartlink.titel} is on.")]).await;
    assert_eq!(page.status, 422);
    assert!(page.contains("{smartlink.titel} is not a variable"), "{}", page.body);
    assert!(page.contains("Your {smartlink.titel} is on."), "the text is kept");
    assert_eq!(app.templates().len(), 2);
    let page = c
        .post("/admin/templates", &[("title", "Weekend"), ("body", "Hi {affiliate.name}, we answer on Monday.")])
        .await;
    assert_eq!(page.status, 303);
    let id = app.templates().into_iter().find(|t| t.title == "Weekend").expect("saved").id;
    assert!(c.get(&thread).await.contains(&option(id, "Weekend")), "a new template is offered at once");
    let list = c.get("/admin/templates").await;
    assert!(list.contains("Weekend") && list.contains("maria"), "edited by");
    c.get(&format!("/admin/templates/{id}/edit")).await;
    let page = c.post(&format!("/admin/templates/{id}"), &[("title", "Weekend reply"), ("body", "Changed")]).await;
    assert_eq!(page.status, 303);
    let edited = app.templates().into_iter().find(|t| t.id == id).expect("kept");
    assert_eq!((edited.title.as_str(), edited.body.as_str()), ("Weekend reply", "Changed"));
    assert!(c.get(&thread).await.contains(&option(id, "Weekend reply")), "a renamed one under its new title");
    let ask = c.post(&format!("/admin/templates/{id}/delete"), &[]).await;
    assert_eq!(ask.status, 200);
    assert!(ask.contains("Delete the template"));
    assert!(app.templates().iter().any(|t| t.id == id), "asking deletes nothing");
    c.post(&format!("/admin/templates/{id}/delete"), &[("confirm", "1")]).await;
    assert!(!app.templates().iter().any(|t| t.id == id));
    let page = c.get(&thread).await;
    assert!(!page.contains(&format!("<option value=\"{id}\">")), "a deleted one is gone");
    assert!(page.contains(">Looking into it</option>"));
});

db_test!(statistics_sum_the_database_and_draw_a_chart, |app| {
    let Team { boss, maria, shop } = app.with_team();
    let (promo, other_offer) = (app.with_offer(&boss, "Summer promo"), app.with_offer(&boss, "Winter promo"));
    let today = chrono::Utc::now().date_naive();
    let from = today - chrono::Duration::days(9);
    // Two offers on one day, another day, and a day before the range that is not counted.
    app.with_daily_stats(&shop, promo, today, 1_200);
    app.with_daily_stats(&shop, other_offer, today, 34);
    app.with_daily_stats(&shop, promo, from, 5);
    app.with_daily_stats(&shop, promo, from - chrono::Duration::days(1), 70_000);
    let shop_id = shop.id;
    let mut c = app.browser_as(&boss).await;
    let page = c.get(&format!("/admin/stats/daily?affiliate_id={shop_id}&from={from}&to={today}")).await;
    assert_eq!(page.status, 200);
    assert!(
        page.contains("<tfoot>\n    <tr><td>Total</td><td class=\"num\">1,239</td>"),
        "total clicks: {}",
        page.body
    );
    assert_eq!(page.body.matches("<tbody>").count(), 1);
    assert_eq!(
        page.body.split("<tbody>").nth(1).unwrap().split("</tbody>").next().unwrap().matches("<tr>").count(),
        10,
        "one row per day"
    );
    assert!(page.contains("<svg") && page.contains("<polyline") && page.contains("<rect"), "the chart");
    // Days without traffic are zero rows.
    let page = c.get(&format!("/admin/stats/daily?affiliate_id={shop_id}&from=2020-01-01&to=2020-01-03")).await;
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
        let page = c.get(&format!("/admin/stats/daily?affiliate_id={shop_id}&from={from}&to={to}")).await;
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
        let page = c.get(&format!("/admin/stats/daily?affiliate_id={shop_id}&{query}")).await;
        assert_eq!(page.status, 200, "{query}");
        assert!(page.contains("must be a date"), "{query}");
    }
    let omar = app.with_manager("omar@network.test");
    let other = app.with_affiliate_of(&omar, "blog@partners.test").id;
    let mut m = app.browser_as(&maria).await;
    let page = m.get(&format!("/admin/stats/daily?affiliate_id={other}")).await;
    assert!(page.contains(&format!("There is no affiliate with ID {other} among yours.")));
    assert!(!page.contains("<svg"));
});
