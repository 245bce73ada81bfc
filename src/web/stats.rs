//! `GET /admin/stats/daily`: an affiliate's daily statistics, a chart drawn on the
//! server as SVG, and a table with totals.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use serde::Deserialize;

use super::auth::StaffSession;
use super::dates::RangeForm;
use super::{AppState, PageCtx};
use crate::domain::affiliates::{self, Affiliate};
use crate::domain::catalogue::money;
use crate::domain::days::{DayRange, MAX_DAYS};
use crate::domain::stats::{self, DayStats};
use crate::error::AppResult;

#[derive(Deserialize)]
pub struct StatsQuery {
    affiliate_id: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/stats.html")]
struct StatsPage {
    ctx: PageCtx,
    affiliate_id: String,
    from: String,
    to: String,
    errors: Vec<(&'static str, String)>,
    /// From and To do not make a range this page shows: nothing is shown.
    range_error: bool,
    affiliate: Option<Affiliate>,
    days: Vec<DayStats>,
    totals: DayStats,
    chart: Option<Chart>,
    currency: String,
}

impl StatsPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|(f, _)| *f == field).map(|(_, m)| m.as_str())
    }
}

/// For the template: money and rates as text.
/// Counts with their thousands grouped, as money is: "141,713".
pub fn count(v: &i64) -> String {
    crate::domain::group_digits(*v)
}
pub fn cents(v: &i64) -> String {
    money(*v)
}
pub fn percent(v: f64) -> String {
    format!("{v:.2}%")
}
pub fn epc(v: f64) -> String {
    format!("{:.4}", v / 100.0)
}

pub async fn daily(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: StaffSession,
    query: web::Query<StatsQuery>,
) -> AppResult<HttpResponse> {
    let q = query.into_inner();
    let today = crate::domain::now().date();
    let too_long = format!("Show at most {MAX_DAYS} days at once: move From or To closer.");
    let form = RangeForm::read(q.from.as_deref(), q.to.as_deref(), today, &too_long);
    let (range, from_text, to_text, mut errors) = (form.range, form.from_text, form.to_text, form.errors);
    let range_ok = range.is_some();
    let raw_affiliate = q.affiliate_id.unwrap_or_default().trim().to_string();
    let actor = staff.actor();
    let affiliate_id = if raw_affiliate.is_empty() {
        None
    } else {
        let (actor, text) = (actor.clone(), raw_affiliate.clone());
        match state.db(move |conn| Ok(affiliates::resolve(conn, &actor, &text)?)).await? {
            Ok(id) => Some(id),
            Err(why) => {
                errors.push(("affiliate_id", why));
                None
            }
        }
    };
    let (affiliate, days) = match affiliate_id {
        None => (None, Vec::new()),
        Some(id) => {
            // Without a range the affiliate is still named, over a single day.
            let DayRange { from, to } = range.unwrap_or(DayRange { from: today, to: today });
            let found = state.db(move |conn| Ok(stats::for_affiliate(conn, &actor, id, from, to)?)).await?;
            match found {
                Some((a, _)) if !range_ok => (Some(a), Vec::new()),
                Some((a, days)) => (Some(a), days),
                None => {
                    errors.push(("affiliate_id", format!("There is no affiliate with ID {id} among yours.")));
                    (None, Vec::new())
                }
            }
        }
    };
    let totals = stats::totals(&days);
    let chart = (!days.is_empty()).then(|| Chart::draw(&days));
    let page = StatsPage {
        ctx: staff.page("stats"),
        affiliate_id: raw_affiliate,
        from: from_text,
        to: to_text,
        errors,
        range_error: !range_ok,
        affiliate,
        days,
        totals,
        chart,
        currency: state.config.currency.clone(),
    };
    Ok(super::page(&req, page))
}

/// Clicks as bars (left axis) and conversions as a line (right axis), in SVG
/// coordinates computed here so the page needs no script.
pub struct Chart {
    pub width: i64,
    pub height: i64,
    pub bars: Vec<(f64, f64, f64, f64, String)>,
    pub line: String,
    pub left_ticks: Vec<(f64, String)>,
    pub right_ticks: Vec<(f64, String)>,
    pub x_labels: Vec<(f64, String)>,
    pub plot_left: f64,
    pub plot_right: f64,
    pub plot_top: f64,
    pub plot_bottom: f64,
}

impl Chart {
    fn draw(days: &[DayStats]) -> Chart {
        let (width, height) = (900i64, 260i64);
        let (left, right, top, bottom) = (60.0, width as f64 - 60.0, 15.0, height as f64 - 40.0);
        let max_clicks = nice_max(days.iter().map(|d| d.clicks).max().unwrap_or(0));
        let max_conv = nice_max(days.iter().map(|d| d.conversions).max().unwrap_or(0));
        let n = days.len().max(1) as f64;
        let step = (right - left) / n;
        let y = |v: i64, max: i64| bottom - (v as f64 / max as f64) * (bottom - top);
        let bars = days
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let x = left + i as f64 * step + step * 0.15;
                let top_y = y(d.clicks, max_clicks);
                (
                    x,
                    top_y,
                    step * 0.7,
                    bottom - top_y,
                    format!("{}: {} clicks, {} conversions", d.day, d.clicks, d.conversions),
                )
            })
            .collect();
        let line = days
            .iter()
            .enumerate()
            .map(|(i, d)| format!("{:.1},{:.1}", left + (i as f64 + 0.5) * step, y(d.conversions, max_conv)))
            .collect::<Vec<_>>()
            .join(" ");
        let ticks =
            |max: i64| (0..=4).map(|k| (bottom - k as f64 / 4.0 * (bottom - top), (max * k / 4).to_string())).collect();
        let every = (days.len() / 8).max(1);
        let x_labels = days
            .iter()
            .enumerate()
            .filter(|(i, _)| i % every == 0)
            .map(|(i, d)| (left + (i as f64 + 0.5) * step, d.day.format("%m-%d").to_string()))
            .collect();
        Chart {
            width,
            height,
            bars,
            line,
            left_ticks: ticks(max_clicks),
            right_ticks: ticks(max_conv),
            x_labels,
            plot_left: left,
            plot_right: right,
            plot_top: top,
            plot_bottom: bottom,
        }
    }
}

/// A round axis maximum at or above `v` (at least 4, so ticks are whole numbers).
fn nice_max(v: i64) -> i64 {
    let v = v.max(4);
    let magnitude = 10i64.pow((v as f64).log10().floor() as u32);
    let mut m = magnitude;
    for f in [1, 2, 4, 5, 10] {
        m = f * magnitude;
        if m >= v {
            break;
        }
    }
    (m + 3) / 4 * 4
}
