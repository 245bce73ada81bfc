//! What asks before it acts, from the same transaction that would act: a bulk
//! action (Remove, anything on all matching, closing pending requests), counting
//! what it would touch; and Close in a thread on a pending request. Asking changes
//! nothing. Also what the thread's box says it did.

use affdesk::domain::access::Decision;
use affdesk::domain::lifecycle::{BulkAction, BulkAnswer, CloseAnswer, Outcome};
use affdesk::domain::messages::{Sending, Then};
use affdesk::domain::states::{RequestState, TicketStatus};
use affdesk_core::error::DomainError;

use crate::db_test;
use crate::desk::TicketId;

db_test!(closing_questions_acts_at_once, |app| {
    let maria = app.with_manager("maria@network.test");
    let shop = app.with_affiliate_of(&maria, "shop@partners.test");
    let t1 = app.as_affiliate(&shop).asks("Payout is late", "Where is March?");
    let t2 = app.as_affiliate(&shop).asks("Postback", "It does not fire.");
    let answer = app.as_manager(&maria).bulk(BulkAction::Close, &[t1, t2]).unwrap();
    let BulkAnswer::Done(summary) = answer else { panic!("closing questions asks nothing: {answer:?}") };
    assert_eq!(summary.done, vec![t1.0, t2.0]);
    assert_eq!(app.ticket(t1).status, TicketStatus::Closed);
    assert_eq!(app.ticket(t2).status, TicketStatus::Closed);
});

db_test!(remove_asks_with_the_count_it_may_touch_and_changes_nothing, |app| {
    let maria = app.with_manager("maria@network.test");
    let omar = app.with_manager("omar@network.test");
    let mine = app.with_affiliate_of(&maria, "shop@partners.test");
    let theirs = app.with_affiliate_of(&omar, "blog@partners.test");
    let a = app.as_affiliate(&mine).asks("One", "First question.");
    let b = app.as_affiliate(&mine).asks("Two", "Second question.");
    let c = app.as_affiliate(&theirs).asks("Three", "A colleague's question.");
    let gone = TicketId(c.0 + 1000);

    let asked = app.as_manager(&maria).bulk(BulkAction::Remove, &[a, b, c, gone]).unwrap();
    assert_eq!(asked, BulkAnswer::NeedsConfirmation { count: 2, pending: 0 });
    assert_eq!(app.ticket(a).status, TicketStatus::Open, "asking removed nothing");

    let done = app.as_manager(&maria).bulk_confirmed(BulkAction::Remove, &[a, b, c, gone]).unwrap();
    assert_eq!(done.done, vec![a.0, b.0]);
    assert_eq!(done.not_allowed, vec![c.0, gone.0]);
    assert!(matches!(app.as_manager(&maria).thread(a), Err(DomainError::NotFound)));
    assert_eq!(app.ticket(c).status, TicketStatus::Open, "a colleague's ticket is untouched");
});

db_test!(nothing_visible_is_not_asked_about, |app| {
    let maria = app.with_manager("maria@network.test");
    let omar = app.with_manager("omar@network.test");
    let theirs = app.with_affiliate_of(&omar, "blog@partners.test");
    let c = app.as_affiliate(&theirs).asks("Three", "A colleague's question.");
    let answer = app.as_manager(&maria).bulk(BulkAction::Remove, &[c]).unwrap();
    let BulkAnswer::Done(summary) = answer else { panic!("nothing to confirm: {answer:?}") };
    assert!(summary.done.is_empty());
    assert_eq!(summary.not_allowed, vec![c.0]);
    assert_eq!(app.ticket(c).status, TicketStatus::Open);
});

db_test!(closing_a_pending_request_from_its_thread_asks_first, |app| {
    let admin = app.with_admin("admin@network.test");
    let maria = app.with_manager("maria@network.test");
    let shop = app.with_affiliate_of(&maria, "shop@partners.test");
    let offer = app.with_offer(&admin, "Summer sale");
    let request = app.as_affiliate(&shop).asks_for(offer, "We run a coupon site.");
    let question = app.as_affiliate(&shop).asks("Payout", "When?");

    let asked = app.as_manager(&maria).close_from_thread(request, false).unwrap();
    assert_eq!(asked, CloseAnswer::AsksAboutPendingRequest);
    assert_eq!(app.ticket(request).status, TicketStatus::Open, "asking closed nothing");
    assert_eq!(app.ticket(request).request_state, Some(RequestState::Pending));

    let closed = app.as_manager(&maria).close_from_thread(request, true).unwrap();
    assert_eq!(closed, CloseAnswer::Done(Outcome::Done));
    assert_eq!(app.ticket(request).status, TicketStatus::Closed);
    assert_eq!(app.ticket(request).request_state, Some(RequestState::Pending), "closing decides nothing");

    let plain = app.as_manager(&maria).close_from_thread(question, false).unwrap();
    assert_eq!(plain, CloseAnswer::Done(Outcome::Done), "a question is closed at once");
});

db_test!(the_thread_box_says_what_it_did, |app| {
    let admin = app.with_admin("admin@network.test");
    let maria = app.with_manager("maria@network.test");
    let shop = app.with_affiliate_of(&maria, "shop@partners.test");
    let offer = app.with_offer(&admin, "Summer sale");
    let t = app.as_affiliate(&shop).asks("Payout", "When?");
    let me = app.as_manager(&maria);
    let said = |sending, text| me.sends(t, text, sending).unwrap().done_text();
    assert_eq!(said(Sending::Note, "Checking with finance."), "Internal note added.");
    assert_eq!(said(Sending::Reply(Then::Stay), "Looking into it."), "Reply sent.");
    assert_eq!(said(Sending::Reply(Then::Wait), "Which invoice?"), "Reply sent; the ticket waits for the affiliate.");
    assert_eq!(app.ticket(t).status, TicketStatus::Pending);
    assert_eq!(said(Sending::Reply(Then::Close), "Paid today."), "Reply sent and ticket closed.");
    let request = app.as_affiliate(&shop).asks_for(offer, "Coupons.");
    let approved = me.sends(request, "Welcome aboard.", Sending::Reply(Then::Decide(Decision::Approve))).unwrap();
    assert_eq!(approved.done_text(), "Reply sent and request approved.");
    assert_eq!(app.ticket(request).request_state, Some(RequestState::Approved));
});
