//! The push cap (push bombing): pushes that follow a correct password (a sign-in, a password
//! change, or a reset started where the owner succeeded lately) are counted apart from those
//! anyone can cause by naming the account (a reset start), each in a token bucket per
//! account that refills with time. A stranger's flood
//! empties only the anonymous bucket: the owner's own sign-in still reaches the phone.
//! Each withheld push writes a `push_flood` audit event, which the owner reads through
//! `GET /api/v1/session/notices` once signed in.

use super::fields::username_key;
use super::{ClientKey, Limiter};
use crate::state::AppState;
use crate::store::User;

/// Whether a push may go to `user`'s phones for this flow; `after_password` when the flow
/// began with the account's correct password. A reset started from an address where the
/// owner succeeded lately counts as after a password too: a stranger's flood of anonymous
/// starts must not keep the owner's own reset from reaching the phone. A refusal is audited.
pub fn allow(state: &AppState, user: &User, after_password: bool, client_ip: &str) -> bool {
    let limits = &state.config().limits;
    let limiter: &Limiter = &state.0.limiter;
    let now_ms = limiter.now_ms();
    let owners = || {
        client_ip.parse().is_ok_and(|ip| {
            limiter.trusted(&username_key(&user.username), ClientKey::of(ip), now_ms)
        })
    };
    let (which, limit) = if after_password || owners() {
        ("after_password", limits.push_after_password)
    } else {
        ("anonymous", limits.push_anonymous)
    };
    let key = limiter.buckets.key(("push", which, user.id));
    match limiter.buckets.with(key, now_ms, |b| b.take(limit, now_ms)) {
        Ok(()) => true,
        Err(_) => {
            state.audit(
                Some(&user.username),
                "push_flood",
                &format!(
                    "{which} push withheld: more than {} per {} s",
                    limit.max, limit.window
                ),
                Some(client_ip),
            );
            false
        }
    }
}
