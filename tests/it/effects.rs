//! What a change asks of the running instance comes back with the use case's
//! outcome: a ticket's change wakes the live bus, a change of the staff or the
//! quick replies has the kept lookups read again, and a refusal or a change that
//! did nothing asks for nothing. Through the panels, the instance applies them:
//! what was saved shows on the very next page.

use affdesk::domain::directory::{self, NewPerson};
use affdesk::domain::lifecycle::{self, BulkAction, CloseAnswer, Outcome, Selection};
use affdesk::domain::messages::{self, Draft, Then};
use affdesk::domain::{Effects, live, reply_templates};

use crate::db_test;

db_test!(a_change_of_a_ticket_wakes_the_live_bus_and_nothing_done_does_not, |app| {
    let maria = app.with_manager("maria@network.test");
    let shop = app.with_affiliate_of(&maria, "shop@partners.test");
    let offer = app.with_offer(&app.with_admin("boss@network.test"), "Summer promo");
    let manager = app.as_manager(&maria).actor;
    let store = app.store();
    let t = app.as_affiliate(&shop).asks("Payout is late", "Where is March?");

    let (outcome, effects) = lifecycle::close(&mut app.conn(), &manager, t.0).unwrap().into_parts();
    assert_eq!((outcome, effects), (Outcome::Done, Effects::LIVE_EVENT));
    let (outcome, effects) = lifecycle::close(&mut app.conn(), &manager, t.0).unwrap().into_parts();
    assert!(matches!(outcome, Outcome::Skipped(_)));
    assert_eq!(effects, Effects::NONE, "closed already: nobody is told anything");

    let note = Draft::from_form("Checked with finance.", "form-0001");
    let noted = messages::add_note(&mut app.conn(), &store, &manager, t.0, note, Vec::new()).unwrap();
    assert_eq!(noted.effects(), Effects::LIVE_EVENT);
    let again = Draft::from_form("Checked with finance.", "form-0001");
    let resent = messages::add_note(&mut app.conn(), &store, &manager, t.0, again, Vec::new()).unwrap();
    assert_eq!(resent.value().message.id, noted.value().message.id, "a form sent twice is one note");
    assert_eq!(resent.effects(), Effects::NONE);

    let request = app.as_affiliate(&shop).asks_for(offer, "I run SEO traffic");
    let asked = lifecycle::close_or_ask(&mut app.conn(), &manager, request.0, false).unwrap();
    assert_eq!(asked.value(), &CloseAnswer::AsksAboutPendingRequest);
    assert_eq!(asked.effects(), Effects::NONE, "asking first changes nothing");
    let decided = messages::reply(
        &mut app.conn(),
        &store,
        &manager,
        request.0,
        Draft::new("Welcome!"),
        Then::Decide(affdesk::domain::access::Decision::Approve),
        Vec::new(),
    )
    .unwrap();
    assert_eq!(decided.effects(), Effects::LIVE_EVENT);

    let others = [app.as_affiliate(&shop).asks("One", "First."), app.as_affiliate(&shop).asks("Two", "Second.")];
    let selection = Selection::Ids(others.iter().map(|t| t.0).collect());
    let bulk = lifecycle::bulk(&mut app.conn(), &store, &manager, BulkAction::Close, &selection).unwrap();
    assert_eq!(bulk.value().done.len(), 2);
    assert_eq!(bulk.effects(), Effects::LIVE_EVENT);
    let removal = lifecycle::bulk_or_ask(&mut app.conn(), &store, &manager, BulkAction::Remove, &selection, false);
    assert_eq!(removal.unwrap().effects(), Effects::NONE, "the question before a removal changes nothing");

    // Someone typing: one notice every few seconds, the rest ask nothing.
    let open = app.as_affiliate(&shop).asks("Three", "Third.");
    assert_eq!(live::typing(&mut app.conn(), &manager, open.0).unwrap(), Effects::LIVE_EVENT);
    assert_eq!(live::typing(&mut app.conn(), &manager, open.0).unwrap(), Effects::NONE);
});

db_test!(changing_the_staff_or_the_quick_replies_has_the_lookups_read_again, |app| {
    let boss = app.with_admin("boss@network.test");
    let admin = app.as_manager(&boss).actor;

    let saved = reply_templates::save(&mut app.conn(), &admin, None, "Thanks", "Thank you, {affiliate.name}.");
    let saved = saved.unwrap();
    assert!(saved.value().is_ok());
    assert_eq!(saved.effects(), Effects::LOOKUPS_CHANGED);
    let refused = reply_templates::save(&mut app.conn(), &admin, None, "", "No title").unwrap();
    assert!(refused.value().is_err());
    assert_eq!(refused.effects(), Effects::NONE, "a refused form changes nothing");
    let id = saved.into_parts().0.map(|t| t.id).unwrap();
    let deleted = reply_templates::delete(&mut app.conn(), &admin, id).unwrap();
    assert_eq!(deleted.effects(), Effects::LOOKUPS_CHANGED);

    let person = NewPerson { email: "new@network.test".into(), name: "New Manager".into(), role: "manager".into() };
    let invited = directory::invite_person(&mut app.conn(), &admin, &person).unwrap();
    assert_eq!(invited.effects(), Effects::LOOKUPS_CHANGED);
    let twice = directory::invite_person(&mut app.conn(), &admin, &person).unwrap();
    assert!(twice.value().is_err(), "the email has an account already");
    assert_eq!(twice.effects(), Effects::NONE);
    let new_id = invited.into_parts().0.map(|invited| invited.id).unwrap();
    let disabled = directory::set_person_disabled(&mut app.conn(), &admin, new_id, true).unwrap();
    assert_eq!(disabled.effects(), Effects::LOOKUPS_CHANGED);
});

// The instance applies what its handlers' use cases return: a template saved, and
// a manager invited, show on the next page at once, not when the kept copy would
// have gone stale.
db_test!(what_was_saved_shows_on_the_next_page_of_the_same_instance, |app| {
    app.seed_demo();
    let mut admin = app.login_admin("admin@affdesk.test").await;
    let ticket = app
        .find(crate::desk::Find { status: Some(affdesk::domain::states::TicketStatus::Open), ..Default::default() })[0]
        .0;
    let thread = format!("/admin/tickets/{ticket}");
    assert!(!admin.get(&thread).await.contains(">Kept copy test</option>"), "the thread reads the templates");
    assert!(!admin.get("/admin/tickets").await.contains(">Fresh Hire ("), "the list reads the staff");

    admin.get("/admin/templates/new").await;
    let saved = admin.post("/admin/templates", &[("title", "Kept copy test"), ("body", "Hello")]).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert!(admin.get(&thread).await.contains(">Kept copy test</option>"));

    admin.get("/admin/people").await;
    let invited = admin
        .post("/admin/people", &[("email", "fresh@network.test"), ("name", "Fresh Hire"), ("role", "manager")])
        .await;
    assert_eq!(invited.status, 303, "{}", invited.body);
    assert!(admin.get("/admin/tickets").await.contains(">Fresh Hire ("));
});
