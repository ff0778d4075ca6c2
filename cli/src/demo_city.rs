//! The second half of `cityauth demo`: the whole City story on one machine. A City account
//! server starts in-process on a free loopback port with a temporary database; an employee
//! is created; this vault enrolls as the employee's phone; the employee forgets the
//! password, approves the reset on the phone with the number the browser shows, sets a new
//! password, and signs in with it (approving again). Every step is real HTTP.

use std::net::TcpListener;
use std::path::Path;

use cityauth_core::Vault;
use cityauth_core::device::{Challenge, Decision, Device, HttpRequest, Transport, UreqTransport};
use cityauth_server::{AppState, Config, admin};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{CliError, Code, print};

const USERNAME: &str = "alice";
const DISPLAY_NAME: &str = "Alice Example";
const FIRST_PASSWORD: &str = "copper-meadow-lantern-58";
const NEW_PASSWORD: &str = "violet-harbour-orchard-93";

/// Runs the story against `vault` (unlocked), keeping the server's database in `dir`.
pub fn run(vault: &Vault, dir: &Path, first_step: u32) -> Result<(), CliError> {
    let mut step = first_step;
    let mut say = |text: &str| -> Result<(), CliError> {
        let result = print(&format!("{step}. {text}\n"));
        step += 1;
        result
    };
    let listener = TcpListener::bind("127.0.0.1:0").map_err(failure)?;
    let url = format!("http://{}", listener.local_addr().map_err(failure)?);
    let state =
        AppState::open(&dir.join("city-server.sqlite"), Config::new(&url)).map_err(failure)?;
    let server = cityauth_server::spawn_on(listener, state.clone()).map_err(failure)?;
    say(&format!(
        "Start the City account server at {url} (temporary database)."
    ))?;

    admin::create_user(&state, USERNAME, DISPLAY_NAME, FIRST_PASSWORD).map_err(failure)?;
    say(&format!(
        "The help desk creates the employee {DISPLAY_NAME} ({USERNAME})."
    ))?;

    let link = admin::enrollment_link(&state, USERNAME).map_err(failure)?;
    say("Security info shows an enrollment QR code; this device scans it and enrolls.")?;
    print(&format!("   {}\n", shorten(&link)))?;
    let transport = UreqTransport::new();
    let device = Device::new(vault, &transport);
    let enrolled = device
        .enroll(&link, "cityauth demo", "desktop", None)
        .map_err(failure)?;
    print(&format!(
        "   enrolled as device {} of {}; the server's key matched the QR code's fingerprint\n",
        enrolled.device_id, enrolled.username
    ))?;
    if let Some(id) = enrolled.city_account {
        print(&format!(
            "   the City account's codes are now vault account {id}\n"
        ))?;
    }

    let browser = Browser { url: &url };
    let reset: serde_json::Value = browser.post(
        "/api/v1/reset/start",
        &serde_json::json!({"username": USERNAME}),
    )?;
    let number = text(&reset, "number")?;
    let reset_id = text(&reset, "reset_id")?;
    say(&format!(
        "{DISPLAY_NAME} forgot the password: \"Forgot my password\" in the browser shows the number {number}."
    ))?;

    let challenge = wait_for_challenge(&device)?;
    say("The phone receives the request, verifies the server's signature, and shows:")?;
    print(&describe(&challenge))?;
    let outcome = device
        .answer(&challenge, Decision::Approve, Some(&number))
        .map_err(failure)?;
    print(&format!("   typed {number} and approved: {outcome}\n"))?;

    let status: serde_json::Value = browser.get(&format!("/api/v1/reset/{reset_id}"), None)?;
    let _: serde_json::Value = browser.post(
        &format!("/api/v1/reset/{reset_id}/password"),
        &serde_json::json!({"password": NEW_PASSWORD}),
    )?;
    say(&format!(
        "The reset is {}; the browser sets a new password that passes the policy.",
        text(&status, "state")?
    ))?;

    let refused = browser.request(
        "POST",
        "/api/v1/signin",
        Some(&serde_json::json!({"username": USERNAME, "password": FIRST_PASSWORD})),
        None,
    )?;
    say(&format!(
        "The old password no longer signs in (HTTP {}).",
        refused.0
    ))?;

    let signin: serde_json::Value = browser.post(
        "/api/v1/signin",
        &serde_json::json!({"username": USERNAME, "password": NEW_PASSWORD}),
    )?;
    let signin_id = text(&signin, "signin_id")?;
    let number = signin
        .get("number")
        .and_then(|n| n.as_str())
        .map(str::to_owned);
    say("Signing in with the new password asks for an approval on the phone again:")?;
    let challenge = wait_for_challenge(&device)?;
    print(&describe(&challenge))?;
    let outcome = device
        .answer(&challenge, Decision::Approve, number.as_deref())
        .map_err(failure)?;
    print(&format!("   approved: {outcome}\n"))?;
    let session: serde_json::Value = browser.post(
        &format!("/api/v1/signin/{signin_id}/session"),
        &serde_json::json!({}),
    )?;
    let token = text(&session, "session")?;
    let me: serde_json::Value = browser.get("/api/v1/session", Some(&token))?;
    say(&format!(
        "Signed in: the portal greets {} ({}). No help desk was needed.",
        text(&me, "display_name")?,
        text(&me, "username")?
    ))?;

    server.stop().map_err(failure)?;
    Ok(())
}

/// The browser's side, over real HTTP.
struct Browser<'a> {
    url: &'a str,
}

impl Browser<'_> {
    fn post<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T, CliError> {
        let (status, bytes) = self.request("POST", path, Some(body), None)?;
        decode(status, &bytes)
    }

    fn get<T: DeserializeOwned>(&self, path: &str, bearer: Option<&str>) -> Result<T, CliError> {
        let (status, bytes) = self.request::<()>("GET", path, None, bearer)?;
        decode(status, &bytes)
    }

    fn request<B: Serialize>(
        &self,
        method: &str,
        path: &str,
        body: Option<&B>,
        bearer: Option<&str>,
    ) -> Result<(u16, Vec<u8>), CliError> {
        let body = match body {
            Some(body) => serde_json::to_vec(body).map_err(failure)?,
            None => Vec::new(),
        };
        let headers = bearer
            .map(|token| vec![("authorization".to_owned(), format!("Bearer {token}"))])
            .unwrap_or_default();
        let response = UreqTransport::new()
            .send(&HttpRequest {
                method: method.to_owned(),
                url: format!("{}{path}", self.url),
                headers,
                body,
            })
            .map_err(failure)?;
        Ok((response.status, response.body))
    }
}

fn decode<T: DeserializeOwned>(status: u16, bytes: &[u8]) -> Result<T, CliError> {
    if !(200..300).contains(&status) {
        return Err(CliError::new(
            Code::DemoFailed,
            format!(
                "demo: the server answered HTTP {status}: {}",
                String::from_utf8_lossy(bytes)
            ),
        ));
    }
    serde_json::from_slice(bytes).map_err(failure)
}

fn text(value: &serde_json::Value, field: &str) -> Result<String, CliError> {
    value
        .get(field)
        .and_then(|v| v.as_str())
        .map(str::to_owned)
        .ok_or_else(|| {
            CliError::new(
                Code::DemoFailed,
                format!("demo: the server's answer has no {field}"),
            )
        })
}

fn wait_for_challenge(device: &Device<'_>) -> Result<Challenge, CliError> {
    device
        .pending_challenges(10)
        .map_err(failure)?
        .into_iter()
        .next()
        .ok_or_else(|| {
            CliError::new(
                Code::DemoFailed,
                "demo: no approval request reached the phone",
            )
        })
}

fn describe(challenge: &Challenge) -> String {
    format!(
        "   | {} for {} at {}\n   | from {} ({}), expires in {} s, type the {}-digit number\n",
        challenge.kind.as_str(),
        challenge.account,
        challenge.application,
        challenge.client_ip,
        challenge.location,
        challenge.expires_at.saturating_sub(challenge.created_at),
        challenge.number_digits
    )
}

/// The link without its single-use code, which is a credential until used.
fn shorten(link: &str) -> String {
    match link.find("&code=") {
        Some(at) => {
            let rest = &link[at + 6..];
            let end = rest.find('&').map_or(link.len(), |e| at + 6 + e);
            format!("{}&code=…{}", &link[..at], &link[end..])
        }
        None => link.to_owned(),
    }
}

fn failure(error: impl std::fmt::Display) -> CliError {
    CliError::new(Code::DemoFailed, format!("demo: {error}"))
}
