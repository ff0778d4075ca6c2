//! The store deletes what can no longer be used: stale nonces, and the sealed pending
//! passwords of password changes that expired or were denied.

use cityauth_protocol::wire::ChallengeKind;
use cityauth_server::store::{Flow, FlowState, NewUser, SqliteStore, Store};

fn change(id: &str, user_id: i64, state: FlowState, expires_at: u64) -> Flow {
    Flow {
        id: id.into(),
        kind: ChallengeKind::PasswordChange,
        username: "alice".into(),
        user_id: Some(user_id),
        number: "42".into(),
        state,
        code_tries: 0,
        client_ip: "127.0.0.1".into(),
        created_at: expires_at.saturating_sub(600),
        expires_at,
    }
}

fn pending_passwords(path: &std::path::Path, id: &str) -> Option<Vec<u8>> {
    rusqlite::Connection::open(path)
        .unwrap()
        .query_row(
            "SELECT pending_passwords FROM flows WHERE id = ?1",
            [id],
            |r| r.get(0),
        )
        .unwrap()
}

#[test]
fn expired_and_denied_password_changes_lose_their_sealed_passwords_live_ones_keep_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("city.sqlite");
    let store = SqliteStore::open(&path).unwrap();
    let user = store
        .user_create(&NewUser {
            username: "alice".into(),
            display_name: "Alice".into(),
            password_hash: "old".into(),
            created_at: 1_000,
        })
        .unwrap();
    let now = 10_000;
    store
        .password_change_insert(&change("expired", user, FlowState::Pending, now - 1), b"h1")
        .unwrap();
    store
        .password_change_insert(&change("denied", user, FlowState::Denied, now + 500), b"h2")
        .unwrap();
    store
        .password_change_insert(&change("live", user, FlowState::Pending, now + 500), b"h3")
        .unwrap();
    assert_eq!(
        pending_passwords(&path, "expired").as_deref(),
        Some(&b"h1"[..])
    );

    // The first signed request of the minute sweeps.
    assert!(store.nonce_use("device", "nonce-1", now, 300).unwrap());

    assert_eq!(pending_passwords(&path, "expired"), None);
    assert_eq!(pending_passwords(&path, "denied"), None);
    assert_eq!(
        pending_passwords(&path, "live").as_deref(),
        Some(&b"h3"[..])
    );
}
