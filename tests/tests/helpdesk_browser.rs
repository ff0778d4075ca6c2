//! The help-desk console in a real headless browser, in English and in Spanish: an operator
//! signs in with a phone approval, looks an employee up, verifies the caller on the
//! employee's phone (the poll script notices the approval), issues an access code and reads
//! the audit trail; every console page speaks the browser's language, runs under its CSP
//! and passes axe-core. With `$CITYAUTH_SHOTS` set, the verified caller's page is saved there
//! as `helpdesk-<lang>.png`.

use cityauth_e2e::axe::assert_accessible;
use cityauth_e2e::webdriver::Browser;
use cityauth_e2e::{City, GOOD_PASSWORD};
use cityauth_server::helpdesk::{self, Role};

/// The titles the walk waits for, in one language.
struct Titles {
    home: &'static str,
    employee: &'static str,
    verifying: &'static str,
    code: &'static str,
}

const ENGLISH: Titles = Titles {
    home: "Help desk –",
    employee: "Employee",
    verifying: "Verifying the caller",
    code: "Access code",
};

const SPANISH: Titles = Titles {
    home: "Mesa de ayuda –",
    employee: "Empleado",
    verifying: "Verificando a la persona que llama",
    code: "Código de acceso",
};

#[test]
fn every_console_page_passes_axe_in_english() {
    every_console_page_passes_axe("en", &ENGLISH);
}

#[test]
fn every_console_page_passes_axe_in_spanish() {
    every_console_page_passes_axe("es", &SPANISH);
}

/// The number the page shows, as the operator reads it.
fn shown_number(browser: &Browser) -> String {
    browser.find(".number").unwrap().text().unwrap()
}

fn check(browser: &Browser, lang: &str, page: &str) {
    assert_eq!(browser.page_lang().unwrap(), lang, "{page}");
    assert_accessible(browser, page);
}

fn every_console_page_passes_axe(lang: &str, titles: &Titles) {
    let city = City::start();
    let olga = city.enrolled_phone("olga");
    let alice = city.enrolled_phone("alice");
    helpdesk::grant(city.state(), "olga", Role::Operator).unwrap();
    helpdesk::grant(city.state(), "olga", Role::Auditor).unwrap();
    let browser = Browser::start().expect("headless chromium");
    browser.watch_csp().unwrap();
    browser.accept_language(lang).unwrap();

    browser.goto(&format!("{}/helpdesk", city.url())).unwrap();
    check(&browser, lang, "console sign-in");
    browser
        .find("#username")
        .unwrap()
        .type_text("olga")
        .unwrap();
    browser
        .find("#password")
        .unwrap()
        .type_text(GOOD_PASSWORD)
        .unwrap();
    browser
        .find("button[type=submit]")
        .unwrap()
        .click()
        .unwrap();
    let number = shown_number(&browser);
    check(&browser, lang, "console sign-in: approve on the phone");
    olga.approve(&number);
    // The poll script sends the continue form once the phone approved.
    browser.wait_for_title(titles.home).unwrap();
    check(&browser, lang, "console home");

    browser
        .find("#employee")
        .unwrap()
        .type_text("alice")
        .unwrap();
    browser
        .find("form[action='/helpdesk/employee'] button")
        .unwrap()
        .click()
        .unwrap();
    browser.wait_for_title(titles.employee).unwrap();
    check(&browser, lang, "employee");

    browser
        .find("form[action='/helpdesk/verify'] button")
        .unwrap()
        .click()
        .unwrap();
    browser.wait_for_title(titles.verifying).unwrap();
    check(&browser, lang, "verifying the caller");
    alice.approve(&shown_number(&browser));
    browser.wait_for_title(titles.employee).unwrap();
    browser.find("[role=status]").unwrap();
    check(&browser, lang, "employee: caller verified");
    if let Some(dir) = std::env::var_os("CITYAUTH_SHOTS") {
        let png = browser.screenshot().unwrap();
        let path = std::path::Path::new(&dir).join(format!("helpdesk-{lang}.png"));
        std::fs::write(path, png).unwrap();
    }

    browser
        .find("form[action='/helpdesk/access-code'] button")
        .unwrap()
        .click()
        .unwrap();
    browser.wait_for_title(titles.code).unwrap();
    let code = shown_number(&browser);
    assert_eq!(code.len(), 19, "{code}");
    check(&browser, lang, "access code");

    browser
        .goto(&format!("{}/helpdesk/audit", city.url()))
        .unwrap();
    let text = browser.page_text().unwrap();
    assert!(text.contains("access_code_issued"), "{text}");
    assert!(!text.contains(&code), "the code is not in the audit trail");
    check(&browser, lang, "audit trail");
}
