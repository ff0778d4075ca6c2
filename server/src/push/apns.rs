//! APNs, token-based: HTTP/2 only, `POST /3/device/{token}` with an ES256 provider token
//! reused for up to 50 minutes (Apple refuses tokens older than an hour and throttles
//! renewing more often than every 20 minutes).
//!
//! The push type is `alert`, priority 10: an approval needs the employee now, and iOS
//! delivers background pushes (priority 5 only) at its own pace and not at all to an app
//! the user closed. The alert text is generic; the challenge is fetched over the signed
//! channel, so Apple sees only that one exists.

use std::time::{Duration, Instant};

use tokio::sync::Mutex;
use zeroize::Zeroizing;

use super::Outcome;
use super::config::{ApnsConfig, PushConfigError};
use super::http::{Answer, Endpoint, tls_config};
use super::jwt::ApnsKey;

/// How long one provider token is used.
const TOKEN_LIFE: Duration = Duration::from_secs(50 * 60);

/// The APNs sender.
pub struct Apns {
    key: ApnsKey,
    topic: String,
    api: Endpoint,
    expiration: u64,
    token: Mutex<Option<(Zeroizing<String>, Instant)>>,
}

impl Apns {
    /// The sender for `config`; a push expires after `expiration` seconds (the challenge's
    /// lifetime: later it could only show a dead challenge).
    pub fn new(
        config: &ApnsConfig,
        timeout: Duration,
        expiration: u64,
    ) -> Result<Self, PushConfigError> {
        let key = ApnsKey::from_file(&config.key_file, &config.key_id, &config.team_id)?;
        let tls = tls_config(config.ca_file.as_deref(), "push.ca_file", true)?;
        let api = Endpoint::new(&config.base_url, tls, true, timeout).map_err(|why| {
            PushConfigError::Value {
                setting: "push.apns_base_url",
                why,
            }
        })?;
        Ok(Self {
            key,
            topic: config.topic.clone(),
            api,
            expiration,
            token: Mutex::new(None),
        })
    }

    /// The provider token: the current one unless older than [`TOKEN_LIFE`] (or `renew`).
    async fn provider_token(&self, renew: bool) -> Option<Zeroizing<String>> {
        let mut cached = self.token.lock().await;
        if !renew
            && let Some((token, made)) = cached.as_ref()
            && made.elapsed() < TOKEN_LIFE
        {
            return Some(token.clone());
        }
        let token = Zeroizing::new(self.key.token(crate::util::now()).ok()?);
        *cached = Some((token.clone(), Instant::now()));
        Some(token)
    }

    /// One try at delivering `challenge_id` to the device `token`.
    pub async fn send(&self, token: &str, challenge_id: &str) -> Outcome {
        // A token is hex; anything else would change the path's meaning.
        if token.is_empty() || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Outcome::Stale;
        }
        let body = serde_json::json!({
            "aps": {
                // Keys of the app's String Catalog: the phone shows them in its own
                // language (English and Spanish); the server never picks one.
                "alert": {"title-loc-key": "push.title", "loc-key": "push.body"},
                "sound": "default",
            },
            "challenge_id": challenge_id,
        })
        .to_string();
        let path = format!("/3/device/{token}");
        let expiration = (crate::util::now() + self.expiration).to_string();
        let mut renewed = false;
        loop {
            let Some(jwt) = self.provider_token(renewed).await else {
                return Outcome::Retry { after: None };
            };
            let bearer = Zeroizing::new(format!("bearer {}", jwt.as_str()));
            let answer = match self
                .api
                .send(
                    "POST",
                    &path,
                    &[
                        ("authorization", bearer.as_str()),
                        ("apns-topic", &self.topic),
                        ("apns-push-type", "alert"),
                        ("apns-priority", "10"),
                        ("apns-expiration", &expiration),
                        ("content-type", "application/json"),
                    ],
                    body.clone().into_bytes(),
                )
                .await
            {
                Ok(answer) => answer,
                Err(_) => return Outcome::Retry { after: None },
            };
            let reason = reason_of(&answer);
            // Our token expired (clock skew, a long idle): a new one, once.
            if answer.status == 403 && reason == "ExpiredProviderToken" && !renewed {
                renewed = true;
                continue;
            }
            return classify(&answer, &reason);
        }
    }
}

/// The `reason` of an APNs error body.
fn reason_of(answer: &Answer) -> String {
    serde_json::from_slice::<serde_json::Value>(&answer.body)
        .ok()
        .and_then(|v| v["reason"].as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// What an APNs answer means.
fn classify(answer: &Answer, reason: &str) -> Outcome {
    match (answer.status, reason) {
        (200, _) => Outcome::Delivered,
        (410, _) | (400, "BadDeviceToken") => Outcome::Stale,
        (429, _) | (500..=599, _) => Outcome::Retry {
            after: answer.retry_after,
        },
        _ => Outcome::Rejected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(status: u16, reason: &str) -> Outcome {
        let answer = Answer {
            status,
            retry_after: None,
            body: serde_json::json!({ "reason": reason }).to_string().into(),
        };
        classify(&answer, &reason_of(&answer))
    }

    #[test]
    fn apns_answers_mean_what_apple_documents() {
        assert_eq!(outcome(200, ""), Outcome::Delivered);
        assert_eq!(outcome(410, "Unregistered"), Outcome::Stale);
        assert_eq!(outcome(400, "BadDeviceToken"), Outcome::Stale);
        // Our request at fault, not the phone's token: kept.
        assert_eq!(outcome(400, "BadTopic"), Outcome::Rejected);
        assert_eq!(outcome(403, "InvalidProviderToken"), Outcome::Rejected);
        assert_eq!(
            outcome(429, "TooManyRequests"),
            Outcome::Retry { after: None }
        );
        assert_eq!(
            outcome(503, "ServiceUnavailable"),
            Outcome::Retry { after: None }
        );
    }
}
