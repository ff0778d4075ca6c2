//! The push cap (push bombing): pushes that follow a correct password (a sign-in, a password
//! change, or a reset started where the owner succeeded lately) are counted apart from those
//! anyone can cause by naming the account (a reset start), each in a token bucket per
//! account that refills with time. A stranger's flood
//! empties only the anonymous bucket: the owner's own sign-in still reaches the phone.
//! Each withheld push writes a `push_flood` audit event, which the owner reads through
//! `GET /api/v1/session/notices` once signed in.

use super::ClientKey;
use super::backend::Key;
use super::fields::username_key;
use crate::limits::Limit;
use crate::metrics::ActionLabel;
use crate::notify::Notice;
use crate::state::AppState;
use crate::store::User;

/// Whether a push may go to `user`'s phones for this flow; `after_password` when the flow
/// began with the account's correct password. A reset started from an address where the
/// owner succeeded lately counts as after a password too: a stranger's flood of anonymous
/// starts must not keep the owner's own reset from reaching the phone. A refusal is audited.
/// The buckets are the limiter's: shared by every replica when the store shares them. If
/// the shared counters cannot be reached the push is withheld and logged: the store is down
/// then, and the flow fails on its next write anyway.
pub fn allow(state: &AppState, user: &User, after_password: bool, client_ip: &str) -> bool {
    let limits = &state.config().limits;
    let limiter = &state.0.limiter;
    let after = [(
        Key::Push("after_password", user.id),
        limits.push_after_password,
    )];
    let anonymous = [(Key::Push("anonymous", user.id), limits.push_anonymous)];
    // After the password, the cap after the password; else the owner's address (read in
    // the same call as the take) earns it too.
    let taken = match client_ip.parse() {
        _ if after_password => limiter.take(&after).map(|taken| (true, taken)),
        Ok(ip) => limiter.take_trusting(
            &username_key(&user.username),
            ClientKey::of(ip),
            &after,
            &anonymous,
        ),
        Err(_) => limiter.take(&anonymous).map(|taken| (false, taken)),
    };
    let (which, limit) = match &taken {
        Ok((true, _)) => ("after_password", limits.push_after_password),
        _ => ("anonymous", limits.push_anonymous),
    };
    match taken.map(|(_, taken)| taken) {
        Ok(Ok(())) => true,
        Ok(Err(_)) => {
            state
                .metrics()
                .rate_limited
                .get_or_create(&ActionLabel { action: "push" })
                .inc();
            // Told once per window of the cap, however many pushes it withholds.
            let once = Limit {
                max: 1,
                window: limit.window,
            };
            if let Ok(Ok(())) = limiter.take(&[(Key::Push("flood_notice", user.id), once)]) {
                state.notify(user, Notice::PushFlood);
            }
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
        Err(error) => {
            crate::log(&format!("push cap unavailable, push withheld: {error}"));
            false
        }
    }
}
