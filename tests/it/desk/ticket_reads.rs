//! What the desk holds of tickets: their threads, files, live notices and audit.

use affdesk::db::schema::{attachments, audit_log, messages as messages_t, tickets};
use affdesk::domain::affiliates::Affiliate;
use affdesk::domain::states::{ActorKind, AuditAction, AuthorKind, TicketStatus};
use affdesk::domain::tickets::Ticket;
use affdesk::storage::LocalStore;
use diesel::prelude::*;

use crate::harness::TestApp;

use super::{AffiliateAccount, Find, StaffMember, TicketId};

impl TestApp {
    /// The tickets in `who`'s queue, in the list's order (last updated first); only
    /// the open ones with `open_only`.
    pub fn tickets_with(&self, who: &StaffMember, open_only: bool) -> Vec<TicketId> {
        let mut q = tickets::table.filter(tickets::manager_id.eq(who.id)).into_boxed();
        if open_only {
            q = q.filter(tickets::status.eq(TicketStatus::Open));
        }
        let ids: Vec<i64> = q
            .order((tickets::updated_at.desc(), tickets::id.desc()))
            .select(tickets::id)
            .load(&mut *self.conn())
            .expect("read");
        ids.into_iter().map(TicketId).collect()
    }

    /// The tickets that match, in the list's order (last updated first).
    pub fn find(&self, find: Find) -> Vec<TicketId> {
        let mut q = tickets::table.into_boxed();
        if let Some(a) = find.affiliate {
            q = q.filter(tickets::affiliate_id.eq(a));
        }
        if let Some(s) = find.status {
            q = q.filter(tickets::status.eq(s));
        }
        if let Some(k) = find.kind {
            q = q.filter(tickets::kind.eq(k));
        }
        if let Some(r) = find.request_state {
            q = q.filter(tickets::request_state.eq(r));
        }
        if let Some(m) = find.manager {
            q = q.filter(tickets::manager_id.eq(m));
        }
        if let Some(m) = find.not_manager {
            q = q.filter(tickets::manager_id.ne(m).or(tickets::manager_id.is_null()));
        }
        if let Some(kinds) = find.kind_in {
            q = q.filter(tickets::kind.eq_any(kinds.to_vec()));
        }
        if let Some(ids) = find.affiliate_in {
            q = q.filter(tickets::affiliate_id.eq_any(ids.to_vec()));
        }
        let ids: Vec<i64> = q
            .order((tickets::updated_at.desc(), tickets::id.desc()))
            .select(tickets::id)
            .load(&mut *self.conn())
            .expect("read");
        ids.into_iter().map(TicketId).collect()
    }

    /// The tickets in any queue but `who`'s, in the list's order.
    pub fn tickets_not_with(&self, who: &StaffMember) -> Vec<TicketId> {
        let ids: Vec<i64> = tickets::table
            .filter(tickets::manager_id.ne(who.id).or(tickets::manager_id.is_null()))
            .order((tickets::updated_at.desc(), tickets::id.desc()))
            .select(tickets::id)
            .load(&mut *self.conn())
            .expect("read");
        ids.into_iter().map(TicketId).collect()
    }

    /// The ticket as it is stored now.
    pub fn ticket(&self, t: TicketId) -> Ticket {
        Ticket::find(&mut self.conn(), t.0).expect("read").expect("the ticket exists")
    }

    /// Whether the ticket is still on the desk.
    pub fn exists(&self, t: TicketId) -> bool {
        Ticket::find(&mut self.conn(), t.0).expect("read").is_some()
    }

    /// The ticket opened last.
    pub fn newest_ticket(&self) -> TicketId {
        TicketId(
            tickets::table.select(tickets::id).order(tickets::id.desc()).first(&mut *self.conn()).expect("a ticket"),
        )
    }

    /// The affiliate a ticket is for.
    pub fn affiliate_of(&self, t: TicketId) -> AffiliateAccount {
        let affiliate = Affiliate::find(&mut self.conn(), self.ticket(t).affiliate_id).expect("read").expect("exists");
        AffiliateAccount { id: affiliate.id, email: affiliate.email }
    }

    /// The newest message of a ticket's thread, notes included.
    pub fn last_message(&self, t: TicketId) -> String {
        messages_t::table
            .filter(messages_t::ticket_id.eq(t.0))
            .order(messages_t::id.desc())
            .select(messages_t::body)
            .first(&mut *self.conn())
            .expect("a message")
    }

    /// The newest system message of a ticket's thread (a decision, a notice).
    pub fn last_system_message(&self, t: TicketId) -> String {
        messages_t::table
            .filter(messages_t::ticket_id.eq(t.0).and(messages_t::author_kind.eq(AuthorKind::System)))
            .order(messages_t::id.desc())
            .select(messages_t::body)
            .first(&mut *self.conn())
            .expect("a system message")
    }

    /// How many messages a ticket's thread holds; only the system's with `system_only`.
    pub fn messages_in(&self, t: TicketId, system_only: bool) -> i64 {
        let mut q = messages_t::table.filter(messages_t::ticket_id.eq(t.0)).into_boxed();
        if system_only {
            q = q.filter(messages_t::author_kind.eq(AuthorKind::System));
        }
        q.count().get_result(&mut *self.conn()).expect("read")
    }

    /// The text of a message, by its id.
    pub fn message_body(&self, id: i64) -> String {
        messages_t::table.find(id).select(messages_t::body).first(&mut *self.conn()).expect("the message")
    }

    /// The ids of a thread's messages, oldest first, notes included.
    pub fn message_ids(&self, t: TicketId) -> Vec<i64> {
        messages_t::table
            .filter(messages_t::ticket_id.eq(t.0))
            .order(messages_t::id.asc())
            .select(messages_t::id)
            .load(&mut *self.conn())
            .expect("read")
    }

    /// How many "… is replying" notices people of this kind left.
    pub fn typing_notices(&self, by: ActorKind) -> usize {
        affdesk::domain::live::since(&mut self.conn(), 0, 100_000)
            .expect("read")
            .into_iter()
            .filter(|e| e.is_typing() && e.actor_kind == by)
            .count()
    }

    /// How many live events the desk holds (an hour's worth).
    pub fn live_events(&self) -> usize {
        affdesk::domain::live::since(&mut self.conn(), 0, 100_000).expect("read").len()
    }

    /// Where a ticket's attached files are kept in the store.
    pub fn attachment_keys(&self, t: TicketId) -> Vec<String> {
        attachments::table
            .inner_join(messages_t::table)
            .filter(messages_t::ticket_id.eq(t.0))
            .select(attachments::storage_key)
            .load(&mut *self.conn())
            .expect("read")
    }

    /// The attachment stored last: its id.
    pub fn newest_attachment(&self) -> i64 {
        attachments::table
            .select(attachments::id)
            .order(attachments::id.desc())
            .first(&mut *self.conn())
            .expect("an attachment")
    }

    /// The name and storage key of the attachment stored last.
    pub fn newest_attachment_file(&self) -> (String, String) {
        attachments::table
            .order(attachments::id.desc())
            .select((attachments::file_name, attachments::storage_key))
            .first(&mut *self.conn())
            .expect("an attachment")
    }

    /// How many attachments the desk holds in all.
    pub fn attachments_stored(&self) -> i64 {
        attachments::table.count().get_result(&mut *self.conn()).expect("read")
    }

    /// How many attachments carry this name.
    pub fn attachments_named(&self, name: &str) -> i64 {
        attachments::table.filter(attachments::file_name.eq(name)).count().get_result(&mut *self.conn()).expect("read")
    }

    pub fn store(&self) -> LocalStore {
        LocalStore::new(self.data_dir.join("attachments")).expect("the attachment folder")
    }

    /// What the newest audit entry of `action` on ticket `t` says.
    pub fn audit_detail(&self, t: TicketId, action: AuditAction) -> String {
        audit_log::table
            .filter(audit_log::ticket_id.eq(t.0).and(audit_log::action.eq(action)))
            .order(audit_log::id.desc())
            .select(audit_log::detail)
            .first(&mut *self.conn())
            .expect("such an audit entry")
    }

    /// How many audit entries there are in all.
    pub fn audit_entries(&self) -> i64 {
        audit_log::table.count().get_result(&mut *self.conn()).expect("read")
    }

    /// How many audit entries record `action` with exactly this detail ("bulk").
    pub fn audited_as(&self, action: AuditAction, detail: &str) -> i64 {
        audit_log::table
            .filter(audit_log::action.eq(action).and(audit_log::detail.eq(detail)))
            .count()
            .get_result(&mut *self.conn())
            .expect("read")
    }

    /// How many audit entries record `action` (on these tickets, when named).
    pub fn audited(&self, action: AuditAction, on: Option<&[TicketId]>) -> i64 {
        let mut q = audit_log::table.filter(audit_log::action.eq(action)).into_boxed();
        if let Some(tickets) = on {
            q = q.filter(audit_log::ticket_id.eq_any(tickets.iter().map(|t| t.0).collect::<Vec<_>>()));
        }
        q.count().get_result(&mut *self.conn()).expect("read")
    }

    /// What a refused call must leave as it was: the tickets, their counters and
    /// messages, files, the audit, templates, access, and API keys, as numbers.
    pub fn fingerprint(&self) -> Vec<i64> {
        #[derive(QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        [
            "SELECT COUNT(*) AS n FROM tickets",
            "SELECT COUNT(*) AS n FROM tickets WHERE status = 'open'",
            "SELECT COALESCE(SUM(manager_answers + affiliate_messages + unread_by_manager + unread_by_affiliate), 0) AS n FROM tickets",
            "SELECT COUNT(*) AS n FROM messages",
            "SELECT COUNT(*) AS n FROM attachments",
            "SELECT COUNT(*) AS n FROM audit_log",
            "SELECT COUNT(*) AS n FROM reply_templates",
            "SELECT COUNT(*) AS n FROM reply_templates WHERE title LIKE '%matrix%' OR title LIKE 'API%'",
            "SELECT COUNT(*) AS n FROM offer_access",
            "SELECT COUNT(*) AS n FROM smartlink_access",
            "SELECT COUNT(*) AS n FROM users WHERE api_key_hash IS NOT NULL",
            "SELECT COUNT(*) AS n FROM affiliates WHERE api_key_hash IS NOT NULL",
        ]
        .iter()
        .map(|sql| {
            diesel::sql_query(*sql)
                .get_result::<N>(&mut *self.conn() as &mut affdesk::db::AnyConnection)
                .expect("read")
                .n
        })
        .collect()
    }
}
