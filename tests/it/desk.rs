//! The fluent harness: a desk built step by step, and its people acting through the
//! use cases with typed handles, so a test reads as what people do and what they
//! then see, with no SQL:
//!
//! ```ignore
//! let app = TestApp::sqlite().await;
//! let maria = app.with_manager("maria@network.test");
//! let shop = app.with_affiliate_of(&maria, "shop@partners.test");
//! let t = app.as_affiliate(&shop).asks("Payout is late", "Where is March?");
//! app.as_manager(&maria).close(t).unwrap();
//! assert_eq!(app.ticket(t).status, TicketStatus::Closed);
//! ```

use affdesk::db::schema::{
    account_tokens, affiliates, affise_pushes, attachments, audit_log, daily_stats, messages as messages_t,
    offer_access, offers, outbox, smartlink_access, smartlinks, tickets,
};
use affdesk::domain::access::{self, Decision};
use affdesk::domain::account::Account;
use affdesk::domain::affiliates::Affiliate;
use affdesk::domain::affise_push::Push;
use affdesk::domain::catalogue::{Offer, Smartlink};
use affdesk::domain::catalogue_admin::{self, CatalogueKind, ItemForm};
use affdesk::domain::directory::{self, AffiliateForm};
use affdesk::domain::lifecycle::{self, BulkAction, BulkAnswer, BulkSummary, CloseAnswer, Outcome, Selection};
use affdesk::domain::messages::{self, Draft, Replied, Sending, Then};
use affdesk::domain::opening::{self, NewQuestion};
use affdesk::domain::outbox::{self as outbox_rows, Mail};
use affdesk::domain::reply_templates::{self, ReplyTemplate};
use affdesk::domain::requests::{self, Target};
use affdesk::domain::states::{
    AccessGrant, AccessSource, ActorKind, AffiliateStatus, AuditAction, AuthorKind, MailEvent, RequestState, Role,
    TicketKind, TicketStatus,
};
use affdesk::domain::sync_state::SyncPart;
use affdesk::domain::threads::{self, Thread};
use affdesk::domain::tickets::Ticket;
use affdesk::domain::users::User;
use affdesk::domain::{Actor, Via};
use affdesk::storage::LocalStore;
use affdesk_core::error::DomainResult;
use diesel::prelude::*;

use crate::harness::{Backend, TestApp};
use crate::support::Settle;

/// A ticket made in the test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TicketId(pub i64);

/// Which tickets to find: every field set narrows.
#[derive(Clone, Copy, Debug, Default)]
pub struct Find {
    pub affiliate: Option<i64>,
    pub status: Option<TicketStatus>,
    pub kind: Option<TicketKind>,
    pub request_state: Option<RequestState>,
    /// In this manager's queue.
    pub manager: Option<i64>,
    /// In any queue but this manager's.
    pub not_manager: Option<i64>,
    /// Of any of these kinds.
    pub kind_in: Option<&'static [TicketKind]>,
    /// Of any of these affiliates.
    pub affiliate_in: Option<&'static [i64]>,
}

/// An offer made in the test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OfferId(pub i64);

/// A Smartlink made in the test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SmartlinkId(pub i64);

/// An admin or manager made in the test.
#[derive(Clone, Debug)]
pub struct StaffMember {
    pub id: i64,
    pub email: String,
}

/// An affiliate made in the test.
#[derive(Clone, Debug)]
pub struct AffiliateAccount {
    pub id: i64,
    pub email: String,
}

/// The one of `rows` Affise knows by `affise_id`.
fn by_affise_id<T>(rows: Vec<T>, affise_id: &str, id_of: impl Fn(&T) -> Option<&str>, what: &str) -> T {
    rows.into_iter()
        .find(|row| id_of(row) == Some(affise_id))
        .unwrap_or_else(|| panic!("no {what} with Affise id {affise_id}"))
}

/// The smallest network: an admin, a manager and an affiliate of the manager's.
pub struct Team {
    pub boss: StaffMember,
    pub maria: StaffMember,
    pub shop: AffiliateAccount,
}

impl TestApp {
    /// An admin (boss), a manager (maria) and her affiliate (shop).
    pub fn with_team(&self) -> Team {
        let boss = self.with_admin("boss@network.test");
        let maria = self.with_manager("maria@network.test");
        let shop = self.with_affiliate_of(&maria, "shop@partners.test");
        Team { boss, maria, shop }
    }

    /// A desk on SQLite, empty but for its migrations.
    pub async fn sqlite() -> TestApp {
        TestApp::start(Backend::Sqlite).await
    }

    /// The same desk on `backend` (the `db_test!` pair passes its own).
    pub async fn on(backend: Backend) -> Option<TestApp> {
        match backend {
            Backend::Sqlite => Some(TestApp::sqlite().await),
            Backend::Postgres => TestApp::start_postgres().await,
        }
    }

    pub fn with_admin(&self, email: &str) -> StaffMember {
        self.with_staff(email, Role::Admin)
    }

    pub fn with_manager(&self, email: &str) -> StaffMember {
        self.with_staff(email, Role::Manager)
    }

    fn with_staff(&self, email: &str, role: Role) -> StaffMember {
        let name = email.split('@').next().unwrap_or(email);
        let user = User::create(&mut self.conn(), email, name, role, affdesk::seed::DEMO_PASSWORD)
            .settled()
            .expect("staff created");
        StaffMember { id: user.id, email: user.email }
    }

    /// An active affiliate whose manager is `manager`, added as the desk would.
    pub fn with_affiliate_of(&self, manager: &StaffMember, email: &str) -> AffiliateAccount {
        let form = AffiliateForm {
            email: email.into(),
            login: email.split('@').next().unwrap_or(email).into(),
            name: format!("Affiliate {email}"),
            status: "active".into(),
            manager_id: manager.id.to_string(),
        };
        let id = directory::create_affiliate(&mut self.conn(), &self.as_manager(manager).actor, &form)
            .expect("the desk answers")
            .expect("the affiliate's fields are right");
        AffiliateAccount { id, email: email.into() }
    }

    /// A premoderated (Affise: "protected") offer, added by `admin`.
    pub fn with_offer(&self, admin: &StaffMember, name: &str) -> OfferId {
        let form = ItemForm {
            name: name.into(),
            status: "active".into(),
            privacy: "protected".into(),
            payout: "2.50".into(),
            currency: "USD".into(),
            preview_url: String::new(),
        };
        let id = catalogue_admin::create(&mut self.conn(), &self.as_manager(admin).actor, CatalogueKind::Offer, &form)
            .expect("the desk answers")
            .expect("the offer's fields are right");
        OfferId(id)
    }

    /// A premoderated (Affise: "protected") Smartlink, added by `admin`.
    pub fn with_smartlink(&self, admin: &StaffMember, name: &str) -> SmartlinkId {
        let form = ItemForm {
            name: name.into(),
            status: "active".into(),
            privacy: "protected".into(),
            payout: String::new(),
            currency: String::new(),
            preview_url: String::new(),
        };
        let kind = CatalogueKind::Smartlink;
        let id = catalogue_admin::create(&mut self.conn(), &self.as_manager(admin).actor, kind, &form)
            .expect("the desk answers")
            .expect("the Smartlink's fields are right");
        SmartlinkId(id)
    }

    /// A day of an affiliate's traffic on an offer, as the statistics import writes it.
    pub fn with_daily_stats(&self, who: &AffiliateAccount, offer: OfferId, day: chrono::NaiveDate, clicks: i64) {
        diesel::insert_into(daily_stats::table)
            .values((
                daily_stats::day.eq(day),
                daily_stats::affiliate_id.eq(who.id),
                daily_stats::offer_id.eq(offer.0),
                daily_stats::clicks.eq(clicks),
                daily_stats::unique_clicks.eq(clicks / 2),
                daily_stats::conversions.eq(clicks / 100),
                daily_stats::payout.eq(clicks * 3),
                daily_stats::revenue.eq(clicks * 4),
            ))
            .execute(&mut *self.conn())
            .expect("the day's statistics");
    }

    /// The quick replies, as the Templates tab lists them.
    pub fn templates(&self) -> Vec<ReplyTemplate> {
        reply_templates::list(&mut self.conn()).expect("read").into_iter().map(|row| row.template).collect()
    }

    /// The staff member acting in the admin panel.
    pub fn as_manager(&self, who: &StaffMember) -> Acting<'_> {
        let user = User::find(&mut self.conn(), who.id).expect("read").expect("the user exists");
        Acting { app: self, actor: user.actor(Via::Panel) }
    }

    /// The affiliate acting in their panel.
    pub fn as_affiliate(&self, who: &AffiliateAccount) -> Acting<'_> {
        let affiliate = Affiliate::find(&mut self.conn(), who.id).expect("read").expect("the affiliate exists");
        Acting { app: self, actor: affiliate.actor(Via::Panel) }
    }

    /// A browser logged in to the admin panel as `who`.
    pub async fn browser_as(&self, who: &StaffMember) -> crate::harness::Client {
        self.login_admin(&who.email).await
    }

    /// `who`'s API key (a new one).
    pub fn api_key_of(&self, who: &StaffMember) -> String {
        User::issue_api_key(&mut self.conn(), who.id).expect("a key")
    }

    /// A person of the staff already on the desk (the demo's, for one).
    pub fn staff(&self, email: &str) -> StaffMember {
        let user = User::find_by_email(&mut self.conn(), email).expect("read").expect("such a user");
        StaffMember { id: user.id, email: user.email }
    }

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

    /// How many attachments the desk holds in all.
    pub fn attachments_stored(&self) -> i64 {
        attachments::table.count().get_result(&mut *self.conn()).expect("read")
    }

    /// An affiliate's access to an offer, and how it was granted, if a row says so.
    pub fn offer_access(&self, offer: i64, affiliate: i64) -> Option<(AccessGrant, AccessSource)> {
        offer_access::table
            .find((offer, affiliate))
            .select((offer_access::state, offer_access::source))
            .first(&mut *self.conn())
            .optional()
            .expect("read")
    }

    /// An affiliate's access to a Smartlink, and how it was granted, if a row says so.
    pub fn smartlink_access(&self, smartlink: SmartlinkId, affiliate: i64) -> Option<(AccessGrant, AccessSource)> {
        smartlink_access::table
            .find((smartlink.0, affiliate))
            .select((smartlink_access::state, smartlink_access::source))
            .first(&mut *self.conn())
            .optional()
            .expect("read")
    }

    /// Access to an offer enabled by hand, whatever was there before.
    pub fn grant_by_hand(&self, offer: i64, affiliate: i64) {
        self.granted(offer, affiliate, AccessSource::Manual);
    }

    /// Access to an offer enabled by `source` (an earlier ticket, Affise, an
    /// import), whatever was there before.
    pub fn granted(&self, offer: i64, affiliate: i64, source: AccessSource) {
        let mut conn = self.conn();
        diesel::delete(offer_access::table.find((offer, affiliate))).execute(&mut *conn).expect("cleared");
        diesel::insert_into(offer_access::table)
            .values((
                offer_access::offer_id.eq(offer),
                offer_access::affiliate_id.eq(affiliate),
                offer_access::state.eq(AccessGrant::Enabled),
                offer_access::source.eq(source),
                offer_access::updated_at.eq(affdesk::domain::now()),
            ))
            .execute(&mut *conn)
            .expect("granted");
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

    /// A quick reply saved by `who`: its id.
    pub fn with_template(&self, who: &StaffMember, title: &str, body: &str) -> i64 {
        let saved =
            affdesk::domain::reply_templates::save(&mut self.conn(), &self.as_manager(who).actor, None, title, body)
                .settled()
                .expect("the desk answers")
                .expect("the template's fields are right");
        saved.id
    }

    /// A browser logged in to the affiliate panel as `who` (their password set as
    /// an invitation's link would).
    pub async fn browser_of(&self, who: &AffiliateAccount) -> crate::harness::Client {
        diesel::update(affiliates::table.find(who.id))
            .set(affiliates::password_hash.eq(affdesk::domain::secrets::hash_password(affdesk::seed::DEMO_PASSWORD)))
            .execute(&mut *self.conn())
            .expect("password set");
        self.login_affiliate(&who.email).await
    }

    /// Every email in the outbox, newest first.
    pub fn outbox(&self) -> Vec<Mail> {
        outbox_rows::list(&mut self.conn(), None, 100_000).expect("read")
    }

    /// How many live events the desk holds (an hour's worth).
    pub fn live_events(&self) -> usize {
        affdesk::domain::live::since(&mut self.conn(), 0, 100_000).expect("read").len()
    }

    /// `who` switches off the emails of `events` in their profile.
    pub fn switches_off(&self, who: &AffiliateAccount, events: &[MailEvent]) {
        let wanted: Vec<MailEvent> =
            MailEvent::FOR_AFFILIATES.iter().copied().filter(|e| !events.contains(e)).collect();
        affdesk::domain::notify::set_wanted(&mut self.conn(), Account::Affiliate(who.id), &wanted).expect("saved");
    }

    /// `manager` bans their affiliate `who` (as the affiliate's page does).
    pub fn ban(&self, manager: &StaffMember, who: &AffiliateAccount) {
        self.set_status(manager, who, AffiliateStatus::Banned);
    }

    /// `manager` sets their affiliate's status on the affiliate's page.
    pub fn set_status(&self, manager: &StaffMember, who: &AffiliateAccount, status: AffiliateStatus) {
        let form = AffiliateForm {
            email: who.email.clone(),
            login: who.email.split('@').next().unwrap_or(&who.email).into(),
            name: format!("Affiliate {}", who.email),
            status: status.as_str().into(),
            manager_id: manager.id.to_string(),
        };
        directory::update_affiliate(&mut self.conn(), &self.as_manager(manager).actor, who.id, &form)
            .expect("the desk answers")
            .expect("the affiliate's fields are right");
    }

    /// Whether an API key is kept as typed anywhere (only its hash may be).
    pub fn api_key_kept_in_clear(&self, key: &str) -> bool {
        let users: i64 = affdesk::db::schema::users::table
            .filter(affdesk::db::schema::users::api_key_hash.eq(key))
            .count()
            .get_result(&mut *self.conn())
            .expect("read");
        let affiliates: i64 = affiliates::table
            .filter(affiliates::api_key_hash.eq(key))
            .count()
            .get_result(&mut *self.conn())
            .expect("read");
        users + affiliates > 0
    }

    /// How many emails of `event` went to `email`.
    pub fn emails_to(&self, event: MailEvent, email: &str) -> usize {
        self.outbox().iter().filter(|m| m.event == event && m.recipient_email == email).count()
    }

    /// The token of the newest emailed link to `email` (an invitation, a reset).
    pub fn link_sent_to(&self, email: &str) -> String {
        let newest = self.outbox().into_iter().find(|m| m.recipient_email == email).expect("an email to them");
        newest.link_path.split("token=").nth(1).unwrap_or_default().to_string()
    }

    /// Whether a link's token is kept as sent (only its hash may be).
    pub fn link_kept_in_clear(&self, token: &str) -> bool {
        let n: i64 = account_tokens::table
            .filter(account_tokens::token_hash.eq(token))
            .count()
            .get_result(&mut *self.conn())
            .expect("read");
        n > 0
    }

    /// How many emailed links can still be used.
    pub fn unused_links(&self) -> i64 {
        account_tokens::table
            .filter(account_tokens::used_at.is_null())
            .count()
            .get_result(&mut *self.conn())
            .expect("read")
    }

    /// Every unused link runs out, as it would after its hours.
    pub fn expire_links(&self) {
        diesel::update(account_tokens::table.filter(account_tokens::used_at.is_null()))
            .set(account_tokens::expires_at.eq(account_tokens::created_at))
            .execute(&mut *self.conn())
            .expect("expired");
    }

    /// Whether someone of the staff has this email.
    pub fn has_staff(&self, email: &str) -> bool {
        User::find_by_email(&mut self.conn(), email).expect("read").is_some()
    }

    /// The name and storage key of the attachment stored last.
    pub fn newest_attachment_file(&self) -> (String, String) {
        attachments::table
            .order(attachments::id.desc())
            .select((attachments::file_name, attachments::storage_key))
            .first(&mut *self.conn())
            .expect("an attachment")
    }

    /// How many attachments carry this name.
    pub fn attachments_named(&self, name: &str) -> i64 {
        attachments::table.filter(attachments::file_name.eq(name)).count().get_result(&mut *self.conn()).expect("read")
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

    /// How many emailed links were used.
    pub fn used_links(&self) -> i64 {
        account_tokens::table
            .filter(account_tokens::used_at.is_not_null())
            .count()
            .get_result(&mut *self.conn())
            .expect("read")
    }

    /// The newest emailed link of `event` (its path).
    pub fn newest_link(&self, event: MailEvent) -> String {
        self.outbox().into_iter().find(|m| m.event == event).expect("such an email").link_path
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

    /// The active affiliates of a manager, oldest first.
    pub fn active_affiliates_of(&self, who: &StaffMember) -> Vec<AffiliateAccount> {
        self.affiliates_with(who).into_iter().filter(|a| self.affiliate(a).status == AffiliateStatus::Active).collect()
    }

    /// Every affiliate on the desk, oldest first.
    pub fn all_affiliates(&self) -> Vec<Affiliate> {
        affiliates::table.order(affiliates::id).select(Affiliate::as_select()).load(&mut *self.conn()).expect("read")
    }

    /// The affiliate Affise knows by `affise_id`.
    pub fn affiliate_from_affise(&self, affise_id: &str) -> Affiliate {
        by_affise_id(self.all_affiliates(), affise_id, |a| a.affise_id.as_deref(), "affiliate")
    }

    /// Every offer on the desk, oldest first.
    pub fn all_offers(&self) -> Vec<Offer> {
        offers::table.order(offers::id).select(Offer::as_select()).load(&mut *self.conn()).expect("read")
    }

    /// The offer Affise knows by `affise_id`.
    pub fn offer_from_affise(&self, affise_id: &str) -> Offer {
        by_affise_id(self.all_offers(), affise_id, |o| o.affise_id.as_deref(), "offer")
    }

    /// Every Smartlink on the desk, oldest first.
    pub fn all_smartlinks(&self) -> Vec<Smartlink> {
        smartlinks::table.order(smartlinks::id).select(Smartlink::as_select()).load(&mut *self.conn()).expect("read")
    }

    /// Every member of the staff, oldest first.
    pub fn all_staff(&self) -> Vec<User> {
        affdesk::db::schema::users::table
            .order(affdesk::db::schema::users::id)
            .select(User::as_select())
            .load(&mut *self.conn())
            .expect("read")
    }

    /// The decisions waiting for, or pushed to, Affise, oldest first.
    pub fn affise_pushes(&self) -> Vec<Push> {
        affise_pushes::table.order(affise_pushes::id).select(Push::as_select()).load(&mut *self.conn()).expect("read")
    }

    /// Where one part of the Affise pull stands.
    pub fn sync_part(&self, part: &str) -> Option<SyncPart> {
        affdesk::domain::sync_state::sync_parts(&mut self.conn()).expect("read").into_iter().find(|p| p.part == part)
    }

    /// The offer and the affiliate become Affise's, with these ids (as a pull
    /// would have brought them).
    pub fn known_in_affise(&self, offer: i64, offer_affise_id: &str, affiliate: i64, partner_affise_id: &str) {
        let mut conn = self.conn();
        diesel::update(offers::table.find(offer))
            .set(offers::affise_id.eq(offer_affise_id))
            .execute(&mut *conn)
            .expect("linked");
        diesel::update(affiliates::table.find(affiliate))
            .set(affiliates::affise_id.eq(partner_affise_id))
            .execute(&mut *conn)
            .expect("linked");
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

    /// How many emails of this kind are in the outbox, whatever their state.
    pub fn emails(&self, event: MailEvent) -> i64 {
        outbox::table.filter(outbox::event.eq(event)).count().get_result(&mut *self.conn()).expect("read")
    }

    /// Puts a ticket as if it had waited on the affiliate since `since` (the
    /// periodic chores' input), keeping the totals right.
    pub fn waiting_on_affiliate_since(&self, t: TicketId, since: chrono::NaiveDateTime) {
        let mut conn = self.conn();
        diesel::update(tickets::table.find(t.0))
            .set((tickets::status.eq(TicketStatus::Pending), tickets::updated_at.eq(since)))
            .execute(&mut *conn)
            .expect("set");
        affdesk::domain::ticket_counts::rebuild(&mut conn).expect("the totals follow");
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

    /// The affiliates whose manager is `who`.
    pub fn affiliates_with(&self, who: &StaffMember) -> Vec<AffiliateAccount> {
        let rows: Vec<(i64, String)> = affiliates::table
            .filter(affiliates::manager_id.eq(who.id))
            .order(affiliates::id)
            .select((affiliates::id, affiliates::email))
            .load(&mut *self.conn())
            .expect("read");
        rows.into_iter().map(|(id, email)| AffiliateAccount { id, email }).collect()
    }

    /// The affiliate a ticket is for.
    pub fn affiliate_of(&self, t: TicketId) -> AffiliateAccount {
        let affiliate = Affiliate::find(&mut self.conn(), self.ticket(t).affiliate_id).expect("read").expect("exists");
        AffiliateAccount { id: affiliate.id, email: affiliate.email }
    }

    /// The affiliate as stored now.
    pub fn affiliate(&self, who: &AffiliateAccount) -> Affiliate {
        Affiliate::find(&mut self.conn(), who.id).expect("read").expect("the affiliate exists")
    }

    /// How many audit entries record `action` (on these tickets, when named).
    pub fn audited(&self, action: AuditAction, on: Option<&[TicketId]>) -> i64 {
        let mut q = audit_log::table.filter(audit_log::action.eq(action)).into_boxed();
        if let Some(tickets) = on {
            q = q.filter(audit_log::ticket_id.eq_any(tickets.iter().map(|t| t.0).collect::<Vec<_>>()));
        }
        q.count().get_result(&mut *self.conn()).expect("read")
    }

    /// Gives an affiliate to another manager for good, with their tickets, as an
    /// admin editing them would.
    pub fn give_affiliate(&self, who: &AffiliateAccount, to: &StaffMember) {
        let mut conn = self.conn();
        diesel::update(affiliates::table.find(who.id))
            .set(affiliates::manager_id.eq(Some(to.id)))
            .execute(&mut *conn)
            .expect("moved");
        directory::move_tickets(&mut conn, who.id, Some(to.id)).expect("their tickets follow");
    }

    /// The ticket as it is stored now.
    pub fn ticket(&self, t: TicketId) -> Ticket {
        Ticket::find(&mut self.conn(), t.0).expect("read").expect("the ticket exists")
    }

    pub fn store(&self) -> LocalStore {
        LocalStore::new(self.data_dir.join("attachments")).expect("the attachment folder")
    }
}

/// Someone acting on the desk through its use cases.
pub struct Acting<'a> {
    app: &'a TestApp,
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
