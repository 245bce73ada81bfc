//! What the desk emailed: the outbox and the single-use links it carried.

use affdesk::db::schema::{account_tokens, outbox};
use affdesk::domain::outbox::{self as outbox_rows, Mail};
use affdesk::domain::states::MailEvent;
use diesel::prelude::*;

use crate::harness::TestApp;

impl TestApp {
    /// Every email in the outbox, newest first.
    pub fn outbox(&self) -> Vec<Mail> {
        outbox_rows::list(&mut self.conn(), None, 100_000).expect("read")
    }

    /// How many emails of this kind are in the outbox, whatever their state.
    pub fn emails(&self, event: MailEvent) -> i64 {
        outbox::table.filter(outbox::event.eq(event)).count().get_result(&mut *self.conn()).expect("read")
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

    /// The newest emailed link of `event` (its path).
    pub fn newest_link(&self, event: MailEvent) -> String {
        self.outbox().into_iter().find(|m| m.event == event).expect("such an email").link_path
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

    /// How many emailed links were used.
    pub fn used_links(&self) -> i64 {
        account_tokens::table
            .filter(account_tokens::used_at.is_not_null())
            .count()
            .get_result(&mut *self.conn())
            .expect("read")
    }
}
