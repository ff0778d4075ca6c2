//! Help-desk access codes: single use, and only by the user they were issued to.

mod common;

use common::Harness;
use serde_json::json;

#[test]
fn an_access_code_is_not_consumed_by_a_request_naming_another_user() {
    let h = Harness::start();
    h.add_user("alice");
    h.add_user("bob");
    let code = cityauth_server::admin::access_code(h.state(), "alice").unwrap();

    let as_bob = h.post(
        "/api/v1/signin/access-code",
        &json!({"username": "bob", "code": code}),
    );
    assert_eq!(
        (as_bob.status, as_bob.error()),
        (401, "invalid_credentials")
    );
    let as_nobody = h.post(
        "/api/v1/signin/access-code",
        &json!({"username": "nobody", "code": code}),
    );
    assert_eq!(as_nobody.status, 401);

    let as_alice = h.post(
        "/api/v1/signin/access-code",
        &json!({"username": "alice", "code": code}),
    );
    assert_eq!(
        as_alice.status, 200,
        "alice's code still works: {as_alice:?}"
    );
    let again = h.post(
        "/api/v1/signin/access-code",
        &json!({"username": "alice", "code": code}),
    );
    assert_eq!(again.status, 401, "and only once");
}
