//! Issue 9, item 1: each device has its own City account OATH secret, and a removed device's
//! codes no longer verify a reset, however it was removed.

mod common;

use std::time::Duration;

use cityauth_protocol::wire::Decision;
use common::*;
use serde_json::json;

fn code_reply(h: &Harness, reset_id: &str, code: &str) -> Reply {
    h.post(
        &format!("/api/v1/reset/{reset_id}/code"),
        &json!({ "code": code }),
    )
}

/// The reproduction: unenroll → device list empty → the old code → a new password.
#[test]
fn an_unenrolled_phone_code_no_longer_verifies_a_reset() {
    let h = Harness::start();
    h.add_user("alice");
    let phone = h.enroll("alice");
    let removed = phone.request(&h, "DELETE", "/api/v1/device", None);
    assert_eq!(removed.status, 204, "{removed:?}");
    assert!(
        cityauth_server::admin::devices(h.state(), "alice")
            .unwrap()
            .is_empty()
    );
    let (reset_id, _) = h.start_reset("alice");
    let reply = code_reply(&h, &reset_id, &phone.code());
    assert_eq!(
        (reply.status, reply.error()),
        (422, "wrong_code"),
        "{reply:?}"
    );
    assert_eq!(h.reset_state(&reset_id), "pending");
    let password = h.post(
        &format!("/api/v1/reset/{reset_id}/password"),
        &json!({ "password": "Quiet-Meadow-Copper-Kite-19" }),
    );
    assert_eq!(
        (password.status, password.error()),
        (409, "not_verified"),
        "{password:?}"
    );
}

#[test]
fn each_device_gets_its_own_oath_secret() {
    let h = Harness::start();
    h.add_user("alice");
    let first = h.enroll("alice");
    let second = h.enroll("alice");
    assert_eq!(first.oath_secret.len(), 20);
    assert_ne!(first.oath_secret, second.oath_secret);
}

/// A phone removed by the help desk, or on Security info, loses its codes; another phone of
/// the account keeps working.
#[test]
fn a_phone_removed_by_the_help_desk_or_on_security_info_loses_its_reset_code() {
    let h = Harness::start();
    h.add_user("alice");
    let lost = h.enroll("alice");
    let kept = h.enroll("alice");
    let stolen = h.enroll("alice");

    assert!(cityauth_server::admin::remove_device(h.state(), "alice", &lost.id).unwrap());
    let (reset_id, _) = h.start_reset("alice");
    let reply = code_reply(&h, &reset_id, &lost.code());
    assert_eq!(
        (reply.status, reply.error()),
        (422, "wrong_code"),
        "{reply:?}"
    );
    // The second phone's code still verifies after the first is removed.
    let reply = code_reply(&h, &reset_id, &kept.code());
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(h.reset_state(&reset_id), "verified");

    // Security info: sign in with the kept phone's approval, remove the stolen one.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    // The portal takes only posts from its own origin (its public URL).
    let origin = h.state().config().public_url.clone();
    let started = h.post(
        "/api/v1/signin",
        &json!({ "username": "alice", "password": PASSWORD }),
    );
    assert_eq!(started.status, 200, "{started:?}");
    let signin_id = started.body["signin_id"].as_str().unwrap().to_owned();
    let number = started.body["number"].as_str().unwrap().to_owned();
    let challenge = kept.poll(&h, 5).remove(0);
    stolen.poll(&h, 0);
    let approved = kept.answer(&h, &challenge, Decision::Approve, Some(&number));
    assert_eq!(approved.status, 200, "{approved:?}");
    let session = h.post(&format!("/api/v1/signin/{signin_id}/session"), &json!({}));
    assert_eq!(session.status, 200, "{session:?}");
    let token = session.body["session"].as_str().unwrap().to_owned();
    // The portal's session cookie holds the same session token.
    let response = agent
        .post(h.url("/security/devices/remove"))
        .header("origin", &origin)
        .header("cookie", format!("cityauth_session={token}"))
        .send_form([("device", stolen.id.as_str())])
        .unwrap();
    assert_eq!(response.status().as_u16(), 303);
    let left: Vec<String> = cityauth_server::admin::devices(h.state(), "alice")
        .unwrap()
        .into_iter()
        .map(|d| d.device.id)
        .collect();
    assert_eq!(left, vec![kept.id.clone()], "removed on Security info");
    let (reset_id, _) = h.start_reset("alice");
    let reply = code_reply(&h, &reset_id, &stolen.code());
    assert_eq!(
        (reply.status, reply.error()),
        (422, "wrong_code"),
        "{reply:?}"
    );
}
