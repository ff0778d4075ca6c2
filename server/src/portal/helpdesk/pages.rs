//! The console's pages, as askama templates in the portal's layout (`server/templates/
//! helpdesk_*.html`).

use askama::Template;

use super::super::assets::{Assets, urls};
use super::super::view::say;
use super::{Role, Staff};
use crate::i18n::Tr;
use crate::state::AppState;
use crate::store::{AuditEvent, Device, User};

/// The console's sign-in form.
#[derive(Template)]
#[template(path = "helpdesk_signin.html")]
pub struct SignIn {
    pub title: String,
    pub t: Tr,
    pub message: Option<String>,
    pub assets: &'static Assets,
}

/// The console's home: who is signed in, the lookup, the audit link.
#[derive(Template)]
#[template(path = "helpdesk_home.html")]
pub struct Home {
    pub title: String,
    pub t: Tr,
    pub message: Option<String>,
    pub assets: &'static Assets,
    pub username: String,
    pub operator: bool,
    pub auditor: bool,
}

/// One phone on the employee's page.
pub struct PhoneRow {
    pub id: String,
    pub name: String,
    pub platform: String,
    pub added: String,
}

/// An employee, and what the operator may do for the caller.
#[derive(Template)]
#[template(path = "helpdesk_employee.html")]
pub struct Employee {
    pub title: String,
    pub t: Tr,
    pub message: Option<String>,
    pub assets: &'static Assets,
    pub username: String,
    pub display_name: String,
    pub blocked: bool,
    pub phones: Vec<PhoneRow>,
    /// The caller's approved verification, if any.
    pub verification: String,
    pub verified: bool,
    pub minutes_min: u64,
    pub minutes_max: u64,
    pub minutes_default: u64,
}

/// A fresh access code, shown this once.
#[derive(Template)]
#[template(path = "helpdesk_code.html")]
pub struct CodeIssued {
    pub title: String,
    pub t: Tr,
    pub message: Option<String>,
    pub assets: &'static Assets,
    pub username: String,
    pub code: String,
    pub minutes: String,
    pub one_use: bool,
}

/// One row of the audit trail.
pub struct AuditRow {
    pub time: String,
    pub username: String,
    pub event: String,
    pub client_ip: String,
    pub detail: String,
}

/// The audit trail, newest first, optionally of one account.
#[derive(Template)]
#[template(path = "helpdesk_audit.html")]
pub struct Audit {
    pub title: String,
    pub t: Tr,
    pub message: Option<String>,
    pub assets: &'static Assets,
    pub username: String,
    pub rows: Vec<AuditRow>,
}

/// The sign-in form.
pub fn sign_in(message: Option<String>) -> SignIn {
    SignIn {
        title: say("title-helpdesk-sign-in"),
        t: Tr::current(),
        message,
        assets: urls(),
    }
}

/// The home page of `staff`.
pub fn home(staff: &Staff, message: Option<String>) -> Home {
    Home {
        title: say("title-helpdesk"),
        t: Tr::current(),
        message,
        assets: urls(),
        username: staff.user.username.clone(),
        operator: staff.has(Role::Operator),
        auditor: staff.has(Role::Auditor),
    }
}

/// The page of `employee` with `devices`; `verification` is the caller's approved one.
pub fn employee(
    state: &AppState,
    employee: &User,
    devices: &[Device],
    verification: Option<&str>,
    message: Option<String>,
) -> Employee {
    let bounds = &state.config().helpdesk;
    Employee {
        title: say("title-helpdesk-employee"),
        t: Tr::current(),
        message,
        assets: urls(),
        username: employee.username.clone(),
        display_name: employee.display_name.clone(),
        blocked: employee.blocked,
        phones: devices
            .iter()
            .map(|d| PhoneRow {
                id: d.device.id.clone(),
                name: d.device.name.clone(),
                platform: d.device.platform.clone(),
                added: Tr::current().lang.date_time(d.device.created_at),
            })
            .collect(),
        verification: verification.unwrap_or_default().to_owned(),
        verified: verification.is_some(),
        minutes_min: bounds.code_minutes_min,
        minutes_max: bounds.code_minutes_max,
        minutes_default: bounds.code_minutes_default,
    }
}

/// The page showing `code` once.
pub fn code_issued(employee: &User, code: &str, minutes: u64, one_use: bool) -> CodeIssued {
    CodeIssued {
        title: say("title-helpdesk-code"),
        t: Tr::current(),
        message: None,
        assets: urls(),
        username: employee.username.clone(),
        code: code.to_owned(),
        minutes: minutes.to_string(),
        one_use,
    }
}

/// The audit page of `events` (of `username`, or everyone's when empty).
pub fn audit(username: &str, events: &[AuditEvent]) -> Audit {
    Audit {
        title: say("title-helpdesk-audit"),
        t: Tr::current(),
        message: None,
        assets: urls(),
        username: username.to_owned(),
        rows: events
            .iter()
            .map(|e| AuditRow {
                time: Tr::current().lang.date_time(e.time),
                username: e.username.clone().unwrap_or_default(),
                event: e.event.clone(),
                client_ip: e.client_ip.clone().unwrap_or_default(),
                detail: e.detail.clone(),
            })
            .collect(),
    }
}
