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
//!
//! This file makes the desk and its people and sets up what a test starts from;
//! `acting` holds what they do, and the `*_reads` files what a test then sees.

mod acting;
mod directory_reads;
mod mail_reads;
mod ticket_reads;

pub use acting::Acting;

use affdesk::db::schema::{account_tokens, affiliates, daily_stats, offer_access, offers, tickets};
use affdesk::domain::Via;
use affdesk::domain::account::Account;
use affdesk::domain::affiliates::Affiliate;
use affdesk::domain::catalogue_admin::{self, CatalogueKind, ItemForm};
use affdesk::domain::directory::{self, AffiliateForm};
use affdesk::domain::states::{
    AccessGrant, AccessSource, AffiliateStatus, MailEvent, RequestState, Role, TicketKind, TicketStatus,
};
use affdesk::domain::users::User;
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

    /// Every unused link runs out, as it would after its hours.
    pub fn expire_links(&self) {
        diesel::update(account_tokens::table.filter(account_tokens::used_at.is_null()))
            .set(account_tokens::expires_at.eq(account_tokens::created_at))
            .execute(&mut *self.conn())
            .expect("expired");
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
}
