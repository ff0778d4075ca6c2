//! Enrollment and signed requests against a real server on loopback.

mod common;

use cityauth_protocol::SigningKey;
use common::*;

#[test]
fn enrollment_happy_path() {
    let h = Harness::start();
    h.add_user("alice");
    let link = h.enroll_link("alice");
    assert!(link.code.len() >= 43, "256-bit codes");
    let (key, _) = SigningKey::generate().unwrap();
    let reply = h.post("/api/v1/enroll", &enroll_body(&key, &link.code));
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.body["username"], "alice");
    assert_eq!(reply.body["display_name"], "Test Employee");
    assert!(reply.body["server_time"].as_u64().unwrap().abs_diff(now()) < 5);
    let oath = reply.body["oath_link"].as_str().unwrap();
    assert!(
        oath.starts_with("otpauth://totp/City:alice?secret="),
        "{oath}"
    );
    assert!(oath.ends_with("&issuer=City"));
    let devices = cityauth_server::admin::devices(h.state(), "alice").unwrap();
    assert_eq!(devices.len(), 1);
    assert_eq!(
        devices[0].device.id,
        reply.body["device_id"].as_str().unwrap()
    );
}

#[test]
fn enrollment_code_works_once() {
    let h = Harness::start();
    h.add_user("alice");
    let link = h.enroll_link("alice");
    let (first, _) = SigningKey::generate().unwrap();
    assert_eq!(
        h.post("/api/v1/enroll", &enroll_body(&first, &link.code))
            .status,
        200
    );
    let (second, _) = SigningKey::generate().unwrap();
    let reply = h.post("/api/v1/enroll", &enroll_body(&second, &link.code));
    assert_eq!(reply.status, 403);
    assert_eq!(reply.error(), "enrollment_code_invalid");
}

#[test]
fn unknown_and_expired_codes_are_refused_alike() {
    let h = Harness::start();
    h.add_user("alice");
    let (key, _) = SigningKey::generate().unwrap();
    let unknown = h.post("/api/v1/enroll", &enroll_body(&key, &nonce()));
    assert_eq!(
        (unknown.status, unknown.error()),
        (403, "enrollment_code_invalid")
    );
    // An expired code: issued straight into the store with a past expiry.
    let code = nonce();
    let user = h.state().store().user_by_name("alice").unwrap().unwrap();
    let hash = cityauth_server::util::sha256(code.as_bytes());
    h.state()
        .store()
        .enrollment_code_create(&hash, user.id, now() - 1)
        .unwrap();
    let expired = h.post("/api/v1/enroll", &enroll_body(&key, &code));
    assert_eq!(
        (expired.status, expired.error()),
        (403, "enrollment_code_invalid")
    );
    assert_eq!(
        expired.body, unknown.body,
        "one answer for every invalid code"
    );
}

#[test]
fn enrollment_needs_a_proof_from_the_key() {
    let h = Harness::start();
    h.add_user("alice");
    let link = h.enroll_link("alice");
    let (key, _) = SigningKey::generate().unwrap();
    let (other, _) = SigningKey::generate().unwrap();
    let mut body = enroll_body(&key, &link.code);
    body["device_public_key"] = other.public_key().to_string().into();
    let reply = h.post("/api/v1/enroll", &body);
    assert_eq!((reply.status, reply.error()), (401, "invalid_signature"));
    // The code was not consumed by the forged attempt.
    assert_eq!(
        h.post("/api/v1/enroll", &enroll_body(&key, &link.code))
            .status,
        200
    );
    let malformed = h.send("POST", "/api/v1/enroll", &[], Some(b"{not json"));
    assert_eq!((malformed.status, malformed.error()), (400, "bad_request"));
}

#[test]
fn signed_requests_refuse_bad_signatures_stale_times_and_replays() {
    let h = Harness::start();
    h.add_user("alice");
    let device = h.enroll("alice");
    let path = "/api/v1/device/challenges?wait=0";

    let ok = device.request(&h, "GET", path, None);
    assert_eq!(ok.status, 200, "{ok:?}");
    assert!(ok.body["challenges"].as_array().unwrap().is_empty());

    let mut headers = device.headers("GET", path, b"", now(), &nonce());
    let (impostor, _) = SigningKey::generate().unwrap();
    let forged = impostor
        .sign(&cityauth_protocol::canonical::request_message(
            "GET",
            path,
            &device.id,
            now(),
            &headers[2].1,
            b"",
        ))
        .unwrap();
    headers[3].1 = forged.to_string();
    let reply = h.send("GET", path, &headers, None);
    assert_eq!((reply.status, reply.error()), (401, "invalid_signature"));

    // Signed for another path: the signature covers path and query.
    let headers = device.headers(
        "GET",
        "/api/v1/device/challenges?wait=1",
        b"",
        now(),
        &nonce(),
    );
    let reply = h.send("GET", path, &headers, None);
    assert_eq!((reply.status, reply.error()), (401, "invalid_signature"));

    // Five seconds past the 300-second window each way: a second ticking between this
    // clock read and the server's must not bring the time back inside it.
    for time in [now() - 305, now() + 305] {
        let headers = device.headers("GET", path, b"", time, &nonce());
        let reply = h.send("GET", path, &headers, None);
        assert_eq!((reply.status, reply.error()), (401, "stale_time"));
    }

    let headers = device.headers("GET", path, b"", now(), &nonce());
    assert_eq!(h.send("GET", path, &headers, None).status, 200);
    let replay = h.send("GET", path, &headers, None);
    assert_eq!((replay.status, replay.error()), (401, "replayed_nonce"));

    let mut headers = device.headers("GET", path, b"", now(), &nonce());
    headers[0].1 = "no-such-device".into();
    let reply = h.send("GET", path, &headers, None);
    assert_eq!((reply.status, reply.error()), (401, "unknown_device"));

    let reply = h.send("GET", path, &[], None);
    assert_eq!((reply.status, reply.error()), (400, "bad_request"));
}

#[test]
fn unenrolled_devices_are_unknown() {
    let h = Harness::start();
    h.add_user("alice");
    let device = h.enroll("alice");
    let reply = device.request(&h, "DELETE", "/api/v1/device", None);
    assert_eq!(reply.status, 204, "{reply:?}");
    let reply = device.request(&h, "GET", "/api/v1/device/challenges?wait=0", None);
    assert_eq!((reply.status, reply.error()), (401, "unknown_device"));
    assert!(
        cityauth_server::admin::devices(h.state(), "alice")
            .unwrap()
            .is_empty()
    );
}

#[test]
fn the_server_key_is_served_unauthenticated_and_matches_the_link() {
    let h = Harness::start();
    h.add_user("alice");
    let link = h.enroll_link("alice");
    let reply = h.get("/api/v1/server-key");
    assert_eq!(reply.status, 200, "{reply:?}");
    let key = cityauth_protocol::PublicKey::from_base64(
        reply.body["server_public_key"].as_str().unwrap(),
    )
    .unwrap();
    assert!(link.fingerprint.matches(&key));
    // Fetching it spends nothing: the code still enrolls.
    let (device, _) = SigningKey::generate().unwrap();
    assert_eq!(
        h.post("/api/v1/enroll", &enroll_body(&device, &link.code))
            .status,
        200
    );
}

#[test]
fn the_enrollment_answer_is_signed_over_the_device_the_account_and_the_code() {
    use cityauth_protocol::canonical::enrolled_message;
    use cityauth_protocol::wire::EnrollResponse;
    let h = Harness::start();
    h.add_user("alice");
    let link = h.enroll_link("alice");
    let (device, _) = SigningKey::generate().unwrap();
    let reply = h.post("/api/v1/enroll", &enroll_body(&device, &link.code));
    assert_eq!(reply.status, 200, "{reply:?}");
    let answer: EnrollResponse = serde_json::from_value(reply.body).unwrap();
    let server = h.state().signing_key().public_key();
    let signature =
        cityauth_protocol::Signature::from_base64(answer.signature.as_deref().unwrap()).unwrap();
    let message = enrolled_message(&answer, &device.public_key(), &link.code);
    assert!(server.verify(&message, &signature));
    // Bound to this device's key and this code.
    let (other, _) = SigningKey::generate().unwrap();
    assert!(!server.verify(
        &enrolled_message(&answer, &other.public_key(), &link.code),
        &signature
    ));
    assert!(!server.verify(
        &enrolled_message(&answer, &device.public_key(), &nonce()),
        &signature
    ));
}

#[test]
fn the_challenge_list_time_is_signed_for_the_request_nonce() {
    use cityauth_protocol::canonical::challenges_message;
    let h = Harness::start();
    h.add_user("alice");
    let device = h.enroll("alice");
    // Without `time=1` the list carries no signature (the device asks only now and then).
    let path = "/api/v1/device/challenges?wait=0";
    let headers = device.headers("GET", path, b"", now(), &nonce());
    let reply = h.send("GET", path, &headers, None);
    assert_eq!(reply.status, 200, "{reply:?}");
    assert!(reply.body["signature"].is_null(), "{reply:?}");
    let path = "/api/v1/device/challenges?wait=0&time=1";
    let request_nonce = nonce();
    let headers = device.headers("GET", path, b"", now(), &request_nonce);
    let reply = h.send("GET", path, &headers, None);
    assert_eq!(reply.status, 200, "{reply:?}");
    let time = reply.body["server_time"].as_u64().unwrap();
    let signature =
        cityauth_protocol::Signature::from_base64(reply.body["signature"].as_str().unwrap())
            .unwrap();
    let server = device.server_key;
    assert!(server.verify(
        &challenges_message(&device.id, &request_nonce, time),
        &signature
    ));
    assert!(!server.verify(&challenges_message(&device.id, &nonce(), time), &signature));
    assert!(!server.verify(
        &challenges_message(&device.id, &request_nonce, time + 1),
        &signature
    ));
}
