//! Firebase Cloud Messaging, HTTP v1: an OAuth2 access token from the service account's
//! signed JWT (cached until a minute before it expires), then one POST per message. The
//! answers are read as Google documents them (`FcmError.errorCode`, `google.rpc` status).

use std::time::{Duration, Instant};

use tokio::sync::Mutex;
use zeroize::Zeroizing;

use super::Outcome;
use super::config::{FcmConfig, PushConfigError};
use super::http::{Answer, Endpoint, tls_config};
use super::jwt::ServiceAccount;

/// An access token is renewed this long before Google says it expires.
const EARLY: Duration = Duration::from_secs(60);

/// The FCM sender.
pub struct Fcm {
    account: ServiceAccount,
    api: Endpoint,
    token_endpoint: Endpoint,
    send_path: String,
    token_path: String,
    token: Mutex<Option<(Zeroizing<String>, Instant)>>,
}

/// The token endpoint's answer.
#[derive(serde::Deserialize)]
struct Grant {
    access_token: String,
    expires_in: u64,
}

impl Fcm {
    /// The sender for `config` (reads the service account file).
    pub fn new(config: &FcmConfig, timeout: Duration) -> Result<Self, PushConfigError> {
        const SETTING: &str = "push.fcm_service_account";
        let account = ServiceAccount::from_file(&config.service_account)?;
        let tls = tls_config(config.ca_file.as_deref(), "push.ca_file", false)?;
        let bad =
            |setting: &'static str| move |why: String| PushConfigError::Value { setting, why };
        let api = Endpoint::new(&config.base_url, tls.clone(), false, timeout)
            .map_err(bad("push.fcm_base_url"))?;
        let token_endpoint =
            Endpoint::new(&account.token_uri, tls, false, timeout).map_err(bad(SETTING))?;
        let token_path = path_of(&account.token_uri);
        let send_path = format!(
            "{}/v1/projects/{}/messages:send",
            path_of(&config.base_url).trim_end_matches('/'),
            account.project_id
        );
        Ok(Self {
            account,
            api,
            token_endpoint,
            send_path,
            token_path,
            token: Mutex::new(None),
        })
    }

    /// An access token: the cached one unless near expiry (or `renew`).
    async fn access_token(&self, renew: bool) -> Option<Zeroizing<String>> {
        let mut cached = self.token.lock().await;
        if !renew
            && let Some((token, until)) = cached.as_ref()
            && Instant::now() < *until
        {
            return Some(token.clone());
        }
        let assertion = self.account.assertion(crate::util::now()).ok()?;
        let body = format!(
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion={assertion}"
        );
        let answer = self
            .token_endpoint
            .send(
                "POST",
                &self.token_path,
                &[("content-type", "application/x-www-form-urlencoded")],
                body.into_bytes(),
            )
            .await
            .ok()?;
        if answer.status != 200 {
            crate::log(&format!(
                "fcm: the token endpoint answered {}",
                answer.status
            ));
            return None;
        }
        let grant: Grant = serde_json::from_slice(&answer.body).ok()?;
        let token = Zeroizing::new(grant.access_token);
        let life = Duration::from_secs(grant.expires_in).saturating_sub(EARLY);
        *cached = Some((token.clone(), Instant::now() + life));
        Some(token)
    }

    /// One try at delivering `challenge_id` to `token`.
    pub async fn send(&self, token: &str, challenge_id: &str) -> Outcome {
        let body = serde_json::json!({
            "message": {
                "token": token,
                "data": {"challenge_id": challenge_id},
                "android": {"priority": "high"},
            }
        })
        .to_string();
        let mut renewed = false;
        loop {
            let Some(access) = self.access_token(renewed).await else {
                return Outcome::Retry { after: None };
            };
            let bearer = Zeroizing::new(format!("Bearer {}", access.as_str()));
            let answer = match self
                .api
                .send(
                    "POST",
                    &self.send_path,
                    &[
                        ("authorization", bearer.as_str()),
                        ("content-type", "application/json; charset=utf-8"),
                    ],
                    body.clone().into_bytes(),
                )
                .await
            {
                Ok(answer) => answer,
                Err(_) => return Outcome::Retry { after: None },
            };
            // 401: the access token was revoked or expired early; one new one, then retry.
            if answer.status == 401 && !renewed {
                renewed = true;
                continue;
            }
            return classify(&answer);
        }
    }
}

/// The path (and query) of `url`, `/` if none.
fn path_of(url: &str) -> String {
    let rest = url.strip_prefix("https://").unwrap_or(url);
    match rest.find('/') {
        Some(at) => rest[at..].to_owned(),
        None => "/".to_owned(),
    }
}

/// What an FCM answer means.
fn classify(answer: &Answer) -> Outcome {
    match answer.status {
        200 => Outcome::Delivered,
        429 | 500..=599 => Outcome::Retry {
            after: answer.retry_after,
        },
        404 | 400 if token_error(&answer.body) => Outcome::Stale,
        _ => Outcome::Rejected,
    }
}

/// True if the error body blames the registration token: `UNREGISTERED`, or an
/// `INVALID_ARGUMENT` about `message.token` (our message is otherwise fixed, but a bad
/// field of ours must not clear every phone's token).
fn token_error(body: &[u8]) -> bool {
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(body) else {
        return false;
    };
    let error = &body["error"];
    let details = error["details"].as_array().cloned().unwrap_or_default();
    let code = details
        .iter()
        .find_map(|d| d["errorCode"].as_str())
        .or(error["status"].as_str())
        .unwrap_or_default();
    match code {
        "UNREGISTERED" => true,
        "INVALID_ARGUMENT" => {
            let about_token = details.iter().any(|d| {
                d["fieldViolations"]
                    .as_array()
                    .is_some_and(|v| v.iter().any(|f| f["field"] == "message.token"))
            });
            about_token
                || error["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("registration token"))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: serde_json::Value) -> Answer {
        Answer {
            status,
            retry_after: Some(7),
            body: body.to_string().into(),
        }
    }

    fn fcm_error(status: u16, code: &str, message: &str) -> serde_json::Value {
        serde_json::json!({"error": {"code": status, "message": message, "status": code,
            "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                         "errorCode": code}]}})
    }

    #[test]
    fn only_errors_about_the_token_make_it_stale() {
        let unregistered = fcm_error(404, "UNREGISTERED", "Requested entity was not found.");
        assert_eq!(classify(&answer(404, unregistered)), Outcome::Stale);
        let bad_token = fcm_error(
            400,
            "INVALID_ARGUMENT",
            "The registration token is not a valid FCM registration token",
        );
        assert_eq!(classify(&answer(400, bad_token)), Outcome::Stale);
        // A field of ours at fault: every phone's token would go if this were "stale".
        let bad_field = fcm_error(400, "INVALID_ARGUMENT", "Invalid value at 'message.data'");
        assert_eq!(classify(&answer(400, bad_field)), Outcome::Rejected);
        assert_eq!(
            classify(&answer(400, serde_json::json!("not an error body"))),
            Outcome::Rejected
        );
    }

    #[test]
    fn overload_is_retried_after_the_vendors_delay() {
        let quota = fcm_error(429, "QUOTA_EXCEEDED", "quota");
        assert_eq!(
            classify(&answer(429, quota)),
            Outcome::Retry { after: Some(7) }
        );
        assert_eq!(
            classify(&answer(503, serde_json::json!({}))),
            Outcome::Retry { after: Some(7) }
        );
    }
}
