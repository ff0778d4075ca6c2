//! Every JSON body the server's API deserializes (cityauth_protocol::wire, as
//! server/src/api parses them) and every portal and help-desk form (serde_urlencoded, as
//! axum's `Form` and `Query` do), tried on the same bytes. Invariant: a JSON body that
//! parses, written back, parses to the same value.
#![no_main]

use cityauth_protocol::wire::{
    AccessCodeRequest, AnswerRequest, EnrollRequest, ResetCodeRequest, ResetPasswordRequest,
    ResetStartRequest, SignInRequest,
};
use libfuzzer_sys::fuzz_target;
use serde::Serialize;
use serde::de::DeserializeOwned;

fn round_trip<T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug>(bytes: &[u8]) {
    if let Ok(value) = serde_json::from_slice::<T>(bytes) {
        let written = serde_json::to_vec(&value).expect("a parsed body serializes");
        let again: T = serde_json::from_slice(&written).expect("a written body parses");
        assert_eq!(again, value, "{} round trip", std::any::type_name::<T>());
    }
}

fuzz_target!(|bytes: &[u8]| {
    round_trip::<EnrollRequest>(bytes);
    round_trip::<AnswerRequest>(bytes);
    round_trip::<ResetStartRequest>(bytes);
    round_trip::<ResetCodeRequest>(bytes);
    round_trip::<ResetPasswordRequest>(bytes);
    round_trip::<SignInRequest>(bytes);
    round_trip::<AccessCodeRequest>(bytes);
    let _ = cityauth_server::fuzzing::portal_forms(bytes);
});
