//! The portal on a real slapd: the directory's ppolicy shown on the new-password page and
//! checked there before the write, the unlock button after a real lockout, the sign-in
//! page pointing a locked-out employee at it, and a password change that waits for the
//! phone with both passwords sealed, erased when done or refused.

mod on_slapd;

use cityauth_e2e::portal::Browser;
use cityauth_e2e::slapd::{ADMINS_GROUP, FIRST_PASSWORD};
use on_slapd::{OnSlapd, twenty_characters};

const NEW_PASSWORD: &str = "Velvet-Harbor-Quince-Drum-8";

#[test]
fn the_new_password_page_shows_the_directory_policy_and_checks_it_before_the_write() {
    let on = OnSlapd::start_with(twenty_characters, |_| {}, |_| {});
    let phone = on.employee_with_phone("dana");
    let browser = Browser::new(&on.city.url());
    let (id, page) = browser.verified_reset("dana", &phone);
    let page = page.html;
    assert!(page.contains("at least 20 characters"), "{page}");
    assert!(page.contains("none of your last 5 passwords"), "{page}");
    assert!(page.contains("minlength=\"20\""), "{page}");
    assert!(!page.contains("Your account is locked"), "{page}");
    // Long enough for our rules (15), too short for ppolicy's (20): told before the write.
    let short = browser.new_password(&id, "Amber-Signal-42xyz");
    assert_eq!(short.status, 422, "{}", short.html);
    assert!(
        short.html.contains("role=\"alert\"")
            && short
                .html
                .contains("needs a password of at least 20 characters"),
        "{}",
        short.html
    );
    assert_eq!(
        on.city.audited("dana", "directory_refused"),
        0,
        "the directory was not asked: {:?}",
        on.city.audit("dana")
    );
    assert!(on.slapd.bind("dana", FIRST_PASSWORD), "nothing changed");
    let done = browser.new_password(&id, "Amber-Signal-Orchard-4711");
    assert_eq!(done.status, 200, "{}", done.html);
    assert!(on.slapd.bind("dana", "Amber-Signal-Orchard-4711"));
}

#[test]
fn the_unlock_button_unlocks_the_account_and_keeps_the_password() {
    let on = OnSlapd::start();
    let phone = on.employee_with_phone("dana");
    on.slapd.lock_out("dana");
    assert!(
        !on.slapd.bind("dana", FIRST_PASSWORD),
        "locked out for real"
    );
    let browser = Browser::new(&on.city.url());
    let (id, page) = browser.verified_reset("dana", &phone);
    assert!(
        page.html.contains("Your account is locked"),
        "{}",
        page.html
    );
    assert!(
        page.html
            .contains("Unlock my account without changing the password")
    );
    let unlocked = browser.post("/forgot/unlock", &[("id", &id)]);
    assert_eq!(unlocked.status, 200, "{}", unlocked.html);
    assert!(unlocked.html.contains("Your password is unchanged"));
    assert!(
        on.slapd.bind("dana", FIRST_PASSWORD),
        "unlocked, same password"
    );
}

#[test]
fn a_locked_out_employee_is_pointed_at_the_unlock_on_the_sign_in_page() {
    let on = OnSlapd::start();
    on.employee_with_phone("dana");
    on.slapd.lock_out("dana");
    let page = Browser::new(&on.city.url()).post(
        "/signin",
        &[("username", "dana"), ("password", FIRST_PASSWORD)],
    );
    assert_eq!(page.status, 423, "{}", page.html);
    assert!(
        page.html.contains("can unlock it with your phone"),
        "{}",
        page.html
    );
}

/// The sealed pending passwords of every password change, as the database holds them.
fn pending_passwords(on: &OnSlapd) -> Vec<Option<Vec<u8>>> {
    let db = on.database();
    let mut statement = db
        .prepare("SELECT pending_passwords FROM flows WHERE kind = 'password_change'")
        .unwrap();
    statement
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn a_password_change_waits_with_both_passwords_sealed_and_erases_them_when_done() {
    let on = OnSlapd::start();
    let phone = on.employee_with_phone("dana");
    let browser = Browser::new(&on.city.url());
    browser.sign_in("dana", FIRST_PASSWORD, &phone);

    let waiting = browser.change_password(FIRST_PASSWORD, NEW_PASSWORD);
    let sealed = pending_passwords(&on)
        .remove(0)
        .expect("kept until the phone approves");
    let database = std::fs::read(on.city.database()).unwrap();
    let wal = std::fs::read(on.city.database().with_extension("sqlite-wal")).unwrap_or_default();
    for secret in [FIRST_PASSWORD, NEW_PASSWORD] {
        for bytes in [&sealed, &database, &wal] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "never in clear"
            );
        }
    }
    assert!(
        on.slapd.bind("dana", FIRST_PASSWORD),
        "nothing before the approval"
    );
    let done = browser.continue_change(&phone, &waiting);
    assert_eq!(done.status, 303, "{}", done.html);
    assert!(on.slapd.bind("dana", NEW_PASSWORD), "changed");
    assert!(!on.slapd.bind("dana", FIRST_PASSWORD));
    assert_eq!(pending_passwords(&on), vec![None], "erased on completion");
}

#[test]
fn a_change_the_directory_refuses_shows_its_sentence_and_erases_the_sealed_passwords() {
    let on = OnSlapd::start();
    let phone = on.employee_with_phone("dana");
    let browser = Browser::new(&on.city.url());
    browser.sign_in("dana", FIRST_PASSWORD, &phone);
    // Our rules pass it; ppolicy's history refuses the current password.
    let waiting = browser.change_password(FIRST_PASSWORD, FIRST_PASSWORD);
    let refused = browser.continue_change(&phone, &waiting);
    assert_eq!(refused.status, 422, "{}", refused.html);
    assert!(
        refused.html.contains("you used it before"),
        "{}",
        refused.html
    );
    assert_eq!(pending_passwords(&on), vec![None], "erased once refused");
    assert!(on.slapd.attribute("dana", "pwdHistory").is_empty());
    assert!(on.slapd.bind("dana", FIRST_PASSWORD));
}

#[test]
fn an_empty_current_password_is_wrong_without_asking_the_directory() {
    let on = OnSlapd::start();
    on.employee("dana");
    let browser = Browser::new(&on.city.url());
    let session = cityauth_server::admin::create_session(on.city.state(), "dana", 600).unwrap();
    browser.set_cookie("cityauth_session", &session);
    // This slapd allows unauthenticated binds (a DN, no password): one would "succeed".
    let changed = browser.post("/password", &[("current", ""), ("new", NEW_PASSWORD)]);
    assert_eq!(changed.status, 401, "{}", changed.html);
    assert!(on.slapd.bind("dana", FIRST_PASSWORD), "nothing changed");
}

/// The help-desk group of these tests, made with its first member.
const HELPDESK_GROUP: &str = "cn=helpdesk,ou=groups,dc=city,dc=test";

#[test]
fn a_member_of_the_directorys_helpdesk_group_is_an_operator_until_removed_from_it() {
    let on = OnSlapd::start_with(
        |_| {},
        |_| {},
        |c| c.helpdesk.operator_group = Some(HELPDESK_GROUP.into()),
    );
    let olga = on.employee_with_phone("olga");
    let dana = on.employee_with_phone("dana");
    let olga_dn = cityauth_e2e::slapd::Slapd::user_dn("olga");
    on.slapd.modify(&format!(
        "dn: {HELPDESK_GROUP}\nchangetype: add\nobjectClass: groupOfNames\ncn: helpdesk\nmember: {olga_dn}\n\
         member: {ADMINS_GROUP}\n"
    ));
    let console = |who: &str, phone: &cityauth_e2e::Phone| {
        let browser = Browser::new(&on.city.url());
        let waiting = browser.post(
            "/helpdesk/signin",
            &[("username", who), ("password", FIRST_PASSWORD)],
        );
        assert_eq!(waiting.status, 200, "{}", waiting.html);
        phone.approve(&waiting.number().expect("the number"));
        let id = waiting.field("id").unwrap();
        (
            browser.post("/helpdesk/signin/continue", &[("id", &id)]),
            browser,
        )
    };
    let (signed, browser) = console("olga", &olga);
    assert_eq!(signed.status, 303, "{}", signed.html);
    assert_eq!(browser.get("/helpdesk/employee?username=dana").status, 200);
    // Not in the group: approved on the phone, refused by the console.
    let (refused, _) = console("dana", &dana);
    assert_eq!(refused.status, 403, "{}", refused.html);
    // Out of the group: the next request is refused.
    on.slapd.remove_member(HELPDESK_GROUP, &olga_dn);
    assert_eq!(browser.get("/helpdesk/employee?username=dana").status, 401);
}
