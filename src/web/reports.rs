//! The Reports page: how fast the team answers and decides, per manager and per
//! type, and the backlog day by day; the same numbers as CSV. Admins (and who sees
//! every queue) see the whole team; a manager sees their own tickets.

use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{Duration, NaiveDate};
use serde::Deserialize;

use super::auth::StaffSession;
use super::dates::RangeForm;
use super::{AppState, PageCtx};
use crate::domain::business_hours::brief;
use crate::domain::days::{DayRange, MAX_DAYS};
use crate::domain::reports::{self, Report, Times};
use crate::error::AppResult;
use crate::http::paths;

#[derive(Deserialize)]
pub struct ReportQuery {
    from: Option<String>,
    to: Option<String>,
}

fn range(q: &ReportQuery) -> RangeForm {
    let too_long = format!("A report covers at most {MAX_DAYS} days: move From or To closer.");
    RangeForm::read(q.from.as_deref(), q.to.as_deref(), crate::domain::now().date(), &too_long)
}

#[derive(Template)]
#[template(path = "admin/reports.html")]
struct ReportsPage {
    ctx: PageCtx,
    from: String,
    to: String,
    errors: Vec<(&'static str, String)>,
    report: Option<Report>,
    chart: Option<Backlog>,
    targets: String,
    csv_url: String,
}

impl ReportsPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|(f, _)| *f == field).map(|(_, m)| m.as_str())
    }
}

/// For the template: a working time, or a dash when there is none.
pub fn time(d: &Option<Duration>) -> String {
    d.map(brief).unwrap_or_else(|| "—".into())
}

/// The backlog as an SVG line, drawn on the server.
struct Backlog {
    width: f64,
    height: f64,
    left: f64,
    bottom: f64,
    line: String,
    max: i64,
    labels: Vec<(f64, String)>,
}

impl Backlog {
    fn draw(days: &[(NaiveDate, i64)]) -> Option<Backlog> {
        if days.is_empty() {
            return None;
        }
        let (width, height, left, top, bottom) = (720.0, 200.0, 48.0, 12.0, 170.0);
        let max = days.iter().map(|d| d.1).max().unwrap_or(0).max(1);
        let step = (width - left - 12.0) / (days.len().max(2) - 1) as f64;
        let y = |n: i64| bottom - (bottom - top) * n as f64 / max as f64;
        let line = days
            .iter()
            .enumerate()
            .map(|(i, (_, n))| format!("{:.1},{:.1}", left + step * i as f64, y(*n)))
            .collect::<Vec<_>>()
            .join(" ");
        let every = (days.len() / 6).max(1);
        let labels = days
            .iter()
            .enumerate()
            .filter(|(i, _)| i % every == 0)
            .map(|(i, (d, _))| (left + step * i as f64, d.format("%d.%m").to_string()))
            .collect();
        Some(Backlog { width, height, left, bottom, line, max, labels })
    }
}

async fn load(state: &AppState, staff: &StaffSession, r: &RangeForm) -> AppResult<Option<Report>> {
    let Some(DayRange { from, to }) = r.range else { return Ok(None) };
    let (actor, hours) = (staff.actor(), state.config.sla.hours.clone());
    let report =
        state.db(move |conn| Ok(reports::build(conn, &actor, &hours, from, to, crate::domain::now())?)).await?;
    Ok(Some(report))
}

/// `GET /admin/reports?from=YYYY-MM-DD&to=YYYY-MM-DD`
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: StaffSession,
    query: web::Query<ReportQuery>,
) -> AppResult<HttpResponse> {
    let r = range(&query);
    let report = load(&state, &staff, &r).await?;
    let chart = report.as_ref().and_then(|r| Backlog::draw(&r.backlog));
    let page = ReportsPage {
        ctx: staff.page("reports"),
        csv_url: paths::reports_export(&r.from_text, &r.to_text),
        from: r.from_text,
        to: r.to_text,
        errors: r.errors,
        report,
        chart,
        targets: state.config.sla.describe(),
    };
    Ok(super::page(&req, page))
}

/// `GET /admin/reports/export?from=&to=`: the page's numbers as CSV, times in hours
/// of working time. A bad range is a 400 with the reason.
pub async fn export(
    state: web::Data<AppState>,
    staff: StaffSession,
    query: web::Query<ReportQuery>,
) -> AppResult<HttpResponse> {
    let r = range(&query);
    if let Some((_, why)) = r.errors.first() {
        return Err(crate::error::AppError::bad_request(why.clone()));
    }
    let Some(report) = load(&state, &staff, &r).await? else {
        return Err(crate::error::AppError::bad_request("Choose a range of days."));
    };
    let hours = |d: &Option<Duration>| d.map(|d| format!("{:.2}", d.num_minutes() as f64 / 60.0)).unwrap_or_default();
    let mut out = String::new();
    let mut line = |cells: &[String]| {
        for (i, c) in cells.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            crate::http::export::push_cell(&mut out, c);
        }
        out.push_str("\r\n");
    };
    line(
        &[
            "section",
            "group",
            "opened",
            "answered",
            "first_answer_median_h",
            "first_answer_p90_h",
            "resolved",
            "resolution_median_h",
            "resolution_p90_h",
        ]
        .map(String::from),
    );
    let mut times = |section: &str, t: &Times| {
        line(&[
            section.to_string(),
            t.label.clone(),
            t.opened.to_string(),
            t.answered.to_string(),
            hours(&t.first_answer_median),
            hours(&t.first_answer_p90),
            t.resolved.to_string(),
            hours(&t.resolution_median),
            hours(&t.resolution_p90),
        ])
    };
    times("total", &report.total);
    for t in &report.by_manager {
        times("manager", t);
    }
    for t in &report.by_type {
        times("type", t);
    }
    let q = &report.requests;
    line(&[
        "requests".into(),
        format!("approved {} of {} decided", q.approved, q.decided),
        q.opened.to_string(),
        q.decided.to_string(),
        hours(&q.turnaround_median),
        hours(&q.turnaround_p90),
        String::new(),
        String::new(),
        String::new(),
    ]);
    for (day, n) in &report.backlog {
        line(&[
            "backlog".into(),
            day.to_string(),
            n.to_string(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ]);
    }
    let name = format!("affdesk-report-{}-{}.csv", r.from_text, r.to_text);
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename(name)],
        })
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(out))
}
