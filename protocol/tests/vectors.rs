//! Test vectors of the protocol: fixed keys, fixed messages, the exact bytes each party signs,
//! and a signature over them that verifies. `docs/protocol.md` reproduces them for other
//! implementations. The keys are test keys, published here on purpose: never use them.

use cityauth_protocol::canonical::{
    answer_message, challenge_message, challenges_message, clock_message, enroll_message,
    enrolled_message, request_message,
};
use cityauth_protocol::wire::{AnswerRequest, Challenge, ChallengeKind, Decision, EnrollResponse};
use cityauth_protocol::{PublicKey, Signature, SigningKey};

fn unhex(parts: &[&str]) -> Vec<u8> {
    let text: String = parts.concat();
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

const DEVICE_PKCS8: &[&str] = &[
    "308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b0201010420bcbb090c4cf36297be55140f",
    "b27d2a36a1f13e77e3669923f4280634d69ebfcba144034200044ea44a11fe4f5fc389e146012fbfa396880ed87d4c6f",
    "edbfdb5305a00d9e26bc70dd1d43a1319a9965cf6d9690ea807a6ed2d6193d691f2fe874c4b28630ae0b",
];
const SERVER_PKCS8: &[&str] = &[
    "308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b0201010420af25bee181c200a4c1d2c878",
    "838d2ea10b5af42131c3bc1ae86baa2be5ce725ba144034200048532df73243ec495a973fea75c4ab2a2c23783b9a342",
    "0d8804f5653048f8b2ffc13e40e1b89655f831afdea9a2af7e4c882ea6474ddfb90b661708f42e55de52",
];
const DEVICE_PUBLIC_KEY: &str =
    "BE6kShH-T1_DieFGAS-_o5aIDth9TG_tv9tTBaANnia8cN0dQ6Exmpllz22WkOqAem7S1hk9aR8v6HTEsoYwrgs";
const SERVER_PUBLIC_KEY: &str =
    "BIUy33MkPsSVqXP-p1xKsqLCN4O5o0INiAT1ZTBI-LL_wT5A4biWVfgxr96poq9-TIgupkdN37kLZhcI9C5V3lI";
const SERVER_FINGERPRINT: &str = "0sy4KlASCpiIsYZsZULbxHo0My0Kzuo8UJuTUwJWzcs";

const ENROLL: &[&str] = &[
    "00000012636974796175746820656e726f6c6c20763100000016713358633062576258555133776d5266795a38635567",
    "00000041044ea44a11fe4f5fc389e146012fbfa396880ed87d4c6fedbfdb5305a00d9e26bc70dd1d43a1319a9965cf6d",
    "9690ea807a6ed2d6193d691f2fe874c4b28630ae0b",
];
const ENROLL_SIGNATURE: &str =
    "DSCRM4iHCgjghmNuDVCYZNmLbW65_WvLfyB1kHTv4pMSFlZI3vgWrOx2GIYB5KzRhVNTIGTAIz_PCCWRYzbq2A";
const REQUEST: &[&str] = &[
    "000000136369747961757468207265717565737420763100000003474554000000212f6170692f76312f646576696365",
    "2f6368616c6c656e6765733f776169743d3235000000086465765f37516d320000000a31383030303030303030000000",
    "186e306e63652d41414141414141414141414141414141414100000020e3b0c44298fc1c149afbf4c8996fb92427ae41",
    "e4649b934ca495991b7852b855",
];
const REQUEST_SIGNATURE: &str =
    "9S3x7O81M-lPVZiegrcKeP2qBxCVWwF5uJZ78gjJA4rRZkSi6sgkylTV72sOXFL4hJS7sTrVASnpj2zgv_De2Q";
const CHALLENGE: &[&str] = &[
    "000000156369747961757468206368616c6c656e67652076310000000463685f31000000086465765f37516d32000000",
    "0e70617373776f72645f726573657400000005616c69636500000013436974792070617373776f726420726573657400",
    "00000b3230332e302e3131332e370000000f537072696e676669656c642c2055530000000a3138303030303030303000",
    "00000a313830303030303132300000001e626d397559325574623259746447686c4c574e6f595778735a57356e5a5100",
    "00000132",
];
const CHALLENGE_SIGNATURE: &str =
    "vpHaJuqaZo3KeWevgJVkQqJEsiEeEQICFByZHleVu6KmAVr4Is-d0ZatDLzCRv3cA1UrG1C1_6Act2-795FMJw";
const ANSWER: &[&str] = &[
    "00000012636974796175746820616e73776572207631000000086465765f37516d320000000463685f310000001e626d",
    "397559325574623259746447686c4c574e6f595778735a57356e5a5100000007617070726f7665000000023432",
];
const ANSWER_SIGNATURE: &str =
    "rqOfKTa4vMaTAe9uPz4l0rtslZp9pcxqVO1JIXiJwqT6Qfg4EeoPVQp2v-mKP9746dtkdoQJNVXTH0I7YO85vQ";

// Protocol version 2: the server's enrollment answer and its challenge-list time.
const ENROLLED: &[&str] = &[
    "00000014636974796175746820656e726f6c6c6564207631000000086465765f37516d3200000041044ea44a11fe4f5f",
    "c389e146012fbfa396880ed87d4c6fedbfdb5305a00d9e26bc70dd1d43a1319a9965cf6d9690ea807a6ed2d6193d691f",
    "2fe874c4b28630ae0b00000005616c6963650000000d416c696365204578616d706c650000004d6f7470617574683a2f",
    "2f746f74702f436974793a616c6963653f7365637265743d47455a44474e425647593354514f4a5147455a44474e4256",
    "47593354514f4a51266973737565723d436974790000000a3138303030303030303000000020593518feb07d70bfd898",
    "2d19440db0fbddf6a12db839d003578d0a4f4534061e",
];
const ENROLLED_SIGNATURE: &str =
    "5i_s7D3tQ7EcZED27V_AbvA60j-q42UEuVZ5QqPnpOad1k2uJzW7qmjaQirPlyaNQ9vDjVejsF02bHMJ-bYayw";
const CHALLENGES: &[&str] = &[
    "000000166369747961757468206368616c6c656e676573207631000000086465765f37516d32000000186e306e63652d",
    "4141414141414141414141414141414141410000000a31383030303030303030",
];
const CHALLENGES_SIGNATURE: &str =
    "llCa4jGryL_HlD37WDiqsCkYBV7HYAofaEluN3yyDbEBzXkQUZCXhtEuoFieRGp_xxGv0dd7EYndEbKtaBnX0Q";
// The server's clock in a `stale_time` refusal (version 2, `cityauth clock v1`).
const CLOCK: &[&str] = &[
    "00000011636974796175746820636c6f636b207631000000086465765f37516d32000000186e306e63652d41414141",
    "41414141414141414141414141410000000a31383030303030303030",
];
const CLOCK_SIGNATURE: &str =
    "IsKbPgFTR61VYSv1mnIXSWILzvmBZ8B4gWhFw2F5_WxCCpCN5waG1I151PIFy4_ZXG1q0C57IeUOXFs8x48raA";

fn enrolled() -> EnrollResponse {
    EnrollResponse {
        device_id: "dev_7Qm2".into(),
        username: "alice".into(),
        display_name: "Alice Example".into(),
        server_public_key: SERVER_PUBLIC_KEY.into(),
        server_time: 1_800_000_000,
        oath_link: Some(
            "otpauth://totp/City:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=City".into(),
        ),
        signature: None,
    }
}

fn challenge() -> Challenge {
    Challenge {
        id: "ch_1".into(),
        device_id: "dev_7Qm2".into(),
        kind: ChallengeKind::PasswordReset,
        account: "alice".into(),
        application: "City password reset".into(),
        client_ip: "203.0.113.7".into(),
        location: "Springfield, US".into(),
        created_at: 1_800_000_000,
        expires_at: 1_800_000_120,
        nonce: "bm9uY2Utb2YtdGhlLWNoYWxsZW5nZQ".into(),
        number_digits: 2,
    }
}

fn answer() -> AnswerRequest {
    AnswerRequest {
        challenge_id: "ch_1".into(),
        nonce: "bm9uY2Utb2YtdGhlLWNoYWxsZW5nZQ".into(),
        decision: Decision::Approve,
        number: Some("42".into()),
        signature: String::new(),
    }
}

/// Checks the expected bytes, the stored signature, a fresh signature, and that one changed
/// byte no longer verifies.
fn check(key: &PublicKey, built: Vec<u8>, expected: &[&str], signature: &str) {
    let expected = unhex(expected);
    assert_eq!(built, expected, "canonical bytes differ from the vector");
    let signature = Signature::from_base64(signature).unwrap();
    assert!(
        key.verify(&expected, &signature),
        "the vector's signature must verify"
    );
    let mut altered = expected.clone();
    let last = altered.len() - 1;
    altered[last] ^= 1;
    assert!(!key.verify(&altered, &signature));
}

#[test]
fn keys_load_and_match_their_public_halves() {
    let device = SigningKey::from_pkcs8(&unhex(DEVICE_PKCS8)).unwrap();
    let server = SigningKey::from_pkcs8(&unhex(SERVER_PKCS8)).unwrap();
    assert_eq!(device.public_key().to_string(), DEVICE_PUBLIC_KEY);
    assert_eq!(server.public_key().to_string(), SERVER_PUBLIC_KEY);
    assert_eq!(
        server.public_key().fingerprint().to_string(),
        SERVER_FINGERPRINT
    );
}

#[test]
fn enroll_proof_vector() {
    let device = PublicKey::from_base64(DEVICE_PUBLIC_KEY).unwrap();
    check(
        &device,
        enroll_message("q3Xc0bWbXUQ3wmRfyZ8cUg", &device),
        ENROLL,
        ENROLL_SIGNATURE,
    );
}

#[test]
fn signed_request_vector() {
    let device = PublicKey::from_base64(DEVICE_PUBLIC_KEY).unwrap();
    let built = request_message(
        "GET",
        "/api/v1/device/challenges?wait=25",
        "dev_7Qm2",
        1_800_000_000,
        "n0nce-AAAAAAAAAAAAAAAAAA",
        b"",
    );
    check(&device, built, REQUEST, REQUEST_SIGNATURE);
}

#[test]
fn challenge_vector() {
    let server = PublicKey::from_base64(SERVER_PUBLIC_KEY).unwrap();
    check(
        &server,
        challenge_message(&challenge()),
        CHALLENGE,
        CHALLENGE_SIGNATURE,
    );
}

#[test]
fn answer_vector() {
    let device = PublicKey::from_base64(DEVICE_PUBLIC_KEY).unwrap();
    check(
        &device,
        answer_message("dev_7Qm2", &answer()),
        ANSWER,
        ANSWER_SIGNATURE,
    );
}

#[test]
fn fresh_signatures_over_the_vectors_verify() {
    let server = SigningKey::from_pkcs8(&unhex(SERVER_PKCS8)).unwrap();
    let message = challenge_message(&challenge());
    let signature = server.sign(&message).unwrap();
    assert!(server.public_key().verify(&message, &signature));
}

#[test]
fn every_challenge_field_is_signed() {
    let base = challenge_message(&challenge());
    let mut changed = Vec::new();
    let mut c = challenge();
    c.location = "Elsewhere".into();
    changed.push(challenge_message(&c));
    let mut c = challenge();
    c.expires_at += 1;
    changed.push(challenge_message(&c));
    let mut c = challenge();
    c.kind = ChallengeKind::SignIn;
    changed.push(challenge_message(&c));
    let mut c = challenge();
    c.number_digits = 6;
    changed.push(challenge_message(&c));
    let mut c = challenge();
    c.device_id = "dev_other".into();
    changed.push(challenge_message(&c));
    for message in changed {
        assert_ne!(message, base);
    }
}

#[test]
fn enrolled_vector() {
    let server = PublicKey::from_base64(SERVER_PUBLIC_KEY).unwrap();
    let device = PublicKey::from_base64(DEVICE_PUBLIC_KEY).unwrap();
    check(
        &server,
        enrolled_message(&enrolled(), &device, "q3Xc0bWbXUQ3wmRfyZ8cUg"),
        ENROLLED,
        ENROLLED_SIGNATURE,
    );
}

#[test]
fn challenge_list_time_vector() {
    let server = PublicKey::from_base64(SERVER_PUBLIC_KEY).unwrap();
    check(
        &server,
        challenges_message("dev_7Qm2", "n0nce-AAAAAAAAAAAAAAAAAA", 1_800_000_000),
        CHALLENGES,
        CHALLENGES_SIGNATURE,
    );
}

#[test]
fn stale_time_clock_vector() {
    let server = PublicKey::from_base64(SERVER_PUBLIC_KEY).unwrap();
    check(
        &server,
        clock_message("dev_7Qm2", "n0nce-AAAAAAAAAAAAAAAAAA", 1_800_000_000),
        CLOCK,
        CLOCK_SIGNATURE,
    );
    // The same fields under the challenge list's label are other bytes: neither signature
    // passes for the other.
    assert_ne!(
        clock_message("dev_7Qm2", "n0nce-AAAAAAAAAAAAAAAAAA", 1_800_000_000),
        challenges_message("dev_7Qm2", "n0nce-AAAAAAAAAAAAAAAAAA", 1_800_000_000)
    );
}

#[test]
fn every_enrolled_field_is_signed() {
    let device = PublicKey::from_base64(DEVICE_PUBLIC_KEY).unwrap();
    let (other, _) = SigningKey::generate().unwrap();
    let code = "q3Xc0bWbXUQ3wmRfyZ8cUg";
    let base = enrolled_message(&enrolled(), &device, code);
    let mut changed = vec![
        enrolled_message(&enrolled(), &other.public_key(), code),
        enrolled_message(&enrolled(), &device, "another-code-AAAAAAAAAA"),
    ];
    let edits: [fn(&mut EnrollResponse); 5] = [
        |r| r.device_id = "dev_other".into(),
        |r| r.username = "mallory".into(),
        |r| r.display_name = "Alice Exampl".into(),
        |r| r.oath_link = None,
        |r| r.server_time += 1,
    ];
    for edit in edits {
        let mut response = enrolled();
        edit(&mut response);
        changed.push(enrolled_message(&response, &device, code));
    }
    for message in changed {
        assert_ne!(message, base);
    }
    // The signature itself and the echoed key are not part of the message.
    let mut response = enrolled();
    response.signature = Some("x".into());
    assert_eq!(enrolled_message(&response, &device, code), base);
}
