//! CSV imports of a network's affiliates, offers, Smartlinks and access, matched by
//! their external id (the Affise id, kept beside affdesk's own). A file is read a
//! record at a time and applied a page at a time, all in one transaction: the
//! preview is the same run rolled back, and nothing is kept unless every line is
//! right. Running a file again changes nothing.

use std::collections::HashMap;
use std::io::Read;

use diesel::prelude::*;

use super::directory_sync::{self as sync, Applied, ManagerKey, OfferRecord, PartnerRecord, SmartlinkRecord};
use super::states::AuditAction;
use super::states::{AccessGrant, AccessSource, AffiliateStatus, OfferStatus, Privacy};
use super::{Actor, audit, now};
use crate::db::schema::{affiliates, offer_access, offers, smartlink_access, smartlinks};
use crate::db::{AnyConnection, write_transaction};
use crate::error::{DomainError, DomainResult};

/// Records applied per page (one round of lookups each).
const PAGE: usize = 500;
/// Line errors kept for the report; the count goes on.
const ERRORS_SHOWN: usize = 100;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportKind {
    Affiliates,
    Offers,
    Smartlinks,
    Access,
}

impl ImportKind {
    pub const ALL: [ImportKind; 4] =
        [ImportKind::Affiliates, ImportKind::Offers, ImportKind::Smartlinks, ImportKind::Access];

    pub fn parse(word: &str) -> Option<ImportKind> {
        ImportKind::ALL.into_iter().find(|k| k.word() == word.trim().to_lowercase())
    }
    pub fn word(self) -> &'static str {
        match self {
            ImportKind::Affiliates => "affiliates",
            ImportKind::Offers => "offers",
            ImportKind::Smartlinks => "smartlinks",
            ImportKind::Access => "access",
        }
    }
    /// The columns of the header; the first ones must be there, the rest may be.
    pub fn columns(self) -> (&'static [&'static str], &'static [&'static str]) {
        match self {
            ImportKind::Affiliates => (&["external_id", "email"], &["name", "login", "status", "manager_email"]),
            ImportKind::Offers => {
                (&["external_id", "title"], &["status", "privacy", "payout", "currency", "preview_url"])
            }
            ImportKind::Smartlinks => (&["external_id", "name"], &["privacy"]),
            ImportKind::Access => {
                (&["affiliate_external_id"], &["offer_external_id", "smartlink_external_id", "access"])
            }
        }
    }
    /// The header line a file of this kind starts with.
    pub fn header(self) -> String {
        let (required, optional) = self.columns();
        required.iter().chain(optional).copied().collect::<Vec<_>>().join(",")
    }
}

/// A line of the file that is wrong, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineError {
    /// The line in the file, counting the header as line 1.
    pub line: u64,
    pub message: String,
}

/// What an import did, or would do.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Records read (lines after the header).
    pub records: u64,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// The first lines in error.
    pub errors: Vec<LineError>,
    pub error_count: u64,
    /// Whether the changes were kept.
    pub applied: bool,
}

impl ImportReport {
    fn error(&mut self, line: u64, message: impl Into<String>) {
        self.error_count += 1;
        if self.errors.len() < ERRORS_SHOWN {
            self.errors.push(LineError { line, message: message.into() });
        }
    }
    fn add(&mut self, applied: Applied, lines: &[u64]) {
        self.created += applied.created;
        self.updated += applied.updated;
        self.unchanged += applied.unchanged;
        for s in applied.skipped {
            self.error(lines.get(s.at).copied().unwrap_or(0), s.why);
        }
    }
    pub fn summary(&self) -> String {
        format!(
            "{} records: {} new, {} updated, {} unchanged, {} lines in error",
            self.records, self.created, self.updated, self.unchanged, self.error_count
        )
    }
}

/// A parsed line, ready to apply.
enum Row {
    Affiliate(PartnerRecord),
    Offer(OfferRecord),
    Smartlink(SmartlinkRecord),
    Access(AccessRecord),
}

#[derive(Clone, Debug, PartialEq)]
struct AccessRecord {
    target: Target,
    affiliate: String,
    grant: AccessGrant,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Target {
    Offer(String),
    Smartlink(String),
}

/// How a run ends inside its transaction: rolled back on purpose, or failed.
enum Stop {
    RolledBack(ImportReport),
    Failed(DomainError),
}

impl From<diesel::result::Error> for Stop {
    fn from(e: diesel::result::Error) -> Stop {
        Stop::Failed(e.into())
    }
}

impl From<DomainError> for Stop {
    fn from(e: DomainError) -> Stop {
        Stop::Failed(e)
    }
}

/// Use case: import a CSV file of `kind` (admins). With `apply` false, or when any
/// line is wrong, the run is rolled back and the report says what it would do.
pub fn run(
    conn: &mut AnyConnection,
    actor: &Actor,
    kind: ImportKind,
    input: impl Read,
    apply: bool,
) -> DomainResult<ImportReport> {
    let admin = actor.as_staff().map(|s| s.is_admin).unwrap_or_else(|_| actor.is_system());
    if !admin {
        return Err(DomainError::not_allowed("Only admins import."));
    }
    let mut reader = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(input);
    let mut report = ImportReport::default();
    let columns = match header_columns(&mut reader, kind) {
        Ok(c) => c,
        Err(message) => {
            report.error(1, message);
            return Ok(report);
        }
    };
    let outcome = write_transaction(conn, |conn| {
        let mut page: Vec<(u64, Row)> = Vec::with_capacity(PAGE);
        let mut seen: HashMap<String, u64> = HashMap::new();
        let mut record = csv::StringRecord::new();
        loop {
            let line = reader.position().line() + 1;
            match reader.read_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => {
                    report.records += 1;
                    report.error(e.position().map(|p| p.line()).unwrap_or(line), csv_problem(&e));
                    if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                        break;
                    }
                    continue;
                }
            }
            let line = record.position().map(|p| p.line()).unwrap_or(line);
            if record.iter().all(str::is_empty) {
                continue;
            }
            report.records += 1;
            match parse_row(kind, &columns, &record) {
                Ok((key, row)) => match seen.get(&key) {
                    Some(first) => report.error(line, format!("{key} is also on line {first}")),
                    None => {
                        seen.insert(key, line);
                        page.push((line, row));
                    }
                },
                Err(message) => report.error(line, message),
            }
            if page.len() >= PAGE {
                apply_page(conn, &mut page, &mut report)?;
            }
        }
        apply_page(conn, &mut page, &mut report)?;
        if !apply || report.error_count > 0 {
            return Err(Stop::RolledBack(report.clone()));
        }
        report.applied = true;
        audit::record(conn, actor, AuditAction::Import, None, &format!("{}: {}", kind.word(), report.summary()))?;
        Ok(report.clone())
    });
    match outcome {
        Ok(mut r) | Err(Stop::RolledBack(mut r)) => {
            r.errors.sort_by_key(|e| e.line);
            Ok(r)
        }
        Err(Stop::Failed(e)) => Err(e),
    }
}

fn csv_problem(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "the line is not UTF-8 text (save the file as CSV UTF-8)".into(),
        csv::ErrorKind::Io(_) => "the file could not be read to the end".into(),
        _ => format!("the line is not CSV: {e}"),
    }
}

/// Where each known column is; a missing required one is named.
fn header_columns<R: Read>(reader: &mut csv::Reader<R>, kind: ImportKind) -> Result<HashMap<String, usize>, String> {
    let header = reader.headers().map_err(|e| format!("the header is not CSV: {e}"))?;
    let columns: HashMap<String, usize> =
        header.iter().enumerate().map(|(i, h)| (h.trim_start_matches('\u{feff}').to_lowercase(), i)).collect();
    let (required, optional) = kind.columns();
    let missing: Vec<&str> = required.iter().filter(|c| !columns.contains_key(**c)).copied().collect();
    if !missing.is_empty() {
        return Err(format!(
            "the header has no {} column; a {} file starts with: {}",
            missing.join(", "),
            kind.word(),
            kind.header()
        ));
    }
    if let Some(unknown) = columns.keys().find(|c| !required.contains(&c.as_str()) && !optional.contains(&c.as_str())) {
        return Err(format!("the header names an unknown column {unknown:?}; the columns are: {}", kind.header()));
    }
    if kind == ImportKind::Access
        && !columns.contains_key("offer_external_id")
        && !columns.contains_key("smartlink_external_id")
    {
        return Err("the header needs an offer_external_id or a smartlink_external_id column".into());
    }
    Ok(columns)
}

/// An external id: what Affise uses (24 hex digits), or any short id of letters,
/// digits, '-' and '_' a network keeps elsewhere.
fn external_id(raw: &str, column: &str) -> Result<String, String> {
    if raw.is_empty() {
        return Err(format!("{column} is empty"));
    }
    if raw.len() > 64 || !raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err(format!("{column} {raw:?} is not an id (letters, digits, - and _, at most 64)"));
    }
    Ok(raw.to_string())
}

fn parse_row(
    kind: ImportKind,
    columns: &HashMap<String, usize>,
    record: &csv::StringRecord,
) -> Result<(String, Row), String> {
    let get = |name: &str| columns.get(name).and_then(|i| record.get(*i)).unwrap_or("");
    match kind {
        ImportKind::Affiliates => {
            let affise_id = external_id(get("external_id"), "external_id")?;
            let email = super::users::normalize_email(get("email"));
            if !super::users::looks_like_email(&email) {
                return Err(format!("email {:?} is not an email address", get("email")));
            }
            let status = match get("status") {
                "" => AffiliateStatus::Active,
                w => sync::partner_status_from_affise(w)
                    .ok_or_else(|| format!("status {w:?} is not one of active, not_active, banned"))?,
            };
            let manager = match get("manager_email") {
                "" => None,
                m if super::users::looks_like_email(&super::users::normalize_email(m)) => {
                    Some(ManagerKey::Email(m.to_string()))
                }
                m => return Err(format!("manager_email {m:?} is not an email address")),
            };
            let record = PartnerRecord {
                email,
                login: get("login").to_string(),
                name: get("name").to_string(),
                status,
                manager,
                affise_id: affise_id.clone(),
            };
            Ok((format!("affiliate {affise_id}"), Row::Affiliate(record)))
        }
        ImportKind::Offers => {
            let affise_id = external_id(get("external_id"), "external_id")?;
            let title = get("title");
            if title.is_empty() || title.chars().count() > 200 {
                return Err("title must be 1 to 200 characters".into());
            }
            let status = match get("status") {
                "" => OfferStatus::Active,
                w => sync::offer_status_from_affise(w)
                    .ok_or_else(|| format!("status {w:?} is not one of active, paused, disabled"))?,
            };
            let payout = match get("payout") {
                "" => 0,
                p => super::catalogue_admin::parse_cents(p)
                    .ok_or_else(|| format!("payout {p:?} is not an amount like 12.50"))?,
            };
            let currency = match get("currency") {
                "" => "USD".to_string(),
                c if c.len() == 3 && c.bytes().all(|b| b.is_ascii_alphabetic()) => c.to_ascii_uppercase(),
                c => return Err(format!("currency {c:?} is not a three-letter code")),
            };
            let preview_url = get("preview_url");
            if !(preview_url.is_empty() || preview_url.starts_with("https://") || preview_url.starts_with("http://")) {
                return Err(format!("preview_url {preview_url:?} does not start with https://"));
            }
            let record = OfferRecord {
                affise_id: affise_id.clone(),
                title: title.to_string(),
                status,
                privacy: privacy(get("privacy"), Privacy::Public)?,
                payout,
                currency,
                preview_url: preview_url.to_string(),
            };
            Ok((format!("offer {affise_id}"), Row::Offer(record)))
        }
        ImportKind::Smartlinks => {
            let affise_id = external_id(get("external_id"), "external_id")?;
            let name = get("name");
            if name.is_empty() || name.chars().count() > 200 {
                return Err("name must be 1 to 200 characters".into());
            }
            let record = SmartlinkRecord {
                affise_id: affise_id.clone(),
                name: name.to_string(),
                privacy: Some(privacy(get("privacy"), Privacy::Premoderated)?),
            };
            Ok((format!("Smartlink {affise_id}"), Row::Smartlink(record)))
        }
        ImportKind::Access => {
            let affiliate = external_id(get("affiliate_external_id"), "affiliate_external_id")?;
            let target = match (get("offer_external_id"), get("smartlink_external_id")) {
                (o, "") if !o.is_empty() => Target::Offer(external_id(o, "offer_external_id")?),
                ("", s) if !s.is_empty() => Target::Smartlink(external_id(s, "smartlink_external_id")?),
                ("", "") => return Err("name an offer_external_id or a smartlink_external_id".into()),
                _ => return Err("name an offer_external_id or a smartlink_external_id, not both".into()),
            };
            let grant = match get("access").to_lowercase().as_str() {
                "" | "enabled" | "yes" | "1" => AccessGrant::Enabled,
                "disabled" | "no" | "0" => AccessGrant::Disabled,
                w => return Err(format!("access {w:?} is not enabled or disabled")),
            };
            let key = match &target {
                Target::Offer(o) => format!("access of affiliate {affiliate} to offer {o}"),
                Target::Smartlink(s) => format!("access of affiliate {affiliate} to Smartlink {s}"),
            };
            Ok((key, Row::Access(AccessRecord { target, affiliate, grant })))
        }
    }
}

fn privacy(word: &str, default: Privacy) -> Result<Privacy, String> {
    match word {
        "" => Ok(default),
        w => sync::privacy_from_affise(w).ok_or_else(|| format!("privacy {w:?} is not public, protected or private")),
    }
}

/// Applies a page of parsed lines (all of one kind) and empties it.
fn apply_page(conn: &mut AnyConnection, page: &mut Vec<(u64, Row)>, report: &mut ImportReport) -> Result<(), Stop> {
    if page.is_empty() {
        return Ok(());
    }
    let lines: Vec<u64> = page.iter().map(|(l, _)| *l).collect();
    let rows: Vec<Row> = std::mem::take(page).into_iter().map(|(_, r)| r).collect();
    let applied = match rows.first() {
        Some(Row::Affiliate(_)) => sync::apply_partners(
            conn,
            &collect(rows, |r| match r {
                Row::Affiliate(a) => Some(a),
                _ => None,
            }),
        )?,
        Some(Row::Offer(_)) => sync::apply_offers(
            conn,
            &collect(rows, |r| match r {
                Row::Offer(o) => Some(o),
                _ => None,
            }),
        )?,
        Some(Row::Smartlink(_)) => sync::apply_smartlinks(
            conn,
            &collect(rows, |r| match r {
                Row::Smartlink(s) => Some(s),
                _ => None,
            }),
        )?,
        Some(Row::Access(_)) => apply_access(
            conn,
            &collect(rows, |r| match r {
                Row::Access(a) => Some(a),
                _ => None,
            }),
        )?,
        None => Applied::default(),
    };
    report.add(applied, &lines);
    Ok(())
}

fn collect<T>(rows: Vec<Row>, pick: impl Fn(Row) -> Option<T>) -> Vec<T> {
    rows.into_iter().filter_map(pick).collect()
}

/// Access rows: the affiliate and the offer or Smartlink found by external id (one
/// lookup per page), then each row set as the file says, recorded as from an import.
fn apply_access(conn: &mut AnyConnection, records: &[AccessRecord]) -> DomainResult<Applied> {
    let mut applied = Applied::default();
    let partner_ids: Vec<&str> = records.iter().map(|r| r.affiliate.as_str()).collect();
    let partners: HashMap<String, i64> = affiliates::table
        .filter(affiliates::affise_id.eq_any(&partner_ids))
        .select((affiliates::affise_id.assume_not_null(), affiliates::id))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect();
    let offer_ids: Vec<&str> = records
        .iter()
        .filter_map(|r| match &r.target {
            Target::Offer(o) => Some(o.as_str()),
            _ => None,
        })
        .collect();
    let offer_map: HashMap<String, i64> = offers::table
        .filter(offers::affise_id.eq_any(&offer_ids))
        .select((offers::affise_id.assume_not_null(), offers::id))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect();
    let smartlink_ids: Vec<&str> = records
        .iter()
        .filter_map(|r| match &r.target {
            Target::Smartlink(s) => Some(s.as_str()),
            _ => None,
        })
        .collect();
    let smartlink_map: HashMap<String, i64> = smartlinks::table
        .filter(smartlinks::affise_id.eq_any(&smartlink_ids))
        .select((smartlinks::affise_id.assume_not_null(), smartlinks::id))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect();
    let t = now();
    for (at, r) in records.iter().enumerate() {
        let Some(affiliate) = partners.get(&r.affiliate).copied() else {
            applied.skipped.push(sync::Skipped {
                at,
                why: format!("no affiliate has the external id {} (import affiliates first)", r.affiliate),
            });
            continue;
        };
        macro_rules! upsert {
            ($table:ident, $column:ident, $target:expr) => {{
                let current: Option<(AccessGrant, AccessSource)> = $table::table
                    .find(($target, affiliate))
                    .select(($table::state, $table::source))
                    .get_result(conn)
                    .optional()?;
                match current {
                    Some((grant, _)) if grant == r.grant => applied.unchanged += 1,
                    Some(_) => {
                        diesel::update($table::table.find(($target, affiliate)))
                            .set((
                                $table::state.eq(r.grant),
                                $table::source.eq(AccessSource::Import),
                                $table::updated_at.eq(t),
                                $table::updated_by.eq(None::<i64>),
                            ))
                            .execute(conn)?;
                        applied.updated += 1;
                    }
                    None => {
                        diesel::insert_into($table::table)
                            .values((
                                $table::$column.eq($target),
                                $table::affiliate_id.eq(affiliate),
                                $table::state.eq(r.grant),
                                $table::source.eq(AccessSource::Import),
                                $table::updated_at.eq(t),
                                $table::updated_by.eq(None::<i64>),
                            ))
                            .execute(conn)?;
                        applied.created += 1;
                    }
                }
            }};
        }
        match &r.target {
            Target::Offer(o) => match offer_map.get(o).copied() {
                Some(offer) => upsert!(offer_access, offer_id, offer),
                None => applied
                    .skipped
                    .push(sync::Skipped { at, why: format!("no offer has the external id {o} (import offers first)") }),
            },
            Target::Smartlink(s) => match smartlink_map.get(s).copied() {
                Some(smartlink) => upsert!(smartlink_access, smartlink_id, smartlink),
                None => applied.skipped.push(sync::Skipped {
                    at,
                    why: format!("no Smartlink has the external id {s} (import Smartlinks first)"),
                }),
            },
        }
    }
    Ok(applied)
}
