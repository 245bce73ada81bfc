//! What the desk holds of people and the catalogue: staff, affiliates, offers,
//! Smartlinks, access, quick replies, and what Affise was told.

use affdesk::db::schema::{affiliates, affise_pushes, offer_access, offers, smartlink_access, smartlinks};
use affdesk::domain::affiliates::Affiliate;
use affdesk::domain::affise_push::Push;
use affdesk::domain::catalogue::{Offer, Smartlink};
use affdesk::domain::reply_templates::{self, ReplyTemplate};
use affdesk::domain::states::{AccessGrant, AccessSource, AffiliateStatus};
use affdesk::domain::sync_state::SyncPart;
use affdesk::domain::users::User;
use diesel::prelude::*;

use crate::harness::TestApp;

use super::{AffiliateAccount, SmartlinkId, StaffMember};

/// The one of `rows` Affise knows by `affise_id`.
fn by_affise_id<T>(rows: Vec<T>, affise_id: &str, id_of: impl Fn(&T) -> Option<&str>, what: &str) -> T {
    rows.into_iter()
        .find(|row| id_of(row) == Some(affise_id))
        .unwrap_or_else(|| panic!("no {what} with Affise id {affise_id}"))
}

impl TestApp {
    /// A person of the staff already on the desk (the demo's, for one).
    pub fn staff(&self, email: &str) -> StaffMember {
        let user = User::find_by_email(&mut self.conn(), email).expect("read").expect("such a user");
        StaffMember { id: user.id, email: user.email }
    }

    /// Whether someone of the staff has this email.
    pub fn has_staff(&self, email: &str) -> bool {
        User::find_by_email(&mut self.conn(), email).expect("read").is_some()
    }

    /// Every member of the staff, oldest first.
    pub fn all_staff(&self) -> Vec<User> {
        affdesk::db::schema::users::table
            .order(affdesk::db::schema::users::id)
            .select(User::as_select())
            .load(&mut *self.conn())
            .expect("read")
    }

    /// The affiliate as stored now.
    pub fn affiliate(&self, who: &AffiliateAccount) -> Affiliate {
        Affiliate::find(&mut self.conn(), who.id).expect("read").expect("the affiliate exists")
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

    /// The decisions waiting for, or pushed to, Affise, oldest first.
    pub fn affise_pushes(&self) -> Vec<Push> {
        affise_pushes::table.order(affise_pushes::id).select(Push::as_select()).load(&mut *self.conn()).expect("read")
    }

    /// Where one part of the Affise pull stands.
    pub fn sync_part(&self, part: &str) -> Option<SyncPart> {
        affdesk::domain::sync_state::sync_parts(&mut self.conn()).expect("read").into_iter().find(|p| p.part == part)
    }

    /// The quick replies, as the Templates tab lists them.
    pub fn templates(&self) -> Vec<ReplyTemplate> {
        reply_templates::list(&mut self.conn()).expect("read").into_iter().map(|row| row.template).collect()
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
}
