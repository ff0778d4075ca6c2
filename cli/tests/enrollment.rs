//! Issue 10, item 2, on the command line against the real server on loopback: the learned
//! clock offset shifts only the City account's codes, and `forget-enrollment` works with the
//! server gone.

mod common;

use std::net::TcpListener;

use cityauth_core::Vault;
use cityauth_server::{AppState, Config, admin};
use common::{PASSPHRASE, RFC_SECRET, field, find, now, run, vault_dir};

#[test]
fn the_offset_shifts_only_the_city_account_and_forget_enrollment_needs_no_server() {
    let (dir, vault) = vault_dir();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let state = AppState::open(&dir.path().join("city.sqlite"), Config::new(&url)).unwrap();
    let server = cityauth_server::spawn_on(listener, state).unwrap();
    admin::create_user(
        server.state(),
        "alice",
        "Alice Example",
        "violet-harbour-93-lantern",
    )
    .unwrap();
    let link = admin::enrollment_link(server.state(), "alice").unwrap();
    run(&vault, &["init"]).assert_ok();
    let rfc = format!("otpauth://totp/Rfc:me?secret={RFC_SECRET}&issuer=Rfc");
    run(&vault, &["add", &rfc]).assert_ok();
    run(&vault, &["enroll", &link, "--name", "laptop"]).assert_ok();
    // The link's code is single-use: another device presenting it is refused by the server
    // (`server_refused`, exit 6; the protocol's code is in the message).
    let other = dir.path().join("other.sqlite");
    run(&other, &["init"]).assert_ok();
    run(&other, &["enroll", &link]).assert_error("server_refused", 6, "enrollment_code_invalid");
    // The server's signed time, as if it were 15 minutes ahead (within the bound).
    let shift = 900;
    {
        let core = Vault::open(&vault).unwrap();
        core.unlock_with_passphrase(PASSPHRASE).unwrap();
        core.set_clock_offset(shift).unwrap();
    }
    let expected = |issuer: &str, t: u64| {
        let core = Vault::open(&vault).unwrap();
        core.unlock_with_passphrase(PASSPHRASE).unwrap();
        let info = core
            .accounts()
            .unwrap()
            .into_iter()
            .find(|a| a.issuer == issuer)
            .unwrap();
        core.code(info.id, t).unwrap().code.as_str().to_owned()
    };
    let before = now();
    let shown = run(&vault, &["codes", "--json"]).assert_ok().json();
    let after = now();
    let code_of = |issuer: &str| {
        field(find(&shown, issuer), "code")
            .as_str()
            .unwrap()
            .to_owned()
    };
    let rfc_code = code_of("Rfc");
    assert!(
        [expected("Rfc", before), expected("Rfc", after)].contains(&rfc_code),
        "another account is drawn at this machine's clock"
    );
    let city_code = code_of("City");
    let city_at = |t: u64| expected("City", t + shift as u64);
    assert!([city_at(before), city_at(after)].contains(&city_code));

    server.stop().unwrap();
    // The server gone: `network`, exit 5, in both error formats.
    run(&vault, &["unenroll"]).assert_error("network", 5, "forget-enrollment");
    let (code, message) = run(&vault, &["approvals", "--json"]).json_error(5);
    assert_eq!((code.as_str(), message.is_empty()), ("network", false));
    run(&vault, &["forget-enrollment"]).assert_ok();
    let core = Vault::open(&vault).unwrap();
    core.unlock_with_passphrase(PASSPHRASE).unwrap();
    assert_eq!(core.enrollment().unwrap(), None);
    drop(core);
    let shown = run(&vault, &["codes", "--json"]).assert_ok().json();
    assert_eq!(shown.len(), 2, "the City account's codes stay");
    run(&vault, &["forget-enrollment"]).assert_error("not_enrolled", 4, "not enrolled");
}
