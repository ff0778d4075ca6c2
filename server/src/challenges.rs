//! Challenges: creating them for a flow (signed, pushed, waking long polls) and taking
//! the device's answer.

use cityauth_protocol::canonical::{answer_message, challenge_message};
use cityauth_protocol::wire::{
    AnswerRequest, Challenge, ChallengeKind, Decision, MAX_CHALLENGE_LIFETIME, SignedChallenge,
};
use cityauth_protocol::{PublicKey, Signature};

use crate::error::ApiError;
use crate::limits::{self, Attempt, ClientKey, fields, pushes};
use crate::push::PushMessage;
use crate::state::AppState;
use crate::store::{ChallengeState, Device, Factor, Flow, FlowState, StoredChallenge, User};
use crate::util::{ct_eq, now, random_token};

/// Who asked, for the challenge's context.
#[derive(Debug, Clone)]
pub struct Origin {
    /// What the employee is approving.
    pub kind: ChallengeKind,
    /// The application asking.
    pub application: String,
    /// The browser's IP.
    pub client_ip: std::net::IpAddr,
}

/// Signs a challenge.
fn sign(state: &AppState, challenge: Challenge) -> Result<SignedChallenge, ApiError> {
    let signature = state
        .signing_key()
        .sign(&challenge_message(&challenge))
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(SignedChallenge {
        challenge,
        signature: signature.to_string(),
    })
}

fn build(
    state: &AppState,
    device_id: &str,
    user: &str,
    origin: &Origin,
    digits: u8,
) -> Result<Challenge, ApiError> {
    let created_at = now();
    let lifetime = state
        .config()
        .challenge_lifetime
        .min(MAX_CHALLENGE_LIFETIME);
    Ok(Challenge {
        id: random_token()?,
        device_id: device_id.to_owned(),
        kind: origin.kind,
        account: user.to_owned(),
        application: origin.application.clone(),
        client_ip: origin.client_ip.to_string(),
        location: crate::location::locate(origin.client_ip).to_owned(),
        created_at,
        expires_at: created_at + lifetime,
        nonce: random_token()?,
        number_digits: digits,
    })
}

/// A flow's challenges, signed and not yet stored or pushed.
pub struct Prepared {
    /// One per device, with its platform and push token.
    challenges: Vec<(StoredChallenge, String, Option<String>)>,
}

impl Prepared {
    /// The challenges to store with the flow.
    pub fn challenges(&self) -> Vec<StoredChallenge> {
        self.challenges.iter().map(|(c, _, _)| c.clone()).collect()
    }

    /// How many pushes it holds.
    pub fn len(&self) -> usize {
        self.challenges.len()
    }

    /// True if it holds none (no device, a blocked account, over the push cap).
    pub fn is_empty(&self) -> bool {
        self.challenges.is_empty()
    }
}

/// Signs `flow`'s challenge for each of the user's devices, unless the account is blocked or
/// over its push cap (anonymous and after-password pushes apart: [`pushes`]). With no user,
/// or none to send, it signs one throwaway challenge, so that an unknown name costs about
/// what a known one does.
pub fn prepare(
    state: &AppState,
    user: Option<&User>,
    flow: &Flow,
    origin: &Origin,
) -> Result<Prepared, ApiError> {
    let digits = u8::try_from(flow.number.len()).unwrap_or(0);
    let challenges = match user {
        Some(user) => prepare_for_devices(state, user, flow, origin, digits)?,
        None => {
            // The same device lookup a real account costs.
            state.store().devices_of(0)?;
            Vec::new()
        }
    };
    if challenges.is_empty() {
        sign(state, build(state, "none", &flow.username, origin, digits)?)?;
    }
    Ok(Prepared { challenges })
}

/// Pushes the prepared challenges, once stored, and wakes the devices' long polls.
pub fn deliver(state: &AppState, flow: &Flow, prepared: Prepared) {
    for (challenge, platform, push_token) in prepared.challenges {
        let c = &challenge.signed.challenge;
        state.0.push.send(PushMessage {
            device_id: c.device_id.clone(),
            platform,
            push_token,
            challenge_id: c.id.clone(),
        });
        state.0.waiters.stored(&c.device_id);
        state.audit(
            Some(&c.account),
            "push_sent",
            &format!("challenge {} to device {}", c.id, c.device_id),
            Some(&flow.client_ip),
        );
    }
}

/// Sends `flow`'s challenge to each of the user's devices (see [`prepare`]), storing each;
/// returns how many were sent.
pub fn send_for_flow(
    state: &AppState,
    user: Option<&User>,
    flow: &Flow,
    origin: &Origin,
) -> Result<usize, ApiError> {
    let prepared = prepare(state, user, flow, origin)?;
    for challenge in prepared.challenges() {
        state.store().challenge_insert(&challenge)?;
    }
    let sent = prepared.len();
    deliver(state, flow, prepared);
    Ok(sent)
}

fn prepare_for_devices(
    state: &AppState,
    user: &User,
    flow: &Flow,
    origin: &Origin,
    digits: u8,
) -> Result<Vec<(StoredChallenge, String, Option<String>)>, ApiError> {
    if user.blocked {
        state.audit(
            Some(&user.username),
            "push_suppressed",
            "account blocked by a fraud report",
            Some(&flow.client_ip),
        );
        return Ok(Vec::new());
    }
    let devices = state.store().devices_of(user.id)?;
    // The cap counts requests for approval (one per flow, whatever the number of phones).
    let after_password = flow.kind != ChallengeKind::PasswordReset;
    if devices.is_empty() || !pushes::allow(state, user, after_password, &flow.client_ip) {
        return Ok(Vec::new());
    }
    let mut prepared = Vec::with_capacity(devices.len());
    for device in devices {
        let signed = sign(
            state,
            build(state, &device.device.id, &user.username, origin, digits)?,
        )?;
        let challenge = StoredChallenge {
            signed,
            flow_id: flow.id.clone(),
            number: flow.number.clone(),
            state: ChallengeState::Pending,
        };
        prepared.push((challenge, device.device.platform, device.device.push_token));
    }
    Ok(prepared)
}

/// What an accepted answer did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Approved with the right number.
    Approved,
    /// Denied.
    Denied,
    /// Denied and fraud reported.
    FraudReported,
}

impl Outcome {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Approved => "approved",
            Outcome::Denied => "denied",
            Outcome::FraudReported => "fraud_reported",
        }
    }
}

/// Takes a device's answer to challenge `id` (`docs/protocol.md`, section 4).
pub fn answer(
    state: &AppState,
    device: &Device,
    id: &str,
    request: &AnswerRequest,
    ip: &str,
) -> Result<Outcome, ApiError> {
    fields::id("challenge id", id)?;
    if request.challenge_id != id {
        return Err(ApiError::BadRequest(
            "challenge_id differs from the path".into(),
        ));
    }
    let device_id = device.device.id.as_str();
    let stored = state.store().challenge(id)?.ok_or(ApiError::NotFound)?;
    let challenge = &stored.signed.challenge;
    if challenge.device_id != device_id {
        return Err(ApiError::NotFound);
    }
    let signature =
        Signature::from_base64(&request.signature).map_err(|_| ApiError::InvalidSignature)?;
    let key = PublicKey::from_bytes(&device.device.public_key)
        .map_err(|_| ApiError::Internal("a stored device key is malformed".into()))?;
    if !key.verify(&answer_message(device_id, request), &signature) {
        return Err(ApiError::InvalidSignature);
    }
    if !ct_eq(request.nonce.as_bytes(), challenge.nonce.as_bytes()) {
        return Err(ApiError::BadRequest(
            "the nonce is not the challenge's".into(),
        ));
    }
    match stored.state {
        ChallengeState::Pending => {}
        ChallengeState::Expired => return Err(ApiError::Expired),
        _ => return Err(ApiError::AlreadyAnswered),
    }
    if now() >= challenge.expires_at {
        expire(state, &stored, ip)?;
        return Err(ApiError::Expired);
    }
    let account = challenge.account.as_str();
    let detail = |what: &str| format!("challenge {id} from device {device_id}: {what}");
    let (to, outcome) = match request.decision {
        Decision::Approve => {
            let typed = request.number.as_deref().unwrap_or("");
            if !stored.number.is_empty() && !ct_eq(typed.as_bytes(), stored.number.as_bytes()) {
                if state
                    .store()
                    .challenge_decide(id, ChallengeState::Failed, FlowState::Denied)?
                {
                    used(state, device_id);
                    wrong_number(state, account, &stored.flow_id)?;
                    state.audit(
                        Some(account),
                        "challenge_wrong_number",
                        &detail("failed"),
                        Some(ip),
                    );
                    return Err(ApiError::WrongNumber);
                }
                return Err(ApiError::AlreadyAnswered);
            }
            (ChallengeState::Approved, Outcome::Approved)
        }
        Decision::Deny => (ChallengeState::Denied, Outcome::Denied),
        Decision::Fraud => (ChallengeState::Fraud, Outcome::FraudReported),
    };
    let flow_state = if outcome == Outcome::Approved {
        FlowState::Verified
    } else {
        FlowState::Denied
    };
    // A fraud report ends the account's sessions and open flows with the answer itself.
    let decided = if outcome == Outcome::FraudReported {
        state.store().challenge_report_fraud(id, device.user_id)?
    } else {
        state.store().challenge_decide(id, to, flow_state)?
    };
    if !decided {
        return Err(ApiError::AlreadyAnswered);
    }
    used(state, device_id);
    let metrics = state.metrics();
    match outcome {
        Outcome::Approved => metrics.approvals.inc(),
        Outcome::Denied => metrics.denials.inc(),
        Outcome::FraudReported => metrics.fraud_reports.inc(),
    };
    if outcome == Outcome::Approved {
        limits::approved_on_phone(state, account)?;
    }
    if outcome == Outcome::FraudReported {
        if let Some(user) = state.store().user_by_name(account)? {
            state.notify(&user, crate::notify::Notice::FraudReported);
        }
        state.audit(
            Some(account),
            "fraud_reported",
            &detail("pushes blocked; sessions, open flows and unused codes ended"),
            Some(ip),
        );
    }
    state.audit(
        Some(account),
        "challenge_answer",
        &detail(outcome.as_str()),
        Some(ip),
    );
    Ok(outcome)
}

/// Records that a challenge was answered too late. The refusal is kept as the challenge's
/// state: a server clock that jumped forward and is then put back must not make the same
/// challenge answerable again.
fn expire(state: &AppState, stored: &StoredChallenge, ip: &str) -> Result<(), ApiError> {
    let challenge = &stored.signed.challenge;
    if state
        .store()
        .challenge_resolve(&challenge.id, ChallengeState::Expired)?
    {
        state.audit(
            Some(&challenge.account),
            "challenge_expired",
            &format!(
                "challenge {} from device {}: answered after its lifetime",
                challenge.id, challenge.device_id
            ),
            Some(ip),
        );
    }
    Ok(())
}

/// Records that the phone answered now, for Security info's "last used". The answer is
/// decided already: a failure to record it is logged, not turned into a failed answer.
pub(crate) fn used(state: &AppState, device_id: &str) {
    if let Err(error) = state.store().phone_used(device_id, now()) {
        tracing::warn!(%error, device_id, "the phone's last use was not recorded");
    }
}

/// A wrong number typed on the phone counts toward the account's lockout, as a failed
/// password would: for the account, and for the (username, client) pair of the browser that
/// started the flow, whose number the phone was not shown.
fn wrong_number(state: &AppState, account: &str, flow_id: &str) -> Result<(), ApiError> {
    let Some(flow) = state.store().flow(flow_id)? else {
        return Ok(());
    };
    let client = flow
        .client_ip
        .parse()
        .map(ClientKey::of)
        .map_err(|_| ApiError::Internal("a stored client address does not parse".into()))?;
    let name = fields::username_key(account);
    limits::failed(
        state,
        &Attempt {
            factor: Factor::Password,
            name: &name,
            client,
        },
    )
}
