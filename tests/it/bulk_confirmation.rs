//! A bulk action asks first where it must (Remove, anything on all matching, closing
//! pending requests), from the same transaction that would act: the question counts
//! what the action would touch, and asking changes nothing.

use affdesk::domain::lifecycle::{BulkAction, BulkAnswer};
use affdesk::domain::states::TicketStatus;
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
