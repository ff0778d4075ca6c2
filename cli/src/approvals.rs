//! Enrollment and push approvals: the device side of the City account, on the terminal.

use std::io::{BufRead, IsTerminal};

use cityauth_core::device::{
    Challenge, ChallengeKind, ClientError, Decision, Device, UreqTransport,
};
use cityauth_core::{IntegrityError, Vault, VaultError};

use crate::backoff::{self, Backoff};
use crate::error::{CliError, Code, print, warn};
use crate::output::printable;
use crate::{hostname, params};

/// The City server's time as this machine reckons it (for approval countdowns): its clock
/// corrected by the offset learned from the server; none when not enrolled or the
/// enrollment is damaged (the core's one rule, [`Vault::city_clock`]).
pub fn server_now(vault: &Vault) -> Result<u64, CliError> {
    let offset = vault.city_clock()?.offset;
    Ok(params::now()?.saturating_add_signed(offset))
}

/// `enroll <link>`.
pub fn enroll(vault: &Vault, link: &str, name: Option<String>) -> Result<(), CliError> {
    let transport = UreqTransport::new();
    let device = Device::new(vault, &transport);
    let name = name.unwrap_or_else(default_device_name);
    let enrolled = device.enroll(link, &name, "desktop", None)?;
    let mut text = format!(
        "Enrolled \"{name}\" as {} ({}), device {}.\n",
        printable(&enrolled.display_name),
        printable(&enrolled.username),
        printable(&enrolled.device_id)
    );
    if let Some(id) = enrolled.city_account {
        text.push_str(&format!(
            "The City account's codes are account {id}: `cityauth code {id}`.\n"
        ));
    }
    print(&text)
}

/// `approvals [--json] [--wait S]`.
pub fn list(vault: &Vault, json: bool, wait: u64) -> Result<(), CliError> {
    let transport = UreqTransport::new();
    let challenges = Device::new(vault, &transport).pending_challenges(wait)?;
    let now = server_now(vault)?;
    if json {
        let rows: Vec<serde_json::Value> = challenges
            .iter()
            .map(|c| {
                serde_json::json!({
                    "id": c.id, "kind": c.kind.as_str(), "account": c.account,
                    "application": c.application, "client_ip": c.client_ip,
                    "location": c.location, "created_at": c.created_at,
                    "expires_at": c.expires_at,
                    "expires_in": c.expires_at.saturating_sub(now),
                    "number_digits": c.number_digits,
                })
            })
            .collect();
        let text = serde_json::to_string_pretty(&rows)
            .map_err(|e| CliError::new(Code::Io, format!("cannot write JSON: {e}")))?;
        return print(&format!("{text}\n"));
    }
    if challenges.is_empty() {
        return print("No pending requests.\n");
    }
    let mut text = String::new();
    for challenge in &challenges {
        text.push_str(&describe(challenge, now));
    }
    print(&text)
}

/// `approve <id> --number NN`.
pub fn approve(vault: &Vault, id: &str, number: Option<&str>) -> Result<(), CliError> {
    answer(vault, id, Decision::Approve, number)
}

/// `deny <id> [--fraud]`.
pub fn deny(vault: &Vault, id: &str, fraud: bool) -> Result<(), CliError> {
    let decision = if fraud {
        Decision::Fraud
    } else {
        Decision::Deny
    };
    answer(vault, id, decision, None)
}

fn answer(
    vault: &Vault,
    id: &str,
    decision: Decision,
    number: Option<&str>,
) -> Result<(), CliError> {
    let transport = UreqTransport::new();
    let device = Device::new(vault, &transport);
    let challenge = device.pending_challenge(id)?;
    let outcome = device.answer(&challenge, decision, number)?;
    print(&format!("{}: {outcome}\n", challenge.id))
}

/// `watch [--once]`: long-polls and asks about each request on the terminal. It rides out
/// network errors and server errors (a restart, a proxy without its backend) with capped
/// backoff, saying so once per outage; any other error (not enrolled, refused) ends it.
pub fn watch(vault: &Vault, once: bool) -> Result<(), CliError> {
    if !std::io::stdin().is_terminal() && !once {
        return Err(CliError::new(
            Code::NotATerminal,
            "watch asks on the terminal; use `approvals` and `approve` in scripts",
        ));
    }
    // Said before the first line about waiting.
    if vault.enrollment()?.is_none() {
        return Err(ClientError::NotEnrolled.into());
    }
    let transport = UreqTransport::new();
    let device = Device::new(vault, &transport);
    warn("Waiting for approval requests (Ctrl-C to stop)...");
    let mut answered = std::collections::HashSet::new();
    let mut backoff = Backoff::default();
    loop {
        // After a failure, a quick poll first: a long one would hold back the news that the
        // server is back for up to 25 s.
        let wait = if backoff.failing() { 0 } else { 25 };
        let challenges = match device.pending_challenges(wait) {
            Ok(challenges) => {
                if backoff.succeeded() {
                    warn("The server answers again; waiting for approval requests...");
                }
                challenges
            }
            Err(error) if retryable(&error) => {
                let retry = backoff.failed();
                if retry.outage_began {
                    warn(&format!(
                        "The server does not answer ({error}); trying again, at most every {} s, \
                         until it does (Ctrl-C to stop)...",
                        backoff::CAP.as_secs()
                    ));
                }
                std::thread::sleep(retry.wait);
                continue;
            }
            Err(error) => return Err(error.into()),
        };
        for challenge in challenges {
            if !answered.insert(challenge.id.clone()) {
                continue;
            }
            warn(&describe(&challenge, server_now(vault)?));
            let (decision, number) = ask(&challenge)?;
            match device.answer(&challenge, decision, number.as_deref()) {
                Ok(outcome) => warn(&format!("{}: {outcome}", challenge.id)),
                Err(error) => {
                    // Not sent: ask again when the server lists it again.
                    if retryable(&error) {
                        answered.remove(&challenge.id);
                    }
                    CliError::from(error).report();
                }
            }
            if once {
                return Ok(());
            }
        }
    }
}

/// True for a failure that may pass by itself: no answer, or a server error (5xx) or rate
/// limit (429) rather than a refusal of this device or request.
fn retryable(error: &ClientError) -> bool {
    match error {
        ClientError::Network(_) => true,
        ClientError::Refused { status, .. } => *status >= 500 || *status == 429,
        _ => false,
    }
}

/// Asks for the number (approve), `d` (deny) or `f` (fraud) on stdin.
fn ask(challenge: &Challenge) -> Result<(Decision, Option<String>), CliError> {
    let prompt = if challenge.number_digits > 0 {
        format!(
            "Type the {}-digit number shown in your browser to approve, d to deny, f if it was not you: ",
            challenge.number_digits
        )
    } else {
        "a to approve, d to deny, f if it was not you: ".to_owned()
    };
    eprint!("{prompt}");
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| CliError::new(Code::Io, format!("cannot read the terminal: {e}")))?;
    let line = line.trim();
    Ok(match line {
        "d" | "D" => (Decision::Deny, None),
        "f" | "F" => (Decision::Fraud, None),
        "a" | "A" if challenge.number_digits == 0 => (Decision::Approve, None),
        typed => (Decision::Approve, Some(typed.to_owned())),
    })
}

/// A request as the employee reads it: what, for whom, from where, until when.
fn describe(challenge: &Challenge, now: u64) -> String {
    let what = match challenge.kind {
        ChallengeKind::SignIn => "Sign-in",
        ChallengeKind::PasswordReset => "Password reset",
        ChallengeKind::PasswordChange => "Password change",
        ChallengeKind::AddDevice => "Add a phone",
        ChallengeKind::CallerVerification => "The help desk is verifying you",
    };
    format!(
        "{} {what} for {} at {}\n  from {} ({})\n  expires in {} s{}\n",
        printable(&challenge.id),
        printable(&challenge.account),
        printable(&challenge.application),
        printable(&challenge.client_ip),
        printable(&challenge.location),
        challenge.expires_at.saturating_sub(now),
        if challenge.number_digits > 0 {
            format!(
                "; type the {}-digit number from the browser",
                challenge.number_digits
            )
        } else {
            String::new()
        }
    )
}

/// `unenroll`.
pub fn unenroll(vault: &Vault) -> Result<(), CliError> {
    let transport = UreqTransport::new();
    match Device::new(vault, &transport).unenroll() {
        Ok(()) => {}
        Err(error @ ClientError::NotEnrolled) => return Err(error.into()),
        Err(error) => {
            return Err(CliError::from(error).map_message(|message| {
                format!(
                    "{message}; to forget the enrollment on this machine without the server: \
                     `cityauth forget-enrollment`"
                )
            }));
        }
    }
    print("This device is no longer enrolled. The City account's codes stay in the vault.\n")
}

/// `forget-enrollment`: forgets the enrollment on this machine only, without the server
/// (gone, unreachable or refusing); the portal can still remove the device.
pub fn forget(vault: &Vault) -> Result<(), CliError> {
    match vault.enrollment() {
        Ok(None) => return Err(ClientError::NotEnrolled.into()),
        // A damaged enrollment is what most needs forgetting.
        Ok(Some(_)) | Err(VaultError::Integrity(IntegrityError::Enrollment)) => {}
        Err(error) => return Err(error.into()),
    }
    vault.forget_enrollment()?;
    print(
        "This device's enrollment is forgotten here (the server was not asked; remove the \
         device on the portal). The City account's codes stay in the vault.\n",
    )
}

/// "cityauth on <host name>", from the system (bash does not export `$HOSTNAME`).
fn default_device_name() -> String {
    hostname::get().map_or_else(
        || "cityauth desktop".to_owned(),
        |host| format!("cityauth on {host}"),
    )
}
