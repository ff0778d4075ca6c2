//! Flows and their challenges: inserted together, answered and decided in one step.

use super::super::{ChallengeState, Flow, FlowState, StoreError, StoreResult, StoredChallenge};
use super::ending;
use super::pool::Conn;
use super::rows::{challenge_from, flow_from, t};
use super::wake::CHANNEL;

/// Inserts a flow (with a password change's sealed passwords).
pub(super) fn insert_flow(
    c: &mut Conn,
    flow: &Flow,
    pending_passwords: Option<&[u8]>,
) -> StoreResult<()> {
    c.execute(
        "INSERT INTO flows (id, username, user_id, number, state, code_tries, client_ip,
                            created_at, expires_at, kind, pending_passwords)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        &[
            &flow.id,
            &flow.username,
            &flow.user_id,
            &flow.number,
            &flow.state.as_str(),
            &i64::from(flow.code_tries),
            &flow.client_ip,
            &t(flow.created_at),
            &t(flow.expires_at),
            &flow.kind.as_str(),
            &pending_passwords,
        ],
    )?;
    Ok(())
}

/// Inserts a challenge and notifies its device's long polls (`wake.rs`), in one statement:
/// the notification is delivered when it commits, so a woken poll finds the challenge.
pub(super) fn insert_challenge(c: &mut Conn, challenge: &StoredChallenge) -> StoreResult<()> {
    let body = serde_json::to_string(&challenge.signed.challenge)
        .map_err(|_| StoreError::Unsupported("a challenge could not be encoded"))?;
    let signed = &challenge.signed.challenge;
    c.query(
        "WITH inserted AS (
             INSERT INTO challenges (id, device_id, flow_id, body, signature, number,
                                     expires_at, state)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             RETURNING device_id)
         SELECT pg_notify($9, device_id) FROM inserted",
        &[
            &signed.id,
            &signed.device_id,
            &challenge.flow_id,
            &body,
            &challenge.signed.signature,
            &challenge.number,
            &t(signed.expires_at),
            &challenge.state.as_str(),
            &CHANNEL,
        ],
    )?;
    Ok(())
}

/// A flow and its challenges, in one statement (its own transaction: both or neither; one
/// round trip instead of four with BEGIN and COMMIT), notifying each challenge's device
/// (delivered at the commit). The challenges go in as arrays, in their order.
pub(super) fn insert_with(
    c: &mut Conn,
    flow: &Flow,
    challenges: &[StoredChallenge],
) -> StoreResult<()> {
    let mut columns = ChallengeColumns::default();
    for challenge in challenges {
        columns.push(challenge)?;
    }
    c.query(
        "WITH flow AS (
             INSERT INTO flows (id, username, user_id, number, state, code_tries, client_ip,
                                created_at, expires_at, kind, pending_passwords)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL)
             RETURNING id),
         inserted AS (
             INSERT INTO challenges (id, device_id, flow_id, body, signature, number,
                                     expires_at, state)
             SELECT n.id, n.device_id, n.flow_id, n.body, n.signature, n.number,
                    n.expires_at, n.state
             FROM unnest($11::TEXT[], $12::TEXT[], $13::TEXT[], $14::TEXT[], $15::TEXT[],
                         $16::TEXT[], $17::BIGINT[], $18::TEXT[])
                      WITH ORDINALITY
                      AS n (id, device_id, flow_id, body, signature, number, expires_at,
                            state, i)
             CROSS JOIN flow
             ORDER BY n.i
             RETURNING device_id)
         SELECT pg_notify($19, device_id) FROM inserted",
        &[
            &flow.id,
            &flow.username,
            &flow.user_id,
            &flow.number,
            &flow.state.as_str(),
            &i64::from(flow.code_tries),
            &flow.client_ip,
            &t(flow.created_at),
            &t(flow.expires_at),
            &flow.kind.as_str(),
            &columns.id,
            &columns.device_id,
            &columns.flow_id,
            &columns.body,
            &columns.signature,
            &columns.number,
            &columns.expires_at,
            &columns.state,
            &CHANNEL,
        ],
    )?;
    Ok(())
}

/// Challenges as one array per column, for one `INSERT ... SELECT FROM unnest(...)`.
#[derive(Default)]
struct ChallengeColumns {
    id: Vec<String>,
    device_id: Vec<String>,
    flow_id: Vec<String>,
    body: Vec<String>,
    signature: Vec<String>,
    number: Vec<String>,
    expires_at: Vec<i64>,
    state: Vec<&'static str>,
}

impl ChallengeColumns {
    fn push(&mut self, challenge: &StoredChallenge) -> StoreResult<()> {
        let signed = &challenge.signed.challenge;
        self.body.push(
            serde_json::to_string(signed)
                .map_err(|_| StoreError::Unsupported("a challenge could not be encoded"))?,
        );
        self.id.push(signed.id.clone());
        self.device_id.push(signed.device_id.clone());
        self.flow_id.push(challenge.flow_id.clone());
        self.signature.push(challenge.signed.signature.clone());
        self.number.push(challenge.number.clone());
        self.expires_at.push(t(signed.expires_at));
        self.state.push(challenge.state.as_str());
        Ok(())
    }
}

/// A challenge by id.
pub(super) fn challenge(c: &mut Conn, id: &str) -> StoreResult<Option<StoredChallenge>> {
    c.query_opt(
        "SELECT body, signature, flow_id, number, state FROM challenges WHERE id = $1",
        &[&id],
    )?
    .map(|row| challenge_from(&row))
    .transpose()
}

/// A device's pending, unexpired challenges, oldest first.
pub(super) fn pending(
    c: &mut Conn,
    device_id: &str,
    now: u64,
) -> StoreResult<Vec<StoredChallenge>> {
    c.query(
        "SELECT body, signature, flow_id, number, state FROM challenges
         WHERE device_id = $1 AND state = 'pending' AND expires_at > $2 ORDER BY seq",
        &[&device_id, &t(now)],
    )?
    .iter()
    .map(challenge_from)
    .collect()
}

/// Moves a pending challenge to `to`.
pub(super) fn resolve(c: &mut Conn, id: &str, to: ChallengeState) -> StoreResult<bool> {
    Ok(c.execute(
        "UPDATE challenges SET state = $2 WHERE id = $1 AND state = 'pending'",
        &[&id, &to.as_str()],
    )? == 1)
}

/// Answers pending challenge `id` and decides its flow; part of the caller's transaction.
/// The conditional update takes the challenge's row lock: a second replica answering the
/// same challenge waits for this transaction, then finds it no longer pending.
fn decide(c: &mut Conn, id: &str, to: ChallengeState, flow_to: FlowState) -> StoreResult<bool> {
    let Some(row) = c.query_opt(
        "UPDATE challenges SET state = $2 WHERE id = $1 AND state = 'pending' RETURNING flow_id",
        &[&id, &to.as_str()],
    )?
    else {
        return Ok(false);
    };
    let flow_id: String = row.try_get(0)?;
    c.execute(
        "UPDATE flows SET state = $2 WHERE id = $1 AND state = 'pending'",
        &[&flow_id, &flow_to.as_str()],
    )?;
    cancel_flow(c, &flow_id)?;
    Ok(true)
}

/// Answers a challenge and decides its flow, in one statement: [`decide`]'s three updates as
/// data-modifying CTEs, atomic as one transaction and one round trip instead of five. The
/// first update's row lock still orders two replicas answering the same challenge: the
/// second waits, re-checks `state = 'pending'`, updates nothing, and so decides nothing. The
/// answered challenge itself is left out of the cancelling update (one statement must not
/// update a row twice).
pub(super) fn challenge_decide(
    c: &mut Conn,
    id: &str,
    to: ChallengeState,
    flow_to: FlowState,
) -> StoreResult<bool> {
    Ok(c.query_opt(
        "WITH answered AS (
             UPDATE challenges SET state = $2 WHERE id = $1 AND state = 'pending'
             RETURNING flow_id),
         decided AS (
             UPDATE flows SET state = $3 FROM answered
             WHERE flows.id = answered.flow_id AND flows.state = 'pending'),
         cancelled AS (
             UPDATE challenges SET state = 'cancelled' FROM answered
             WHERE challenges.flow_id = answered.flow_id AND challenges.state = 'pending'
               AND challenges.id <> $1)
         SELECT flow_id FROM answered",
        &[&id, &to.as_str(), &flow_to.as_str()],
    )?
    .is_some())
}

/// A fraud report: the challenge answered and the account's state ended, in one transaction.
pub(super) fn report_fraud(c: &mut Conn, id: &str, user_id: i64) -> StoreResult<bool> {
    c.transaction(|c| {
        if !decide(c, id, ChallengeState::Fraud, FlowState::Denied)? {
            return Ok(false);
        }
        ending::on_fraud(c, user_id)?;
        Ok(true)
    })
}

/// Cancels a flow's pending challenges.
pub(super) fn cancel_flow(c: &mut Conn, flow_id: &str) -> StoreResult<()> {
    c.execute(
        "UPDATE challenges SET state = 'cancelled' WHERE flow_id = $1 AND state = 'pending'",
        &[&flow_id],
    )?;
    Ok(())
}

/// A flow by id.
pub(super) fn flow(c: &mut Conn, id: &str) -> StoreResult<Option<Flow>> {
    c.query_opt(
        "SELECT id, username, user_id, number, state, code_tries, client_ip, created_at,
                expires_at, kind
         FROM flows WHERE id = $1",
        &[&id],
    )?
    .map(|row| flow_from(&row))
    .transpose()
}

/// Moves a flow from `from` to `to`.
pub(super) fn transition(
    c: &mut Conn,
    id: &str,
    from: FlowState,
    to: FlowState,
) -> StoreResult<bool> {
    Ok(c.execute(
        "UPDATE flows SET state = $3 WHERE id = $1 AND state = $2",
        &[&id, &from.as_str(), &to.as_str()],
    )? == 1)
}

/// Counts one code try; the tries now counted.
pub(super) fn code_try(c: &mut Conn, id: &str) -> StoreResult<u32> {
    let tries: i64 = c
        .query_one(
            "UPDATE flows SET code_tries = code_tries + 1 WHERE id = $1 RETURNING code_tries",
            &[&id],
        )?
        .try_get(0)?;
    Ok(u32::try_from(tries).unwrap_or(u32::MAX))
}
