//! The People page (admins): the desk's admins and managers, inviting someone by
//! email, disabling and enabling, and handing a manager's affiliates and tickets
//! to another in one step.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::auth::StaffSession;
use super::{AppState, FlashKind, PageCtx, html, path_id, redirect, set_flash};
use crate::domain::accounts::AccountKind;
use crate::domain::directory::{self, NewPerson, Person};
use crate::domain::ticket_filter::FieldError;
use crate::error::{AppError, AppResult};

#[derive(Template)]
#[template(path = "admin/people.html")]
struct PeoplePage {
    ctx: PageCtx,
    people: Vec<Person>,
    covers: Vec<crate::domain::covers::Cover>,
    form: NewPerson,
    errors: Vec<FieldError>,
}

impl PeoplePage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|e| e.field == field).map(|e| e.message.as_str())
    }
}

async fn page(
    state: &web::Data<AppState>,
    staff: &StaffSession,
    form: NewPerson,
    errors: Vec<FieldError>,
) -> AppResult<PeoplePage> {
    let actor = staff.actor();
    let (people, covers) =
        state.db(move |conn| Ok((directory::people(conn, &actor)?, crate::domain::covers::active(conn)?))).await?;
    Ok(PeoplePage { ctx: staff.page("people"), people, covers, form, errors })
}

/// `GET /admin/people`.
pub async fn list(req: HttpRequest, state: web::Data<AppState>, staff: StaffSession) -> AppResult<HttpResponse> {
    let page = page(&state, &staff, NewPerson { role: "manager".into(), ..Default::default() }, Vec::new()).await?;
    Ok(super::page(&req, page))
}

#[derive(Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
}

/// `POST /admin/people`: invite someone; wrong fields come back next to the field.
pub async fn invite(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: StaffSession,
    form: web::Form<InviteForm>,
) -> AppResult<HttpResponse> {
    let f = form.into_inner();
    let person = NewPerson { email: f.email, name: f.name, role: f.role };
    let actor = staff.actor();
    let p = person.clone();
    match state.act(move |conn| Ok(directory::invite_person(conn, &actor, &p)?)).await? {
        Ok(_) => {
            set_flash(&staff.session, FlashKind::Success, format!("Invitation sent to {}.", person.email.trim()));
            Ok(redirect("/admin/people"))
        }
        Err(errors) => Ok(html(&req, page(&state, &staff, person, errors).await?, StatusCode::UNPROCESSABLE_ENTITY)),
    }
}

/// `POST /admin/people/{id}/invite`: send the invitation again (a new link).
pub async fn reinvite(
    state: web::Data<AppState>,
    staff: StaffSession,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let id = path_id(&path)?;
    let actor = staff.actor();
    state.db(move |conn| Ok(crate::domain::accounts::invite(conn, &actor, AccountKind::User, id)?)).await?;
    set_flash(&staff.session, FlashKind::Success, "A new invitation is on its way; earlier links no longer work.");
    Ok(redirect("/admin/people"))
}

async fn set_disabled(
    state: web::Data<AppState>,
    staff: StaffSession,
    path: web::Path<String>,
    disabled: bool,
) -> AppResult<HttpResponse> {
    let id = path_id(&path)?;
    let actor = staff.actor();
    let user = state.act(move |conn| Ok(directory::set_person_disabled(conn, &actor, id, disabled)?)).await?;
    let text = if disabled {
        format!("{} is disabled and logged out everywhere.", user.name)
    } else {
        format!("{} can log in again.", user.name)
    };
    set_flash(&staff.session, FlashKind::Success, text);
    Ok(redirect("/admin/people"))
}

pub async fn disable(
    state: web::Data<AppState>,
    staff: StaffSession,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    set_disabled(state, staff, path, true).await
}

pub async fn enable(
    state: web::Data<AppState>,
    staff: StaffSession,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    set_disabled(state, staff, path, false).await
}

/// `POST /admin/people/{id}/queues` with `all=1` or `all=0`.
pub async fn queues(
    state: web::Data<AppState>,
    staff: StaffSession,
    path: web::Path<String>,
    form: crate::http::query::Params,
) -> AppResult<HttpResponse> {
    let id = path_id(&path)?;
    let on = form.one("all") == Some("1");
    let actor = staff.actor();
    let user = state.db(move |conn| Ok(directory::set_sees_all(conn, &actor, id, on)?)).await?;
    let text = if on {
        format!("{} now sees every queue: All tickets, and their own under My tickets.", user.name)
    } else {
        format!("{} sees their own queue again.", user.name)
    };
    set_flash(&staff.session, FlashKind::Success, text);
    Ok(redirect("/admin/people"))
}

#[derive(Deserialize)]
pub struct HandOverForm {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    /// With a day: a holiday cover, given back on that day.
    #[serde(default)]
    until: String,
}

/// `POST /admin/people/hand-over`: every affiliate and ticket of one manager to
/// another, for good or (with `until`) until the day they are back.
pub async fn hand_over(
    state: web::Data<AppState>,
    staff: StaffSession,
    form: web::Form<HandOverForm>,
) -> AppResult<HttpResponse> {
    let (Ok(from), Ok(to)) = (form.from.trim().parse::<i64>(), form.to.trim().parse::<i64>()) else {
        set_flash(&staff.session, FlashKind::Error, "Choose both managers: whose work, and who takes it.");
        return Ok(redirect("/admin/people#hand-over"));
    };
    let until = form.until.trim();
    let actor = staff.actor();
    let done = if until.is_empty() {
        state
            .db(move |conn| Ok(directory::hand_over(conn, &actor, from, to)?))
            .await
            .map(|moved| format!("Handed over {} affiliates and {} tickets.", moved.affiliates, moved.tickets))
    } else {
        match super::dates::parse_day(until) {
            Err(why) => Err(AppError::BadRequest(format!("Until {why}"))),
            Ok(day) => state
                .db(move |conn| Ok(crate::domain::covers::start(conn, &actor, from, to, day)?))
                .await
                .map(|_| format!("Their affiliates are covered until {day}; on that day they go back.")),
        }
    };
    match done {
        Ok(text) => set_flash(&staff.session, FlashKind::Success, text),
        Err(AppError::BadRequest(message)) => set_flash(&staff.session, FlashKind::Error, message),
        Err(e) => return Err(e),
    }
    Ok(redirect("/admin/people"))
}

/// `POST /admin/people/covers/{id}/end`: a cover ends early; the affiliates go back now.
pub async fn end_cover(
    state: web::Data<AppState>,
    staff: StaffSession,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let id = path_id(&path)?;
    let actor = staff.actor();
    let back = state.db(move |conn| Ok(crate::domain::covers::end_now(conn, &actor, id)?)).await?;
    set_flash(&staff.session, FlashKind::Success, format!("The cover ended: {back} affiliates went back."));
    Ok(redirect("/admin/people"))
}
