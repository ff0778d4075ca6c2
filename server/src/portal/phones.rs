//! "Security info": the devices with when each was added, last used and last confirmed,
//! confirming or removing one, and adding a phone. Minting an enrollment code is a POST,
//! and takes an approval on an existing phone; a first phone takes a help-desk access code
//! (or the City's `first_device` policy allowing the password).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use base64::Engine as _;
use cityauth_protocol::wire::{AccessCodeRequest, ChallengeKind};
use serde::Deserialize;

use super::account::{start_session, status_of};
use super::binding::{Browser, owned_flow};
use super::view::{self, Awaited, DeviceRow, render};
use super::{assets, signed_in};
use crate::api;
use crate::config::FirstDevice;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::User;
use crate::util::now;

/// Security info for `user` (signed in with the session whose token hashes to `session`).
fn security_page(
    state: &AppState,
    user: &User,
    session: &[u8],
    status: StatusCode,
    message: Option<String>,
) -> Response {
    let devices = state.store().devices_of(user.id);
    let grant = state.store().session_may_enroll(session, now());
    let activity = state.store().phone_activity(user.id);
    let (devices, grant, mut activity) = match (devices, grant, activity) {
        (Ok(devices), Ok(grant), Ok(activity)) => (devices, grant, activity),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
            return ApiError::from(e).into_response();
        }
    };
    let (can_add, add_note) = if grant {
        (true, "security-add-note-grant")
    } else if !devices.is_empty() {
        (true, "security-add-note-approve")
    } else if state.config().first_device == FirstDevice::Password {
        (true, "security-add-note-first")
    } else {
        (false, "")
    };
    let t = crate::i18n::Tr::current();
    let date = |at: Option<u64>| match at {
        Some(at) => t.lang.date_time(at),
        None => t.text("security-never"),
    };
    let devices = devices
        .into_iter()
        .map(|d| {
            let seen = activity.remove(&d.device.id).unwrap_or_default();
            DeviceRow {
                added: date(Some(d.device.created_at)),
                last_used: date(seen.last_used),
                confirmed: date(seen.confirmed),
                id: d.device.id,
                name: d.device.name,
                platform: d.device.platform,
            }
        })
        .collect();
    let page = view::Security {
        title: view::say("title-security"),
        t: t.clone(),
        message,
        assets: assets::urls(),
        display_name: user.display_name.clone(),
        username: user.username.clone(),
        devices,
        can_add,
        add_note,
    };
    render(status, &page)
}

/// `GET /security`: the devices and how to add a phone. Mints nothing. An account with no
/// phone is asked to register one first, until this session puts it off
/// (`campaign::prompt_due`).
pub async fn security(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some((user, session)) = signed_in(&state, &headers) else {
        return Redirect::to("/signin").into_response();
    };
    match super::campaign::prompt_due(&state, &user, &session) {
        Ok(true) => return Redirect::to(super::campaign::PROMPT).into_response(),
        Ok(false) => {}
        Err(e) => return e.into_response(),
    }
    security_page(&state, &user, &session, StatusCode::OK, None)
}

/// A fresh single-use enrollment link, shown as a QR code (a `data:` image: no inline
/// SVG to trust) and as text.
fn enroll_page(link: Result<String, ApiError>) -> Response {
    let link = match link {
        Ok(link) => link,
        Err(e) => return e.into_response(),
    };
    let qr = crate::qr::svg(&link)
        .map(|svg| {
            let data = base64::engine::general_purpose::STANDARD.encode(svg);
            format!("data:image/svg+xml;base64,{data}")
        })
        .unwrap_or_default();
    let page = view::Enroll {
        title: view::say("title-enroll"),
        t: crate::i18n::Tr::current(),
        message: None,
        assets: assets::urls(),
        qr,
        link,
    };
    render(StatusCode::OK, &page)
}

/// Mints an enrollment link without an approval (a grant or the first-device policy).
fn mint(state: &AppState, user: &User) -> Result<String, ApiError> {
    crate::admin::enrollment_link(state, &user.username).map_err(|e| match e {
        crate::admin::AdminError::Api(e) => e,
        other => ApiError::Internal(other.to_string()),
    })
}

/// `POST /security/add-phone`: a help-desk grant or (no phone yet) the password policy
/// mints a code at once; otherwise the account's phones are asked to approve.
pub async fn add(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let Some((user, session)) = signed_in(&state, &headers) else {
        return Redirect::to("/signin").into_response();
    };
    let ip = peer.ip().to_string();
    let fail = |e: ApiError| {
        security_page(
            &state,
            &user,
            &session,
            status_of(&e),
            Some(view::error_text(&e)),
        )
    };
    match state.store().session_take_enrollment(&session, now()) {
        Ok(true) => {
            state.audit(
                Some(&user.username),
                "add_device_granted",
                "help-desk access code",
                Some(&ip),
            );
            return enroll_page(mint(&state, &user));
        }
        Ok(false) => {}
        Err(e) => return fail(e.into()),
    }
    let devices = match state.store().devices_of(user.id) {
        Ok(devices) => devices,
        Err(e) => return fail(e.into()),
    };
    if devices.is_empty() {
        if state.config().first_device == FirstDevice::Password {
            state.audit(
                Some(&user.username),
                "add_device_granted",
                "first phone by the password policy",
                Some(&ip),
            );
            return enroll_page(mint(&state, &user));
        }
        return security_page(
            &state,
            &user,
            &session,
            StatusCode::FORBIDDEN,
            Some(view::say("msg-first-phone-needs-code")),
        );
    }
    let started = api::start_add_device(&state, peer.ip(), &user).and_then(|started| {
        let browser = Browser::of(&state, &headers)?;
        browser.bind(&state, &started.id)?;
        Ok((started, browser))
    });
    match started {
        Ok((started, browser)) => {
            let page = view::waiting(Awaited::AddPhone, &started.id, &started.number, None);
            browser.remember(&state, render(StatusCode::OK, &page))
        }
        Err(e) => fail(e),
    }
}

/// The continue form's field.
#[derive(Deserialize)]
pub struct ContinueForm {
    #[serde(default)]
    id: String,
}

/// `POST /security/add-phone/continue`: the enrollment code, once a phone approved.
pub async fn add_continue(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<ContinueForm>,
) -> Response {
    let Some((user, session)) = signed_in(&state, &headers) else {
        return Redirect::to("/signin").into_response();
    };
    let page = |status, message: &str| {
        security_page(&state, &user, &session, status, Some(message.to_owned()))
    };
    let flow = match owned_flow(&state, &headers, &form.id, ChallengeKind::AddDevice) {
        Ok(Some(flow)) => flow,
        Ok(None) => {
            return page(
                StatusCode::NOT_FOUND,
                "This request has expired or was started elsewhere. Please start again.",
            );
        }
        Err(e) => return page(status_of(&e), &view::error_text(&e)),
    };
    match api::finish_add_device(&state, peer.ip(), &user, &flow.id) {
        Ok(link) => enroll_page(Ok(link)),
        Err(ApiError::NotVerified)
            if api::add_device_status(&state, &flow.id).is_ok_and(|s| s.state == "pending") =>
        {
            let message = Some(view::say("msg-not-approved"));
            let waiting = view::waiting(Awaited::AddPhone, &flow.id, &flow.number, message);
            render(StatusCode::CONFLICT, &waiting)
        }
        Err(ApiError::NotVerified) => page(
            StatusCode::CONFLICT,
            "Adding the phone was denied on your phone.",
        ),
        Err(e) => page(status_of(&e), &view::error_text(&e)),
    }
}

/// `GET /security/add-phone/{id}`: the add-phone flow's state, for the waiting page's
/// script; only to the browser that started it.
pub async fn add_status(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    match owned_flow(&state, &headers, &id, ChallengeKind::AddDevice) {
        Ok(Some(flow)) => match api::add_device_status(&state, &flow.id) {
            Ok(status) => Json(status).into_response(),
            Err(e) => e.into_response(),
        },
        Ok(None) => ApiError::NotFound.into_response(),
        Err(e) => e.into_response(),
    }
}

/// `POST /security/devices/confirm`: the signed-in user says one of their devices is still
/// theirs ("This is still my phone"); audited. Another user's device changes nothing.
pub async fn confirm(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<RemoveForm>,
) -> Response {
    let Some((user, _)) = signed_in(&state, &headers) else {
        return Redirect::to("/signin").into_response();
    };
    match state.store().phone_confirm(&form.device, user.id, now()) {
        Ok(true) => {
            let detail = format!("device {} confirmed on Security info", form.device);
            state.audit(
                Some(&user.username),
                "device_confirmed",
                &detail,
                Some(&peer.ip().to_string()),
            );
        }
        Ok(false) => {}
        Err(e) => return ApiError::from(e).into_response(),
    }
    Redirect::to("/security").into_response()
}

/// The remove-device and confirm-device forms' field.
#[derive(Deserialize)]
pub struct RemoveForm {
    #[serde(default)]
    device: String,
}

/// `POST /security/devices/remove`: removes one of the signed-in user's devices.
pub async fn remove(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<RemoveForm>,
) -> Response {
    let Some((user, session)) = signed_in(&state, &headers) else {
        return Redirect::to("/signin").into_response();
    };
    let owned = state
        .store()
        .device(&form.device)
        .ok()
        .flatten()
        .filter(|d| d.user_id == user.id);
    if let Some(owned) = owned
        && state.store().device_delete(&form.device).unwrap_or(false)
    {
        state.0.waiters.remove(&form.device);
        state.notify(
            &user,
            crate::notify::Notice::PhoneRemoved {
                phone: owned.device.name,
                by_helpdesk: false,
            },
        );
        let detail = format!("device {} removed on Security info", form.device);
        state.audit(
            Some(&user.username),
            "device_removed",
            &detail,
            Some(&peer.ip().to_string()),
        );
        // The prompt to register a phone is for a sign-in without one: removing the last
        // phone (a lost one) keeps Security info open for this session, without a reminder.
        if state
            .store()
            .devices_of(user.id)
            .is_ok_and(|d| d.is_empty())
            && let Err(e) = state.store().reminder_pass(&session)
        {
            tracing::warn!(error = %e, "the session was not passed the reminder");
        }
    }
    Redirect::to("/security").into_response()
}

fn access_code_page(status: StatusCode, message: Option<String>) -> Response {
    render(status, &view::access_code(message))
}

/// `GET /signin/access-code`.
pub async fn access_code_form() -> Response {
    access_code_page(StatusCode::OK, None)
}

/// The access-code form's fields.
#[derive(Deserialize)]
pub struct AccessCodeForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    code: String,
}

/// `POST /signin/access-code`: a help-desk code signs in, with one phone to add.
pub async fn access_code(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Form(form): Form<AccessCodeForm>,
) -> Response {
    let request = AccessCodeRequest {
        username: form.username,
        code: form.code,
    };
    match api::access_code_sign_in(&state, peer.ip(), request).await {
        Ok(session) => start_session(&state, &session),
        Err(e) => access_code_page(status_of(&e), Some(view::error_text(&e))),
    }
}
