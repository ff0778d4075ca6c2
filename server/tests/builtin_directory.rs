//! The built-in store as the directory (the default): a reset to the current password is
//! refused as a directory's history rule would, and the reset stays retryable.

mod common;

use common::*;
use serde_json::json;

#[test]
fn the_builtin_store_refuses_the_current_password_and_the_reset_stays_retryable() {
    let h = Harness::start();
    h.add_user("alice");
    let device = h.enroll("alice");
    let reset = h.verified_reset("alice", &device);
    let path = format!("/api/v1/reset/{reset}/password");
    let same = h.post(&path, &json!({ "password": PASSWORD }));
    assert_eq!(
        (same.status, same.error()),
        (422, "directory_refused"),
        "{same:?}"
    );
    assert_eq!(h.reset_state(&reset), "verified");
    let done = h.post(&path, &json!({ "password": "Velvet-Harbor-Quince-Drum-8" }));
    assert_eq!(done.status, 200, "{done:?}");
    let signed = h.post(
        "/api/v1/signin",
        &json!({"username": "alice", "password": "Velvet-Harbor-Quince-Drum-8"}),
    );
    assert_eq!(signed.status, 200, "{signed:?}");
}
