//! Someone acting on the desk through its use cases.

use affdesk::domain::Actor;
use affdesk::domain::access::{self, Decision};
use affdesk::domain::lifecycle::{self, BulkAction, BulkAnswer, BulkSummary, CloseAnswer, Outcome, Selection};
use affdesk::domain::messages::{self, Draft, Replied, Sending, Then};
use affdesk::domain::opening::{self, NewQuestion};
use affdesk::domain::requests::{self, Target};
use affdesk::domain::states::TicketKind;
use affdesk::domain::threads::{self, Thread};
use affdesk_core::error::DomainResult;

use crate::harness::TestApp;
use crate::support::Settle;

use super::{OfferId, StaffMember, TicketId};

/// Someone acting on the desk through its use cases.
pub struct Acting<'a> {
    pub(super) app: &'a TestApp,
    pub actor: Actor,
}

impl Acting<'_> {
    /// Opens a general question (an affiliate for themself).
    pub fn asks(&self, title: &str, body: &str) -> TicketId {
        let question =
            NewQuestion { affiliate_id: None, kind: TicketKind::General, title: title.into(), body: body.into() };
        let opened = opening::open_question(&mut self.app.conn(), &self.app.store(), &self.actor, question, Vec::new())
            .settled()
            .expect("the desk answers")
            .expect("the question is opened");
        TicketId(opened.id)
    }

    /// An affiliate asks for access to an offer.
    pub fn asks_for(&self, offer: OfferId, comment: &str) -> TicketId {
        let ticket = requests::request_access(&mut self.app.conn(), &self.actor, Target::Offer(offer.0), comment)
            .settled()
            .expect("the request is opened");
        TicketId(ticket.id)
    }

    /// Close from the thread: a pending request is asked about first.
    pub fn close_from_thread(&self, t: TicketId, confirmed: bool) -> DomainResult<CloseAnswer> {
        lifecycle::close_or_ask(&mut self.app.conn(), &self.actor, t.0, confirmed).settled()
    }

    /// The thread's one box: a note, or a reply and what follows it.
    pub fn sends(&self, t: TicketId, text: &str, sending: Sending) -> DomainResult<Replied> {
        messages::send(&mut self.app.conn(), &self.app.store(), &self.actor, t.0, Draft::new(text), sending, Vec::new())
            .settled()
    }

    pub fn reply(&self, t: TicketId, text: &str) -> DomainResult<Replied> {
        self.reply_then(t, text, Then::Stay)
    }

    pub fn reply_then(&self, t: TicketId, text: &str, then: Then) -> DomainResult<Replied> {
        messages::reply(&mut self.app.conn(), &self.app.store(), &self.actor, t.0, Draft::new(text), then, Vec::new())
            .settled()
    }

    pub fn note(&self, t: TicketId, text: &str) -> DomainResult<Replied> {
        messages::add_note(&mut self.app.conn(), &self.app.store(), &self.actor, t.0, Draft::new(text), Vec::new())
            .settled()
    }

    pub fn close(&self, t: TicketId) -> DomainResult<Outcome> {
        lifecycle::close(&mut self.app.conn(), &self.actor, t.0).settled()
    }

    pub fn reopen(&self, t: TicketId) -> DomainResult<Outcome> {
        lifecycle::reopen(&mut self.app.conn(), &self.actor, t.0).settled()
    }

    pub fn reject(&self, t: TicketId) -> DomainResult<Outcome> {
        access::decide(&mut self.app.conn(), &self.actor, t.0, Decision::Reject, None).settled()
    }

    pub fn approve(&self, t: TicketId) -> DomainResult<Outcome> {
        access::decide(&mut self.app.conn(), &self.actor, t.0, Decision::Approve, None).settled()
    }

    pub fn assign(&self, t: TicketId, to: &StaffMember) -> DomainResult<BulkSummary> {
        self.bulk_confirmed(BulkAction::Assign(to.id), &[t])
    }

    /// A bulk action as the list's bar sends it first: it may ask before acting.
    pub fn bulk(&self, action: BulkAction, tickets: &[TicketId]) -> DomainResult<BulkAnswer> {
        let selection = Selection::Ids(tickets.iter().map(|t| t.0).collect());
        lifecycle::bulk_or_ask(&mut self.app.conn(), &self.app.store(), &self.actor, action, &selection, false)
            .settled()
    }

    /// The same action once the person confirmed it.
    pub fn bulk_confirmed(&self, action: BulkAction, tickets: &[TicketId]) -> DomainResult<BulkSummary> {
        let selection = Selection::Ids(tickets.iter().map(|t| t.0).collect());
        lifecycle::bulk(&mut self.app.conn(), &self.app.store(), &self.actor, action, &selection).settled()
    }

    /// The thread as this person sees it (without marking it read).
    pub fn thread(&self, t: TicketId) -> DomainResult<Thread> {
        threads::read(&mut self.app.conn(), &self.actor, t.0, false)
    }
}
