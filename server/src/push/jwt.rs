//! The two JSON Web Tokens the vendors want (RFC 7519, compact JWS): RS256 for Google's
//! OAuth2 service-account grant, ES256 for APNs' provider token. Signed with ring; the keys
//! are read from their PEM files once and never written anywhere else.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, RSA_PKCS1_SHA256, RsaKeyPair,
};
use rustls_pki_types::PrivatePkcs8KeyDer;
use rustls_pki_types::pem::PemObject;
use zeroize::Zeroizing;

use super::config::PushConfigError;

/// Why a token could not be signed.
#[derive(Debug, thiserror::Error)]
#[error("signing a push token failed")]
pub struct SignError;

/// `header.claims` in base64url, ready to sign.
fn signing_input(header: &serde_json::Value, claims: &serde_json::Value) -> String {
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

/// A PKCS#8 key from a PEM text (`-----BEGIN PRIVATE KEY-----`).
fn pkcs8_from_pem(pem: &[u8]) -> Result<PrivatePkcs8KeyDer<'static>, String> {
    PrivatePkcs8KeyDer::from_pem_slice(pem).map_err(|_| "no PKCS#8 private key in PEM".to_owned())
}

/// The fields of a Google service account's JSON key file that the grant needs.
#[derive(serde::Deserialize)]
struct ServiceAccountFile {
    client_email: String,
    private_key: String,
    token_uri: String,
    project_id: String,
}

/// A Google service account: who it is and its RS256 key.
pub struct ServiceAccount {
    /// The account's address: the JWT's `iss`.
    pub client_email: String,
    /// Where the signed JWT is exchanged for an access token: the JWT's `aud`.
    pub token_uri: String,
    /// The Firebase project the messages go to.
    pub project_id: String,
    key: RsaKeyPair,
}

impl std::fmt::Debug for ServiceAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ServiceAccount({})", self.client_email)
    }
}

/// The OAuth2 scope for sending FCM messages.
pub const FCM_SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";

impl ServiceAccount {
    /// Reads the JSON key file at `path`.
    pub fn from_file(path: &Path) -> Result<Self, PushConfigError> {
        const SETTING: &str = "push.fcm_service_account";
        let text = Zeroizing::new(
            std::fs::read(path).map_err(|e| PushConfigError::file(SETTING, path, e))?,
        );
        // serde_json's error names a line and column, never the content.
        let file: ServiceAccountFile =
            serde_json::from_slice(&text).map_err(|e| PushConfigError::file(SETTING, path, e))?;
        let private_key = Zeroizing::new(file.private_key);
        let der = pkcs8_from_pem(private_key.as_bytes())
            .map_err(|e| PushConfigError::file(SETTING, path, e))?;
        let key = RsaKeyPair::from_pkcs8(der.secret_pkcs8_der())
            .map_err(|e| PushConfigError::file(SETTING, path, format!("private_key: {e}")))?;
        if !file.token_uri.starts_with("https://") {
            return Err(PushConfigError::file(SETTING, path, "token_uri: not https"));
        }
        Ok(Self {
            client_email: file.client_email,
            token_uri: file.token_uri,
            project_id: file.project_id,
            key,
        })
    }

    /// The grant's assertion: an RS256 JWT valid for an hour from `now`.
    pub fn assertion(&self, now: u64) -> Result<String, SignError> {
        let header = serde_json::json!({"alg": "RS256", "typ": "JWT"});
        let claims = serde_json::json!({
            "iss": self.client_email,
            "scope": FCM_SCOPE,
            "aud": self.token_uri,
            "iat": now,
            "exp": now + 3600,
        });
        let input = signing_input(&header, &claims);
        let mut signature = vec![0; self.key.public().modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                input.as_bytes(),
                &mut signature,
            )
            .map_err(|_| SignError)?;
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
}

/// An APNs signing key (`.p8`) with its ids.
pub struct ApnsKey {
    key: EcdsaKeyPair,
    key_id: String,
    team_id: String,
}

impl std::fmt::Debug for ApnsKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ApnsKey({}/{})", self.team_id, self.key_id)
    }
}

impl ApnsKey {
    /// Reads the `.p8` file at `path`.
    pub fn from_file(path: &Path, key_id: &str, team_id: &str) -> Result<Self, PushConfigError> {
        const SETTING: &str = "push.apns_key_file";
        let pem = Zeroizing::new(
            std::fs::read(path).map_err(|e| PushConfigError::file(SETTING, path, e))?,
        );
        let der = pkcs8_from_pem(&pem).map_err(|e| PushConfigError::file(SETTING, path, e))?;
        let key = EcdsaKeyPair::from_pkcs8(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            der.secret_pkcs8_der(),
            &SystemRandom::new(),
        )
        .map_err(|e| PushConfigError::file(SETTING, path, format!("not a P-256 key: {e}")))?;
        Ok(Self {
            key,
            key_id: key_id.to_owned(),
            team_id: team_id.to_owned(),
        })
    }

    /// The provider token issued at `now` (ES256, `kid` the key id, `iss` the team).
    pub fn token(&self, now: u64) -> Result<String, SignError> {
        let header = serde_json::json!({"alg": "ES256", "kid": self.key_id});
        let claims = serde_json::json!({"iss": self.team_id, "iat": now});
        let input = signing_input(&header, &claims);
        // FIXED: r || s, 64 bytes, which is JWS's ES256 encoding (RFC 7518 §3.4).
        let signature = self
            .key
            .sign(&SystemRandom::new(), input.as_bytes())
            .map_err(|_| SignError)?;
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
}
