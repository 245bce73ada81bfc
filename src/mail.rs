//! Delivering the outbox over SMTP. Every instance runs a sender; each takes a few
//! due emails at a time under a lease (see `domain::outbox::claim_due`), sends
//! them, and marks them sent, or failed with the server's answer. A sender that
//! dies mid-way leaves its emails to be taken again when the lease ends: at least
//! once, and at most one duplicate, with the same `Message-ID`.

use std::time::Duration;

use askama::Template;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::{AsyncTransport, Message, Tokio1Executor};

use crate::db::DbPool;
use crate::domain::notify::MailEvent;
use crate::domain::now;
use crate::domain::outbox::{self, Mail};
use crate::domain::states::AccountKind;

/// How the sender reaches the SMTP server and what its emails say about us.
#[derive(Clone, Debug)]
pub struct MailConfig {
    /// `smtp://host:25`, `smtps://user:pass@host:465`, `smtp://host:587?tls=starttls`;
    /// `None`: the outbox fills, nothing is sent.
    pub smtp_url: Option<String>,
    pub from: String,
    /// The address the emails link to (`https://desk.example.com`).
    pub public_url: String,
    /// Attempts before an email is marked failed.
    pub attempts: i32,
    /// The pause after the first failed attempt; it doubles after each one.
    pub retry_after: Duration,
    /// How often the sender looks for due emails.
    pub poll: Duration,
    /// How long a sender may hold the emails it took before another sender takes
    /// them (longer than an SMTP exchange can last).
    pub lease: Duration,
}

/// Emails taken at once.
const BATCH: i64 = 20;

#[derive(Template)]
#[template(path = "mail/notification.txt")]
struct TextPart<'a> {
    mail: &'a Mail,
    headline: String,
    link: String,
    settings: String,
}

#[derive(Template)]
#[template(path = "mail/notification.html")]
struct HtmlPart<'a> {
    mail: &'a Mail,
    subject: &'a str,
    headline: String,
    link: String,
    settings: String,
}

#[derive(Template)]
#[template(path = "mail/account.txt")]
struct AccountText<'a> {
    mail: &'a Mail,
    headline: String,
    action: &'a str,
    link: String,
}

#[derive(Template)]
#[template(path = "mail/account.html")]
struct AccountHtml<'a> {
    mail: &'a Mail,
    subject: &'a str,
    headline: String,
    action: &'a str,
    link: String,
}

/// The subject and the sentence that says what happened.
fn words(mail: &Mail) -> (String, String) {
    let t = format!("#{} {}", mail.ticket_id, mail.ticket_title);
    let n = mail.ticket_count;
    let who = &mail.actor_name;
    match mail.event {
        MailEvent::NewTicket => (format!("New ticket {t}"), format!("{who} opened a ticket.")),
        MailEvent::AffiliateReply => (format!("Reply from {who}: {t}"), format!("{who} replied:")),
        MailEvent::ManagerReply => (format!("New reply to your ticket {t}"), format!("{who} replied:")),
        MailEvent::TicketForYou => (format!("A ticket for you: {t}"), format!("{who} opened a ticket for you:")),
        MailEvent::TicketClosed if mail.is_digest() => {
            (format!("{n} of your tickets were closed"), format!("{who} closed {n} of your tickets:"))
        }
        MailEvent::TicketClosed => (format!("Ticket closed: {t}"), format!("{who} closed your ticket.")),
        MailEvent::RequestDecided => match (mail.outcome.as_deref(), mail.is_digest()) {
            (Some(o), true) => (format!("{n} of your requests were {o}"), format!("{who} {o} {n} of your requests:")),
            (None, true) => {
                (format!("{n} of your requests were decided"), format!("{who} decided {n} of your requests:"))
            }
            (Some(o), false) => (format!("Your request {t} was {o}"), format!("{who} {o} your request.")),
            (None, false) => (format!("Your request {t}"), format!("{who} decided your request.")),
        },
        MailEvent::Invitation => {
            ("You are invited to the support desk".into(), "An account is waiting for you: set your password.".into())
        }
        MailEvent::PasswordReset => ("Reset your password".into(), "Set a new password with the link below.".into()),
        MailEvent::LoginUnlock => (
            "Log in to your locked account".into(),
            "Your account is locked after failed logins. The link below lets you log in with your password.".into(),
        ),
    }
}

/// The email for an outbox row: plain text and HTML, from the templates.
pub fn compose(mail: &Mail, config: &MailConfig) -> Result<Message, String> {
    let base = config.public_url.trim_end_matches('/');
    let link = format!("{base}{}", mail.link_path);
    let settings = if mail.recipient_kind == AccountKind::User {
        format!("{base}/admin/profile")
    } else {
        format!("{base}/affiliate/profile")
    };
    let (subject, headline) = words(mail);
    let (text, html) = match mail.event {
        event @ (MailEvent::Invitation | MailEvent::PasswordReset | MailEvent::LoginUnlock) => {
            let action = match event {
                MailEvent::Invitation => "Set your password",
                MailEvent::LoginUnlock => "Log in",
                _ => "Set a new password",
            };
            let text = AccountText { mail, headline: headline.clone(), action, link: link.clone() }
                .render()
                .map_err(|e| e.to_string())?;
            let html =
                AccountHtml { mail, subject: &subject, headline, action, link }.render().map_err(|e| e.to_string())?;
            (text, html)
        }
        _ => ticket_parts(mail, &subject, headline, link, settings)?,
    };
    let host = url::Url::parse(base).ok().and_then(|u| u.host_str().map(str::to_string)).unwrap_or("affdesk".into());
    let to: Mailbox = format!("{} <{}>", mail.recipient_name.replace(['<', '>', '"'], ""), mail.recipient_email)
        .parse()
        .or_else(|_| mail.recipient_email.parse())
        .map_err(|e| format!("bad recipient {}: {e}", mail.recipient_email))?;
    let from: Mailbox = config.from.parse().map_err(|e| format!("bad sender {}: {e}", config.from))?;
    Message::builder()
        .from(from)
        .to(to)
        .subject(subject)
        .message_id(Some(mail.message_id(&host)))
        .multipart(MultiPart::alternative_plain_html(text, html))
        .map_err(|e| e.to_string())
}

/// A ticket email's plain text and HTML.
fn ticket_parts(
    mail: &Mail,
    subject: &str,
    headline: String,
    link: String,
    settings: String,
) -> Result<(String, String), String> {
    let text = TextPart { mail, headline: headline.clone(), link: link.clone(), settings: settings.clone() }
        .render()
        .map_err(|e| e.to_string())?;
    let html = HtmlPart { mail, subject, headline, link, settings }.render().map_err(|e| e.to_string())?;
    Ok((text, html))
}

/// The transport for an `--smtp-url`; `tls=starttls` is read as lettre's `tls=required`.
pub fn transport(url: &str) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let url = url.replace("tls=starttls", "tls=required");
    AsyncSmtpTransport::<Tokio1Executor>::from_url(&url)
        .map(|b| b.timeout(Some(Duration::from_secs(30))).build())
        .map_err(|e| format!("bad --smtp-url: {e}"))
}

/// Starts the sender on the running system. Without an SMTP server it says once
/// that email is off; the outbox still fills and admins see it.
pub fn spawn_sender(pool: DbPool, config: MailConfig) {
    if actix_web::rt::System::try_current().is_none() {
        return;
    }
    let Some(url) = config.smtp_url.clone() else {
        log::info!("email is off (no --smtp-url): notifications wait in the outbox");
        return;
    };
    let smtp = match transport(&url) {
        Ok(t) => t,
        Err(e) => {
            log::error!("{e}; email is off");
            return;
        }
    };
    actix_web::rt::spawn(async move {
        loop {
            match send_due(&pool, &smtp, &config).await {
                Ok(n) if n as i64 == BATCH => continue,
                Ok(_) => {}
                Err(e) => log::warn!("outbox: {e}"),
            }
            actix_web::rt::time::sleep(config.poll).await;
        }
    });
}

/// One round: claims due emails, sends them, marks each. Returns how many it took.
pub async fn send_due(
    pool: &DbPool,
    smtp: &AsyncSmtpTransport<Tokio1Executor>,
    config: &MailConfig,
) -> Result<usize, String> {
    let (p, lease) = (pool.clone(), config.lease);
    let claimed = actix_web::web::block(move || {
        let mut conn = p.get().map_err(|e| e.to_string())?;
        let lease = chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::minutes(2));
        outbox::claim_due(&mut conn, now(), lease, BATCH).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())??;
    let n = claimed.len();
    for mail in claimed {
        let outcome = match compose(&mail, config) {
            Ok(message) => smtp.send(message).await.map(|_| ()).map_err(|e| (e.to_string(), e.is_permanent())),
            Err(e) => Err((e, true)),
        };
        let (p, config) = (pool.clone(), config.clone());
        actix_web::web::block(move || {
            let mut conn = p.get().map_err(|e| e.to_string())?;
            match outcome {
                Ok(()) => outbox::mark_sent(&mut conn, mail.id, now()),
                Err((error, permanent)) => {
                    log::warn!("email {} to {} not sent: {error}", mail.id, mail.recipient_email);
                    let pause = chrono::Duration::from_std(config.retry_after).unwrap_or(chrono::Duration::seconds(30));
                    outbox::mark_attempt_failed(&mut conn, &mail, &error, permanent, config.attempts, pause, now())
                }
            }
            .map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| e.to_string())??;
    }
    Ok(n)
}
