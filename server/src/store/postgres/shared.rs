//! The shared limiter on PostgreSQL: token buckets, failure runs and trusted pairs in
//! UNLOGGED tables (schema migration 2 says why), each call one statement (several buckets'
//! takes and the trust read that picks them too, through the `limit_take` function of
//! migration 3), so two replicas counting at once both count (the row lock of `ON CONFLICT
//! DO UPDATE` orders them). The rules are the in-memory limiter's (`limits/buckets.rs`,
//! `limits/lockout.rs`), written in SQL.

use std::sync::Arc;

use super::super::shared::{LimitKey, LockPolicy, SharedLimiter};
use super::super::{StoreError, StoreResult};
use super::pool::{Conn, Pool};
use crate::limits::Limit;

/// [`SharedLimiter`] over the store's pool.
pub(super) struct PgLimiter {
    pub(super) pool: Arc<Pool>,
}

/// Milliseconds to the database's BIGINT.
fn ms(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// The buckets' columns for `limit_take` (schema migration 3): keys, sizes, refill rates
/// (tokens per millisecond).
fn columns(buckets: &[(LimitKey, Limit)]) -> (Vec<Vec<u8>>, Vec<f64>, Vec<f64>) {
    let keys = buckets.iter().map(|(key, _)| key.0.to_vec()).collect();
    let maxes = buckets.iter().map(|(_, l)| f64::from(l.max)).collect();
    let rates = buckets.iter().map(|(_, l)| rate(*l)).collect();
    (keys, maxes, rates)
}

/// Tokens per millisecond `limit` refills.
fn rate(limit: Limit) -> f64 {
    f64::from(limit.max) / (limit.window.max(1) as f64 * 1000.0)
}

/// Seconds until a bucket of `limit` holding `tokens` has one again.
fn wait_seconds(limit: Limit, tokens: f64) -> u64 {
    let rate = rate(limit);
    if rate <= 0.0 {
        return limit.window.max(1);
    }
    let wait_ms = (1.0 - tokens) / rate;
    ((wait_ms / 1000.0).ceil() as u64).max(1)
}

/// Reads the pair `trust` (if any), then takes a token from each bucket of the set it picks
/// in turn, stopping at the first empty one: the refill, the cap and each take are a
/// conditional upsert in `limit_take`, all in one statement. Whether the pair was trusted,
/// and `None` if every token was taken, else the seconds until the empty one has one.
fn take_all(
    c: &mut Conn,
    trust: Option<LimitKey>,
    trusted: &[(LimitKey, Limit)],
    untrusted: &[(LimitKey, Limit)],
    now_ms: u64,
) -> StoreResult<(bool, Option<u64>)> {
    let (keys, maxes, rates) = columns(untrusted);
    let (t_keys, t_maxes, t_rates) = columns(trusted);
    let trust = trust.map(|key| key.0.to_vec());
    let row = c.query_one(
        "SELECT trusted, empty, tokens FROM limit_take($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            &ms(now_ms),
            &trust,
            &keys,
            &maxes,
            &rates,
            &t_keys,
            &t_maxes,
            &t_rates,
        ],
    )?;
    let is: bool = row.try_get(0)?;
    let empty: Option<i32> = row.try_get(1)?;
    let Some(empty) = empty else {
        return Ok((is, None));
    };
    let tokens: f64 = row.try_get::<_, Option<f64>>(2)?.unwrap_or(0.0);
    let buckets = if is { trusted } else { untrusted };
    let limit = usize::try_from(empty)
        .ok()
        .and_then(|i| buckets.get(i.checked_sub(1)?))
        .map(|(_, limit)| *limit)
        .ok_or(StoreError::Unsupported(
            "the limiter answered an unknown bucket",
        ))?;
    Ok((is, Some(wait_seconds(limit, tokens))))
}

impl SharedLimiter for PgLimiter {
    fn take(&self, buckets: &[(LimitKey, Limit)], now_ms: u64) -> StoreResult<Option<u64>> {
        let buckets = buckets.to_vec();
        self.pool
            .run(move |c| Ok(take_all(c, None, &[], &buckets, now_ms)?.1))
    }

    fn take_trusting(
        &self,
        trust: LimitKey,
        trusted: &[(LimitKey, Limit)],
        untrusted: &[(LimitKey, Limit)],
        now_ms: u64,
    ) -> StoreResult<(bool, Option<u64>)> {
        let (trusted, untrusted) = (trusted.to_vec(), untrusted.to_vec());
        self.pool
            .run(move |c| take_all(c, Some(trust), &trusted, &untrusted, now_ms))
    }

    fn run_locked(&self, key: LimitKey, now_ms: u64) -> StoreResult<bool> {
        self.pool.run(move |c| {
            Ok(c.query_opt(
                "SELECT locked_until_ms > $2 FROM limit_runs WHERE key = $1",
                &[&key.0.as_slice(), &ms(now_ms)],
            )?
            .map(|row| row.try_get(0))
            .transpose()?
            .unwrap_or(false))
        })
    }

    fn run_fail(&self, key: LimitKey, policy: LockPolicy, now_ms: u64) -> StoreResult<()> {
        let every = i64::from(policy.lock_after.max(1));
        let longest = ms(policy.lock_max_ms.max(policy.lock_ms));
        self.pool.run(move |c| {
            // Each `every`-th failure locks for lock_ms doubled per earlier lock (at most
            // 2^20 times), capped at the longest lock: `Run::fail`.
            c.execute(
                "INSERT INTO limit_runs AS r (key, failures, locked_until_ms, at_ms)
                 VALUES ($1, 1,
                         CASE WHEN $2::BIGINT = 1 THEN $3::BIGINT + LEAST($4::BIGINT, $5::BIGINT)
                              ELSE 0 END,
                         $3::BIGINT)
                 ON CONFLICT (key) DO UPDATE SET
                     failures = r.failures + 1,
                     at_ms = $3::BIGINT,
                     locked_until_ms = CASE WHEN (r.failures + 1) % $2::BIGINT = 0
                         THEN $3::BIGINT + LEAST($4::BIGINT::NUMERIC
                                 * (1::BIGINT << LEAST((r.failures + 1) / $2::BIGINT - 1, 20)::INT),
                                 $5::BIGINT)::BIGINT
                         ELSE r.locked_until_ms END",
                &[
                    &key.0.as_slice(),
                    &every,
                    &ms(now_ms),
                    &ms(policy.lock_ms),
                    &longest,
                ],
            )?;
            Ok(())
        })
    }

    fn run_clear(&self, key: LimitKey) -> StoreResult<()> {
        self.pool.run(move |c| {
            c.execute(
                "DELETE FROM limit_runs WHERE key = $1",
                &[&key.0.as_slice()],
            )?;
            Ok(())
        })
    }

    fn trusted(&self, key: LimitKey, now_ms: u64) -> StoreResult<bool> {
        self.pool.run(move |c| {
            Ok(c.query_opt(
                "SELECT until_ms > $2 FROM limit_trusted WHERE key = $1",
                &[&key.0.as_slice(), &ms(now_ms)],
            )?
            .map(|row| row.try_get(0))
            .transpose()?
            .unwrap_or(false))
        })
    }

    fn trust(&self, key: LimitKey, until_ms: u64) -> StoreResult<()> {
        self.pool.run(move |c| {
            c.execute(
                "INSERT INTO limit_trusted (key, until_ms) VALUES ($1, $2)
                 ON CONFLICT (key) DO UPDATE SET until_ms = excluded.until_ms",
                &[&key.0.as_slice(), &ms(until_ms)],
            )?;
            Ok(())
        })
    }
}

/// How long an unlocked run without a new failure is kept, milliseconds: the in-memory
/// limiter forgets idle runs when its table is full; here a day of quiet forgets one.
const RUN_KEPT_MS: u64 = 24 * 3600 * 1000;

/// Deletes the limiter's rows at rest: full buckets, expired trust, old unlocked runs.
pub(super) fn sweep(c: &mut Conn, now_ms: u64) -> StoreResult<()> {
    c.execute(
        "DELETE FROM limit_buckets WHERE full_ms <= $1",
        &[&ms(now_ms)],
    )?;
    c.execute(
        "DELETE FROM limit_trusted WHERE until_ms <= $1",
        &[&ms(now_ms)],
    )?;
    c.execute(
        "DELETE FROM limit_runs WHERE locked_until_ms <= $1 AND at_ms <= $2",
        &[&ms(now_ms), &ms(now_ms.saturating_sub(RUN_KEPT_MS))],
    )?;
    Ok(())
}
