//! The pages, as askama templates (`server/templates/`): every value is HTML-escaped by
//! the engine where it is written, and no page has inline script or style. A page shows
//! only what the server holds (a flow's stored number, never one a form sent back).

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use super::assets::{Assets, urls};
use crate::error::ApiError;
use crate::i18n::Tr;

/// Renders `page` with `status`; a template failure is a plain 500.
pub fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "portal template failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// `/`.
#[derive(Template)]
#[template(path = "home.html")]
pub struct Home {
    pub title: String,
    pub t: Tr,
    pub message: Option<String>,
    pub assets: &'static Assets,
}

/// The sign-in form.
#[derive(Template)]
#[template(path = "signin.html")]
pub struct SignIn {
    pub title: String,
    pub t: Tr,
    pub message: Option<String>,
    pub assets: &'static Assets,
}

/// The help-desk access-code form.
#[derive(Template)]
#[template(path = "access_code.html")]
pub struct AccessCode {
    pub title: String,
    pub t: Tr,
    pub message: Option<String>,
    pub assets: &'static Assets,
}

/// Waiting for the phone: the number to type there, a continue button, the poll script.
#[derive(Template)]
#[template(path = "waiting.html")]
pub struct Waiting {
    pub title: String,
    pub t: Tr,
    pub message: Option<String>,
    pub assets: &'static Assets,
    /// The catalogue key of the instruction ("type this number to approve the sign-in").
    pub what: &'static str,
    /// The flow's stored number.
    pub number: String,
    /// Where the continue form posts.
    pub action: &'static str,
    /// The flow.
    pub id: String,
    /// Where the script reads the flow's state.
    pub status_url: String,
    /// Whether to offer the code from the app (a reset).
    pub code_form: bool,
}

/// One row of the devices table; its dates written in the page's language.
pub struct DeviceRow {
    pub id: String,
    pub name: String,
    pub platform: String,
    /// When it was registered.
    pub added: String,
    /// Its last approval, denial or accepted code ("Never").
    pub last_used: String,
    /// When its owner last said it is still theirs ("Never").
    pub confirmed: String,
}

/// Security info: the devices, and how to add a phone.
#[derive(Template)]
#[template(path = "security.html")]
pub struct Security {
    pub title: String,
    pub t: Tr,
    pub message: Option<String>,
    pub assets: &'static Assets,
    pub display_name: String,
    pub username: String,
    pub devices: Vec<DeviceRow>,
    /// Whether "Add a phone" is offered.
    pub can_add: bool,
    /// What adding a phone will take.
    pub add_note: &'static str,
}

/// The prompt to register a phone, after a sign-in of an account that has none.
#[derive(Template)]
#[template(path = "register.html")]
pub struct Register {
    pub title: String,
    pub t: Tr,
    pub message: Option<String>,
    pub assets: &'static Assets,
    /// What registering takes here (the catalogue key of Security info's note): a session's
    /// help-desk grant or the `first_device = password` policy; `None`: the help desk.
    pub register_note: Option<&'static str>,
    /// The reminders left ("remind me later" is offered only while some are).
    pub left: u32,
}

/// A fresh enrollment code: its QR code and link.
#[derive(Template)]
#[template(path = "enroll.html")]
pub struct Enroll {
    pub title: String,
    pub t: Tr,
    pub message: Option<String>,
    pub assets: &'static Assets,
    /// The QR code as a `data:` URL.
    pub qr: String,
    pub link: String,
}

/// The change-password form.
#[derive(Template)]
#[template(path = "password.html")]
pub struct Password {
    pub title: String,
    pub t: Tr,
    pub message: Option<String>,
    pub assets: &'static Assets,
    /// The password policy as a person reads it: ours (`password::requirement`), then the
    /// directory's.
    pub requirement: String,
    /// The shortest password either policy allows (the browser checks it before sending).
    pub min_length: usize,
}

/// "Forgot my password": the username.
#[derive(Template)]
#[template(path = "forgot.html")]
pub struct Forgot {
    pub title: String,
    pub t: Tr,
    pub message: Option<String>,
    pub assets: &'static Assets,
}

/// A verified reset's new password.
#[derive(Template)]
#[template(path = "new_password.html")]
pub struct NewPassword {
    pub title: String,
    pub t: Tr,
    pub message: Option<String>,
    pub assets: &'static Assets,
    pub id: String,
    /// The password policy as a person reads it: ours (`password::requirement`), then the
    /// directory's.
    pub requirement: String,
    /// The shortest password either policy allows (the browser checks it before sending).
    pub min_length: usize,
    /// The directory has locked the account out (the unlock is offered first).
    pub locked: bool,
}

/// A short notice with a link onward.
#[derive(Template)]
#[template(path = "notice.html")]
pub struct Notice {
    pub title: String,
    pub t: Tr,
    pub message: Option<String>,
    pub assets: &'static Assets,
    /// Catalogue keys.
    pub paragraphs: Vec<&'static str>,
    /// (href, catalogue key of its text).
    pub link: (&'static str, &'static str),
}

/// The catalogue message `key` in the request's language.
pub fn say(key: &str) -> String {
    Tr::current().text(key)
}

/// An error as a page shows it, in the request's language: the catalogue's sentence for its
/// code; for the errors whose text comes from elsewhere (the password policy, the directory's
/// refusal, a limit's retry time, a malformed field), that text too, which is English.
pub fn error_text(error: &ApiError) -> String {
    let tr = Tr::current();
    let code = error.status_and_code().1;
    // One error shares its code with another and has its own sentence.
    let key = match error {
        ApiError::PasswordBeingSet => "error-password-being-set".to_owned(),
        _ => format!("error-{}", code.replace('_', "-")),
    };
    let sentence = tr.text(&key);
    let has_detail = matches!(
        error,
        ApiError::BadRequest(_)
            | ApiError::PasswordPolicy(_)
            | ApiError::RateLimited(_)
            | ApiError::DirectoryRefused(_)
    );
    if !has_detail {
        if sentence == key {
            error.to_string()
        } else {
            sentence
        }
    } else if tr.lang == crate::i18n::Lang::En {
        error.to_string()
    } else {
        format!("{sentence} ({error})")
    }
}

/// The pages that need nothing but a title and an optional error.
pub fn home(message: Option<String>) -> Home {
    Home {
        title: say("title-home"),
        t: Tr::current(),
        message,
        assets: urls(),
    }
}

/// The sign-in page.
pub fn sign_in(message: Option<String>) -> SignIn {
    SignIn {
        title: say("title-sign-in"),
        t: Tr::current(),
        message,
        assets: urls(),
    }
}

/// The access-code page.
pub fn access_code(message: Option<String>) -> AccessCode {
    AccessCode {
        title: say("title-access-code"),
        t: Tr::current(),
        message,
        assets: urls(),
    }
}

/// The change-password page.
pub fn password(message: Option<String>, (requirement, min_length): (String, usize)) -> Password {
    Password {
        title: say("title-password"),
        t: Tr::current(),
        message,
        assets: urls(),
        requirement,
        min_length,
    }
}

/// The first page of a reset.
pub fn forgot(message: Option<String>) -> Forgot {
    Forgot {
        title: say("title-forgot"),
        t: Tr::current(),
        message,
        assets: urls(),
    }
}

/// A notice page: its title, paragraphs and link text are catalogue keys.
pub fn notice(
    title: &'static str,
    paragraphs: Vec<&'static str>,
    link: (&'static str, &'static str),
) -> Notice {
    Notice {
        title: say(title),
        t: Tr::current(),
        message: None,
        assets: urls(),
        paragraphs,
        link,
    }
}

/// What a waiting page is for.
#[derive(Debug, Clone, Copy)]
pub enum Awaited {
    /// A sign-in.
    SignIn,
    /// A password reset.
    Reset,
    /// A password change.
    Change,
    /// Adding a phone.
    AddPhone,
    /// An operator's sign-in to the help-desk console.
    ConsoleSignIn,
    /// A caller's verification: the operator reads the number to the caller.
    CallerCheck,
}

/// The waiting page of flow `id`, showing its stored `number`.
pub fn waiting(awaited: Awaited, id: &str, number: &str, message: Option<String>) -> Waiting {
    let (title, what, action, status) = match awaited {
        Awaited::SignIn => (
            "title-wait-sign-in",
            "waiting-prompt-sign-in",
            "/signin/continue",
            "/api/v1/signin/",
        ),
        Awaited::Reset => (
            "title-wait-reset",
            "waiting-prompt-reset",
            "/forgot/continue",
            "/api/v1/reset/",
        ),
        Awaited::Change => (
            "title-wait-change",
            "waiting-prompt-change",
            "/password/continue",
            "/api/v1/password-change/",
        ),
        Awaited::AddPhone => (
            "title-wait-add-phone",
            "waiting-prompt-add-phone",
            "/security/add-phone/continue",
            "/security/add-phone/",
        ),
        Awaited::ConsoleSignIn => (
            "title-wait-sign-in",
            "waiting-prompt-sign-in",
            "/helpdesk/signin/continue",
            "/api/v1/signin/",
        ),
        Awaited::CallerCheck => (
            "title-helpdesk-verifying",
            "helpdesk-verify-read-number",
            "/helpdesk/verify/continue",
            "/helpdesk/verify/",
        ),
    };
    Waiting {
        title: say(title),
        t: Tr::current(),
        message,
        assets: urls(),
        what,
        number: number.to_owned(),
        action,
        id: id.to_owned(),
        status_url: format!("{status}{id}"),
        code_form: matches!(awaited, Awaited::Reset),
    }
}
