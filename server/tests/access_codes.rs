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

#[test]
fn an_access_code_past_its_lifetime_is_refused() {
    let h = Harness::start();
    h.add_user("alice");
    let user = h.state().store().user_by_name("alice").unwrap().unwrap();
    // A reusable code that lives two seconds: it works, then its time runs out (the server's
    // clock is the system's; the console's shortest lifetime is ten minutes).
    let code = "K7QD-M2XP-4RTA-9WZE";
    let key = cityauth_server::util::access_code_key(code);
    let expires_at = common::now() + 2;
    h.state()
        .store()
        .access_code_create(
            &cityauth_server::util::sha256(key.as_bytes()),
            user.id,
            expires_at,
            true,
        )
        .unwrap();
    let sign_in = || {
        h.post(
            "/api/v1/signin/access-code",
            &json!({"username": "alice", "code": code}),
        )
    };
    assert_eq!(sign_in().status, 200, "within its lifetime");
    while common::now() <= expires_at {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let late = sign_in();
    assert_eq!((late.status, late.error()), (401, "invalid_credentials"));
    // The portal's reset with a code refuses it too.
    let form = common::browser::Browser::new(&h).post(
        "/forgot/access-code",
        &[("username", "alice"), ("code", code)],
    );
    assert_eq!(form.status, 401, "{}", form.html);
    let refused = cityauth_server::admin::audit(h.state(), Some("alice"), 100)
        .unwrap()
        .into_iter()
        .filter(|e| e.event == "access_code_refused")
        .count();
    assert_eq!(refused, 2);
}
