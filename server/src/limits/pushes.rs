//! The push cap (push bombing): pushes that follow a correct password (a sign-in, a password
//! change) are counted apart from those anyone can cause by naming the account (a reset
//! start), each in a token bucket per account that refills with time. A stranger's flood
//! empties only the anonymous bucket: the owner's own sign-in still reaches the phone.
//! Each withheld push writes a `push_flood` audit event, which the owner reads through
//! `GET /api/v1/session/notices` once signed in.

use super::Limiter;
use crate::state::AppState;
use crate::store::User;

/// Whether a push may go to `user`'s phones for this flow; `after_password` when the flow
/// began with the account's correct password. A refusal is audited.
pub fn allow(state: &AppState, user: &User, after_password: bool, client_ip: &str) -> bool {
    let limits = &state.config().limits;
    let (which, limit) = if after_password {
        ("after_password", limits.push_after_password)
    } else {
        ("anonymous", limits.push_anonymous)
    };
    let limiter: &Limiter = &state.0.limiter;
    let key = limiter.buckets.key(("push", which, user.id));
    let now_ms = limiter.now_ms();
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
