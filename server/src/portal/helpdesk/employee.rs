//! What an operator does for a caller: look the employee up, verify the caller on the
//! employee's phone, then issue an access code or remove a lost phone (only for a verified
//! caller, unless the operator records why not), or clear a fraud block.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use serde::Deserialize;

use super::super::view::{self, Awaited, render};
use super::{Role, Staff, pages, require};
use crate::api;
use crate::error::ApiError;
use crate::notify::Notice;
use crate::state::AppState;
use crate::store::User;
use crate::util::{access_code_key, now, random_bytes, redact, sha256};

/// The shortest override reason accepted, characters: a word or two says nothing.
const MIN_REASON: usize = 10;
/// The longest override reason kept, characters.
const MAX_REASON: usize = 300;

/// The fields every employee form carries.
#[derive(Deserialize, Default)]
pub struct EmployeeForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    verification: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    device: String,
    #[serde(default)]
    minutes: String,
    #[serde(default)]
    one_use: Option<String>,
    #[serde(default)]
    id: String,
}

/// The employee named in a form, as the directory has them now.
async fn employee(state: &AppState, username: &str) -> Result<User, ApiError> {
    let username = crate::limits::fields::username(username)?;
    api::look_up(state, username)
        .await?
        .map(|found| found.user)
        .ok_or(ApiError::NotFound)
}

/// The employee's page, with `message` and what the operator may do now.
fn employee_page(
    state: &AppState,
    staff: &Staff,
    employee: &User,
    verification: &str,
    status: StatusCode,
    message: Option<String>,
) -> Response {
    let verified =
        api::caller_verified(state, &staff.user, employee, verification).unwrap_or(false);
    match state.store().devices_of(employee.id) {
        Ok(devices) => {
            let page = pages::employee(
                state,
                employee,
                &devices,
                verified.then_some(verification),
                message,
            );
            render(status, &page)
        }
        Err(e) => failed(staff, &e.into()),
    }
}

/// The console's home with the error's sentence.
fn failed(staff: &Staff, error: &ApiError) -> Response {
    let status = error.status_and_code().0;
    render(status, &pages::home(staff, Some(view::error_text(error))))
}

/// An operator acting for the employee a form names.
struct Acting {
    staff: Staff,
    employee: User,
}

impl Acting {
    /// The operator of this request and the form's employee, or the page that says why not.
    async fn of(
        state: &AppState,
        headers: &HeaderMap,
        form: &EmployeeForm,
    ) -> Result<Self, Response> {
        let staff = require(state, headers, Role::Operator).await?;
        match employee(state, &form.username).await {
            Ok(employee) => Ok(Self { staff, employee }),
            Err(e) => Err(failed(&staff, &e)),
        }
    }

    /// The employee's page again, with the sentence `key`.
    fn page(
        &self,
        state: &AppState,
        form: &EmployeeForm,
        status: StatusCode,
        key: &str,
    ) -> Response {
        employee_page(
            state,
            &self.staff,
            &self.employee,
            &form.verification,
            status,
            Some(view::say(key)),
        )
    }

    /// What vouches for the caller, or the refusal's page.
    fn vouched(&self, state: &AppState, form: &EmployeeForm) -> Result<Vouched, Box<Response>> {
        vouched(state, &self.staff, &self.employee, form)
            .map_err(|key| Box::new(self.page(state, form, StatusCode::FORBIDDEN, key)))
    }
}

/// The lookup form's query.
#[derive(Deserialize)]
pub struct Lookup {
    #[serde(default)]
    username: String,
    #[serde(default)]
    verification: String,
}

/// `GET /helpdesk/employee?username=…`: the employee's account and phones (audited).
pub async fn show(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(query): Query<Lookup>,
) -> Response {
    let staff = match require(&state, &headers, Role::Operator).await {
        Ok(staff) => staff,
        Err(page) => return page,
    };
    let employee = match employee(&state, &query.username).await {
        Ok(employee) => employee,
        Err(ApiError::NotFound) => {
            let message = Some(view::say("helpdesk-no-such-employee"));
            return render(StatusCode::NOT_FOUND, &pages::home(&staff, message));
        }
        Err(e) => return failed(&staff, &e),
    };
    state.audit(
        Some(&employee.username),
        "helpdesk_lookup",
        &format!("by operator {}", staff.user.username),
        Some(&peer.ip().to_string()),
    );
    employee_page(
        &state,
        &staff,
        &employee,
        &query.verification,
        StatusCode::OK,
        None,
    )
}

/// `POST /helpdesk/verify`: sends "The help desk is verifying you" to the employee's phones
/// and shows the operator the number to read to the caller.
pub async fn verify(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<EmployeeForm>,
) -> Response {
    let Acting { staff, employee } = match Acting::of(&state, &headers, &form).await {
        Ok(acting) => acting,
        Err(page) => return page,
    };
    match api::start_caller_check(&state, &staff.user, &employee, peer.ip()) {
        Ok(check) => {
            let page = view::waiting(Awaited::CallerCheck, &check.id, &check.number, None);
            render(StatusCode::OK, &page)
        }
        Err(ApiError::NotFound) => employee_page(
            &state,
            &staff,
            &employee,
            "",
            StatusCode::CONFLICT,
            Some(view::say("helpdesk-no-phone-to-verify")),
        ),
        Err(e) => failed(&staff, &e),
    }
}

/// `GET /helpdesk/verify/{id}`: the verification's state, for the waiting page's script;
/// only the operator who started it may read it.
pub async fn verify_status(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let staff = match require(&state, &headers, Role::Operator).await {
        Ok(staff) => staff,
        Err(_) => return ApiError::InvalidSession.into_response(),
    };
    match api::caller_check_status(&state, &staff.user, &id) {
        Ok(status) => Json(status).into_response(),
        Err(e) => e.into_response(),
    }
}

/// `POST /helpdesk/verify/continue`: back to the employee, verified if the caller typed the
/// number on the phone.
pub async fn verify_continue(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<EmployeeForm>,
) -> Response {
    let staff = match require(&state, &headers, Role::Operator).await {
        Ok(staff) => staff,
        Err(page) => return page,
    };
    let employee = match state.store().caller_check(&form.id) {
        Ok(Some((operator, employee))) if operator == staff.user.id => employee,
        Ok(_) => return failed(&staff, &ApiError::NotFound),
        Err(e) => return failed(&staff, &e.into()),
    };
    let employee = match state.store().user_by_id(employee) {
        Ok(Some(employee)) => employee,
        Ok(None) => return failed(&staff, &ApiError::NotFound),
        Err(e) => return failed(&staff, &e.into()),
    };
    if api::caller_verified(&state, &staff.user, &employee, &form.id).unwrap_or(false) {
        let query = format!(
            "/helpdesk/employee?username={}&verification={}",
            percent_encoding::utf8_percent_encode(
                &employee.username,
                percent_encoding::NON_ALPHANUMERIC
            ),
            form.id
        );
        return Redirect::to(&query).into_response();
    }
    let pending =
        api::caller_check_status(&state, &staff.user, &form.id).is_ok_and(|s| s.state == "pending");
    if pending {
        let number = state
            .store()
            .flow(&form.id)
            .ok()
            .flatten()
            .map(|f| f.number)
            .unwrap_or_default();
        let message = Some(view::say("helpdesk-not-yet-verified"));
        let page = view::waiting(Awaited::CallerCheck, &form.id, &number, message);
        return render(StatusCode::CONFLICT, &page);
    }
    employee_page(
        &state,
        &staff,
        &employee,
        "",
        StatusCode::CONFLICT,
        Some(view::say("helpdesk-verification-failed")),
    )
}

/// What let the operator act for the caller.
struct Vouched {
    /// The audit detail's words: "caller verified", or the override and its reason.
    basis: String,
    /// True for an override: the caller was not verified on the employee's phone.
    overridden: bool,
}

/// What lets the operator act for the caller: a verification of this employee the caller
/// approved, or a reason recorded in its place. The audit detail says which.
fn vouched(
    state: &AppState,
    staff: &Staff,
    employee: &User,
    form: &EmployeeForm,
) -> Result<Vouched, &'static str> {
    if api::caller_verified(state, &staff.user, employee, &form.verification).unwrap_or(false) {
        return Ok(Vouched {
            basis: format!("caller verified ({})", redact(&form.verification)),
            overridden: false,
        });
    }
    let reason = form.reason.trim();
    if reason.chars().count() < MIN_REASON {
        return Err("helpdesk-verify-or-reason");
    }
    let reason: String = reason.chars().take(MAX_REASON).collect();
    Ok(Vouched {
        basis: format!("caller NOT verified; override reason: {reason}"),
        overridden: true,
    })
}

/// `POST /helpdesk/access-code`: a one-time (or, if chosen, reusable) access code of the
/// chosen lifetime, shown once; the employee is mailed that one was issued, when, and
/// whether the caller was verified (never the code).
pub async fn access_code(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<EmployeeForm>,
) -> Response {
    let acting = match Acting::of(&state, &headers, &form).await {
        Ok(acting) => acting,
        Err(page) => return page,
    };
    let vouched = match acting.vouched(&state, &form) {
        Ok(vouched) => vouched,
        Err(page) => return *page,
    };
    let basis = &vouched.basis;
    let Acting { staff, employee } = &acting;
    let bounds = &state.config().helpdesk;
    let minutes = match form.minutes.trim().parse::<u64>() {
        Ok(m) if (bounds.code_minutes_min..=bounds.code_minutes_max).contains(&m) => m,
        _ => {
            let key = "helpdesk-lifetime-out-of-bounds";
            return acting.page(&state, &form, StatusCode::BAD_REQUEST, key);
        }
    };
    let one_use = form.one_use.is_some();
    let code = match new_access_code() {
        Ok(code) => code,
        Err(e) => return failed(staff, &e),
    };
    let issued_at = now();
    let stored = state.store().access_code_create(
        &sha256(access_code_key(&code).as_bytes()),
        employee.id,
        issued_at + minutes * 60,
        !one_use,
    );
    if let Err(e) = stored {
        return failed(staff, &e.into());
    }
    let uses = if one_use { "single use" } else { "reusable" };
    state.audit(
        Some(&employee.username),
        "access_code_issued",
        &format!(
            "by operator {}: valid {minutes} min, {uses}; {basis}",
            staff.user.username
        ),
        Some(&peer.ip().to_string()),
    );
    // The employee hears of it, so that a code talked out of the help desk by someone else
    // does not go unnoticed.
    state.notify(
        employee,
        Notice::AccessCodeIssued {
            at: issued_at,
            minutes,
            overridden: vouched.overridden,
        },
    );
    render(
        StatusCode::OK,
        &pages::code_issued(employee, &code, minutes, one_use),
    )
}

/// `POST /helpdesk/remove-phone`: removes a lost phone; its codes stop working at once.
pub async fn remove_phone(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<EmployeeForm>,
) -> Response {
    let acting = match Acting::of(&state, &headers, &form).await {
        Ok(acting) => acting,
        Err(page) => return page,
    };
    let basis = match acting.vouched(&state, &form) {
        Ok(vouched) => vouched.basis,
        Err(page) => return *page,
    };
    let Acting { staff, employee } = &acting;
    let page = |status, key: &str| acting.page(&state, &form, status, key);
    let owned = match state.store().device(&form.device) {
        Ok(device) => device.filter(|d| d.user_id == employee.id),
        Err(e) => return failed(staff, &e.into()),
    };
    let Some(owned) = owned else {
        return page(StatusCode::NOT_FOUND, "helpdesk-no-such-phone");
    };
    match state.store().device_delete(&form.device) {
        Ok(true) => {}
        Ok(false) => return page(StatusCode::NOT_FOUND, "helpdesk-no-such-phone"),
        Err(e) => return failed(staff, &e.into()),
    }
    state.0.waiters.remove(&form.device);
    state.notify(
        employee,
        Notice::PhoneRemoved {
            phone: owned.device.name.clone(),
            by_helpdesk: true,
        },
    );
    state.audit(
        Some(&employee.username),
        "device_removed",
        &format!(
            "device {} removed by operator {}; {basis}",
            owned.device.id, staff.user.username
        ),
        Some(&peer.ip().to_string()),
    );
    page(StatusCode::OK, "helpdesk-phone-removed")
}

/// `POST /helpdesk/unblock`: clears a fraud report's block, so pushes reach the phones again.
pub async fn unblock(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<EmployeeForm>,
) -> Response {
    let Acting { staff, employee } = match Acting::of(&state, &headers, &form).await {
        Ok(acting) => acting,
        Err(page) => return page,
    };
    if let Err(e) = state.store().user_set_blocked(employee.id, false) {
        return failed(&staff, &e.into());
    }
    state.audit(
        Some(&employee.username),
        "unblocked",
        &format!("fraud block cleared by operator {}", staff.user.username),
        Some(&peer.ip().to_string()),
    );
    let employee = User {
        blocked: false,
        ..employee
    };
    employee_page(
        &state,
        &staff,
        &employee,
        &form.verification,
        StatusCode::OK,
        Some(view::say("helpdesk-unblocked")),
    )
}

/// A fresh access code to read over the phone: 80 random bits as 16 base32 letters and
/// digits in groups of four.
fn new_access_code() -> Result<String, ApiError> {
    let letters = base32::encode(
        base32::Alphabet::Rfc4648 { padding: false },
        &random_bytes::<10>()?,
    );
    let groups: Vec<&str> = (0..4).map(|i| &letters[i * 4..i * 4 + 4]).collect();
    Ok(groups.join("-"))
}
