//! End to end on Active Directory: the real server on loopback pointed at a real Samba AD
//! DC (tests/src/samba.rs) through the least-privilege service account, a phone with a
//! real vault, and the employee's browser on the portal's pages. What the directory binds
//! with afterwards is asked of the directory itself (`ldapsearch` as the employee).

use std::sync::Arc;
use std::time::Instant;

use cityauth_e2e::City;
use cityauth_e2e::portal::{Browser, Page};
use cityauth_e2e::samba::{self, Samba, alone, shared};
use cityauth_server::directory::ad::ActiveDirectory;

/// Passes our rules and the domain's (length, three kinds of character, no account name).
const NEW_PASSWORD: &str = "Quartz-Meadow-Lantern-481";
const OTHER_PASSWORD: &str = "Copper-Willow-Harbour-592";

/// The server on the domain, as `serve` would start it (after the startup check).
fn city_on(samba: &Samba) -> City {
    City::checked_on(Arc::new(
        ActiveDirectory::new(samba.settings()).expect("valid settings"),
    ))
}

fn user(samba: &Samba, name: &str, groups: &[&str]) -> String {
    samba
        .add_user(name, groups)
        .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn an_employee_only_in_the_directory_enrolls_resets_and_the_directory_takes_the_new_password() {
    let started = Instant::now();
    let samba = shared();
    let dn = user(&samba, "erin", &[samba::SCOPE_GROUP]);
    let city = city_on(&samba);
    let phone = city.phone_for("erin");
    let browser = Browser::new(&city.url());
    let waiting = browser.forgot("erin");
    let (id, form) = browser.continue_reset(&phone, &waiting);
    // The domain's policy is on the form, besides ours.
    assert!(form.html.contains("Choose a new password"), "{}", form.html);
    assert!(
        form.html.contains(&format!("{}", samba::MIN_LENGTH)),
        "{}",
        form.html
    );
    let done = browser.new_password(&id, NEW_PASSWORD);
    assert_eq!(done.status, 200, "{}", done.html);
    assert!(
        done.html.contains("Your password was changed"),
        "{}",
        done.html
    );
    assert!(
        samba.binds(&dn, NEW_PASSWORD).unwrap(),
        "the new password binds"
    );
    assert!(
        !samba.binds(&dn, samba::INITIAL_PASSWORD).unwrap(),
        "the old one does not"
    );
    assert!(
        city.audit("erin")
            .iter()
            .any(|(event, detail)| event == "password_reset" && detail.contains("directory")),
        "{:?}",
        city.audit("erin")
    );
    eprintln!("enroll, reset and check: {:?}", started.elapsed());
}

#[test]
fn a_password_the_directory_history_refuses_is_told_and_the_change_can_be_retried() {
    // Samba 4.17 holds an administrator's reset to no history (it lacks the policy-hints
    // control), so the history rule is met where it applies there: the change while
    // signed in, done as the employee.
    let samba = shared();
    let dn = user(&samba, "hugo", &[samba::SCOPE_GROUP]);
    let city = city_on(&samba);
    let phone = city.phone_for("hugo");
    let browser = Browser::new(&city.url());
    browser.sign_in("hugo", samba::INITIAL_PASSWORD, &phone);

    let change = |current: &str, new: &str| -> Page {
        browser.continue_change(&phone, &browser.change_password(current, new))
    };
    let first = change(samba::INITIAL_PASSWORD, NEW_PASSWORD);
    assert_eq!(first.status, 303, "{}", first.html);
    assert!(samba.binds(&dn, NEW_PASSWORD).unwrap());
    // Back to the first password: the domain remembers it.
    let refused = change(NEW_PASSWORD, samba::INITIAL_PASSWORD);
    assert_eq!(refused.status, 422, "{}", refused.html);
    assert!(
        refused.html.contains("you used it before"),
        "{}",
        refused.html
    );
    assert!(samba.binds(&dn, NEW_PASSWORD).unwrap(), "nothing changed");
    let retried = change(NEW_PASSWORD, OTHER_PASSWORD);
    assert_eq!(retried.status, 303, "{}", retried.html);
    assert!(samba.binds(&dn, OTHER_PASSWORD).unwrap());
    assert!(!samba.binds(&dn, NEW_PASSWORD).unwrap());
}

/// The page `/forgot` shows for `username`, with the id and number taken out.
fn forgot_page_without_ids(browser: &Browser, username: &str) -> String {
    let page = browser.forgot(username);
    let id = page.field("id").expect("an id, known or not");
    let number = page.number().expect("a number, known or not");
    page.html
        .replace(&id, "ID")
        .replace(&format!(">{number}<"), ">NUMBER<")
}

#[test]
fn a_disabled_an_out_of_scope_and_a_protected_employee_look_like_an_unknown_one() {
    let samba = shared();
    let disabled = user(&samba, "dina", &[samba::SCOPE_GROUP]);
    let outside = user(&samba, "oscar", &[samba::SCOPE_GROUP]);
    let admin_dn = user(&samba, "ada", &[samba::SCOPE_GROUP]);
    let city = city_on(&samba);
    // Enrolled while they could be; then disabled, taken out of the scope group, and
    // made a Domain Admin.
    let disabled_phone = city.phone_for("dina");
    let admin_phone = city.phone_for("ada");
    let outside_phone = city.phone_for("oscar");
    samba.disable(&disabled).unwrap_or_else(|e| panic!("{e}"));
    samba
        .remove_member(samba::SCOPE_GROUP, &outside)
        .unwrap_or_else(|e| panic!("{e}"));
    samba
        .add_member(samba::DOMAIN_ADMINS, &admin_dn)
        .unwrap_or_else(|e| panic!("{e}"));

    let browser = Browser::new(&city.url());
    let unknown = forgot_page_without_ids(&browser, "nobody-at-all");
    for who in ["dina", "oscar", "ada"] {
        assert_eq!(forgot_page_without_ids(&browser, who), unknown, "{who}");
        let (status, answer) = city.start_reset(who);
        let (unknown_status, unknown_answer) = city.start_reset("nobody-at-all");
        assert_eq!(status, unknown_status, "{who}");
        let (answer, unknown_answer) = (answer.unwrap(), unknown_answer.unwrap());
        assert_eq!(answer.reset_id.len(), unknown_answer.reset_id.len());
        assert_eq!(answer.number.len(), unknown_answer.number.len());
        assert_eq!(city.reset_state(&answer.reset_id), "pending");
    }
    // No push reached any of their phones.
    let outside_pushes = outside_phone.device().pending_challenges(0).unwrap();
    assert!(outside_pushes.is_empty(), "{:?}", city.audit("oscar"));
    assert!(
        disabled_phone
            .device()
            .pending_challenges(0)
            .unwrap()
            .is_empty()
    );
    assert!(
        admin_phone
            .device()
            .pending_challenges(0)
            .unwrap()
            .is_empty()
    );
    assert!(samba.binds(&admin_dn, samba::INITIAL_PASSWORD).unwrap());
}

#[test]
fn a_locked_out_employee_unlocks_with_the_phone_and_keeps_the_password() {
    let samba = shared();
    let dn = user(&samba, "lena", &[samba::SCOPE_GROUP, samba::LOCKOUT_GROUP]);
    let city = city_on(&samba);
    let phone = city.phone_for("lena");
    samba.lock_out(&dn).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        !samba.binds(&dn, samba::INITIAL_PASSWORD).unwrap(),
        "locked out"
    );
    let browser = Browser::new(&city.url());
    let waiting = browser.forgot("lena");
    let (id, form) = browser.continue_reset(&phone, &waiting);
    assert!(
        form.html
            .contains("Unlock my account without changing the password"),
        "{}",
        form.html
    );
    let unlocked = browser.post("/forgot/unlock", &[("id", &id)]);
    assert_eq!(unlocked.status, 200, "{}", unlocked.html);
    assert!(
        unlocked.html.contains("Your password is unchanged"),
        "{}",
        unlocked.html
    );
    assert!(
        samba.binds(&dn, samba::INITIAL_PASSWORD).unwrap(),
        "unlocked, same password"
    );
}

#[test]
fn the_directory_unreachable_mid_reset_loses_nothing_and_the_retry_succeeds() {
    let mut samba = alone();
    let dn = user(&samba, "uri", &[samba::SCOPE_GROUP]);
    let city = city_on(&samba);
    let phone = city.phone_for("uri");
    let browser = Browser::new(&city.url());
    let waiting = browser.forgot("uri");
    let (id, _) = browser.continue_reset(&phone, &waiting);
    samba.stop();
    let down = browser.new_password(&id, NEW_PASSWORD);
    assert_eq!(down.status, 503, "{}", down.html);
    assert!(down.html.contains("cannot be reached"), "{}", down.html);
    // The form is shown again for the same reset (nothing was claimed or lost); the
    // retry below, on the same reset, is the proof that it stayed verified.
    assert_eq!(
        down.field("id").as_deref(),
        Some(id.as_str()),
        "{}",
        down.html
    );
    let restarting = Instant::now();
    samba.restart().unwrap_or_else(|e| panic!("{e}"));
    eprintln!("samba restarted in {:?}", restarting.elapsed());
    let done = browser.new_password(&id, NEW_PASSWORD);
    assert_eq!(done.status, 200, "{}", done.html);
    assert!(samba.binds(&dn, NEW_PASSWORD).unwrap());
    assert!(!samba.binds(&dn, samba::INITIAL_PASSWORD).unwrap());
}

#[test]
fn a_rename_in_the_directory_keeps_the_phone() {
    let samba = shared();
    user(&samba, "remy", &[samba::SCOPE_GROUP]);
    let city = city_on(&samba);
    let phone = city.phone_for("remy");
    let dn = samba
        .rename("remy", "remington")
        .unwrap_or_else(|e| panic!("{e}"));
    let browser = Browser::new(&city.url());
    let waiting = browser.forgot("remington");
    // The same phone, found by the objectGUID, gets the challenge.
    let (id, _) = browser.continue_reset(&phone, &waiting);
    let done = browser.new_password(&id, NEW_PASSWORD);
    assert_eq!(done.status, 200, "{}", done.html);
    assert!(samba.binds(&dn, NEW_PASSWORD).unwrap());
}

#[test]
fn a_filter_injection_in_the_username_reaches_nobody() {
    let samba = shared();
    user(&samba, "ivy", &[samba::SCOPE_GROUP]);
    let city = city_on(&samba);
    let phone = city.phone_for("ivy");
    let browser = Browser::new(&city.url());
    let unknown = forgot_page_without_ids(&browser, "nobody-at-all");
    for attempt in ["*", "iv*", "*)(sAMAccountName=*", "ivy)(|(objectClass=*"] {
        assert_eq!(
            forgot_page_without_ids(&browser, attempt),
            unknown,
            "{attempt}"
        );
    }
    // The pushes go behind the reset start's answer: wait for them before looking.
    city.settle();
    assert!(
        phone.device().pending_challenges(0).unwrap().is_empty(),
        "no push reached ivy"
    );
    // The real name still works.
    browser.forgot("ivy");
    city.settle();
    assert_eq!(phone.device().pending_challenges(0).unwrap().len(), 1);
}
