//! The portal in a real headless browser (Debian's chromium through chromedriver): an
//! employee clicks through "Forgot my password" while the core approves on the phone, and
//! every portal page passes axe-core's WCAG 2.1 A and AA rules with no serious or critical
//! violation, and runs under its strict Content-Security-Policy with no violation (the poll
//! script, a static file, still notices the approval by itself).

use cityauth_core::device::Decision;
use cityauth_e2e::axe::{assert_accessible, assert_no_csp_violation};
use cityauth_e2e::webdriver::Browser;
use cityauth_e2e::{City, Phone};

const NEW_PASSWORD: &str = "amber-signal-orchard-47";

#[test]
fn forgot_my_password_in_a_browser_while_the_phone_approves() {
    let city = City::start();
    city.add_employee("alice");
    let phone = Phone::new();
    phone.enroll(&city.enrollment_link("alice"));
    let browser = Browser::start().expect("headless chromium");
    browser.watch_csp().unwrap();

    walk_forgot(&browser, &city, &phone, "alice", &ENGLISH);

    // The new password signs in (with an approval); the old one does not.
    let signin = |password: &str| {
        let body = serde_json::json!({"username": "alice", "password": password});
        city.post("/api/v1/signin", body.to_string().into_bytes()).0
    };
    assert_eq!(signin(cityauth_e2e::GOOD_PASSWORD), 401);
    assert_eq!(signin(NEW_PASSWORD), 200);
}

#[test]
fn a_refused_password_and_the_unlock_button_in_a_browser() {
    let city = City::start();
    city.add_employee("alice");
    let phone = Phone::new();
    phone.enroll(&city.enrollment_link("alice"));
    let browser = Browser::start().expect("headless chromium");
    browser.watch_csp().unwrap();
    browser.goto(&format!("{}/forgot", city.url())).unwrap();
    browser
        .find("#username")
        .unwrap()
        .type_text("alice")
        .unwrap();
    browser
        .find("button[type=submit]")
        .unwrap()
        .click()
        .unwrap();
    let number = browser.find(".number").unwrap().text().unwrap();
    let challenge = phone.device().pending_challenges(10).unwrap().remove(0);
    phone
        .device()
        .answer(&challenge, Decision::Approve, Some(number.trim()))
        .unwrap();
    // The directory (here the built-in store) refuses the current password: its sentence,
    // and the same form to choose another.
    browser
        .find("#password")
        .unwrap()
        .type_text(cityauth_e2e::GOOD_PASSWORD)
        .unwrap();
    browser
        .find("form[action='/forgot/password'] button")
        .unwrap()
        .click()
        .unwrap();
    let alert = browser.find("p.error[role=alert]").unwrap().text().unwrap();
    assert!(alert.contains("used it before"), "{alert}");
    assert_accessible(&browser, "forgot: refused by the directory");
    browser
        .find("form[action='/forgot/unlock'] button")
        .unwrap()
        .click()
        .unwrap();
    browser.wait_for_title("Account unlocked").unwrap();
    assert!(
        browser
            .page_text()
            .unwrap()
            .contains("Your password is unchanged")
    );
    assert_accessible(&browser, "forgot: unlocked");
    let body = serde_json::json!({"username": "alice", "password": cityauth_e2e::GOOD_PASSWORD});
    assert_eq!(
        city.post("/api/v1/signin", body.to_string().into_bytes()).0,
        200
    );
}

#[test]
fn every_portal_page_passes_axe_in_english() {
    every_portal_page_passes_axe("en", "Register a phone", "Security info");
}

#[test]
fn every_portal_page_passes_axe_in_spanish() {
    every_portal_page_passes_axe("es", "Registre un teléfono", "Información de seguridad");
}

/// Every portal page, in a browser whose language is `lang`, speaks it and passes axe-core.
fn every_portal_page_passes_axe(lang: &str, register_title: &str, security_title: &str) {
    // The pilot policy lets the password enroll a first phone, so that the enrollment page
    // can be reached here.
    let city = City::start_with(|c| c.first_device = cityauth_server::FirstDevice::Password);
    city.add_employee("alice");
    let browser = Browser::start().expect("headless chromium");
    browser.watch_csp().unwrap();
    browser.accept_language(lang).unwrap();
    for path in [
        "/",
        "/signin",
        "/signin/access-code",
        "/forgot",
        "/security",
        "/password",
    ] {
        browser.goto(&format!("{}{path}", city.url())).unwrap();
        assert!(!browser.title().unwrap().is_empty(), "{path} has a title");
        assert_eq!(browser.page_lang().unwrap(), lang, "{path}");
        assert_accessible(&browser, path);
    }
    // Signed in (no phone yet, so no approval): the prompt to register one, Security info
    // once it is put off, a new enrollment code, the change-password form.
    browser.goto(&format!("{}/signin", city.url())).unwrap();
    browser
        .find("#username")
        .unwrap()
        .type_text("alice")
        .unwrap();
    browser
        .find("#password")
        .unwrap()
        .type_text(cityauth_e2e::GOOD_PASSWORD)
        .unwrap();
    browser
        .find("button[type=submit]")
        .unwrap()
        .click()
        .unwrap();
    browser.wait_for_title(register_title).unwrap();
    assert_accessible(&browser, "the prompt to register a phone");
    browser
        .find("form[action='/security/register/later'] button")
        .unwrap()
        .click()
        .unwrap();
    browser.wait_for_title(security_title).unwrap();
    assert_accessible(&browser, "security info");
    browser
        .find("form[action='/security/add-phone'] button")
        .unwrap()
        .click()
        .unwrap();
    browser.find("img.qr").unwrap();
    let shown = browser
        .script(
            "const i = document.querySelector('img.qr'); return i.complete && i.naturalWidth > 0;",
        )
        .unwrap();
    assert_eq!(
        shown,
        serde_json::json!(true),
        "the QR code (a data: image) loads"
    );
    assert_accessible(&browser, "add a phone: the code");
    browser.goto(&format!("{}/password", city.url())).unwrap();
    assert_accessible(&browser, "change password");
    // With a phone: its dates and the "This is still my phone" button.
    let phone = Phone::new();
    phone.enroll(&city.enrollment_link("alice"));
    browser.goto(&format!("{}/security", city.url())).unwrap();
    browser
        .find("form[action='/security/devices/confirm'] button")
        .unwrap();
    assert_accessible(&browser, "security info with a phone");
}

#[test]
fn the_csp_check_catches_a_violation() {
    // An inline script added to a portal page: its CSP blocks it, and the watcher says so.
    let city = City::start();
    let browser = Browser::start().expect("headless chromium");
    browser.watch_csp().unwrap();
    browser.goto(&format!("{}/signin", city.url())).unwrap();
    assert_no_csp_violation(&browser, "before");
    browser
        .script(
            "const s = document.createElement('script');
             s.textContent = 'window.ran = true;';
             document.body.appendChild(s);",
        )
        .unwrap();
    // The violation event is dispatched asynchronously: wait for it (bounded).
    let seen = browser
        .async_script(
            "const done = arguments[arguments.length - 1];
             let tries = 0;
             (function wait() {
                 if (window.__cspViolations.length > 0 || tries++ > 50) {
                     done(window.__cspViolations.length);
                 } else { setTimeout(wait, 20); }
             })();",
        )
        .unwrap();
    assert!(
        seen.as_u64().unwrap_or(0) > 0,
        "the blocked inline script is reported"
    );
    assert_eq!(
        browser.script("return window.ran === true;").unwrap(),
        serde_json::json!(false),
        "and did not run"
    );
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        assert_no_csp_violation(&browser, "after")
    }));
    assert!(caught.is_err());
}

#[test]
fn the_accessibility_check_catches_a_failing_page() {
    // An image without alt text and an unlabelled input: axe-core rates both critical.
    let browser = Browser::start().expect("headless chromium");
    browser
        .goto("data:text/html,<html><head><title>bad</title></head><body><main><img src='x.png'><input type='text'></main></body></html>")
        .unwrap();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        assert_accessible(&browser, "a bad page")
    }));
    assert!(caught.is_err(), "axe-core must flag the bad page");
}

/// The words each language's "Forgot my password" walk must show, page by page.
struct Walk {
    lang: &'static str,
    forgot_title: &'static str,
    waiting_words: &'static str,
    new_password_title: &'static str,
    done_title: &'static str,
    done_words: &'static str,
}

const ENGLISH: Walk = Walk {
    lang: "en",
    forgot_title: "Forgot my password",
    waiting_words: "type this number to approve the password reset",
    new_password_title: "Choose a new password",
    done_title: "Password changed",
    done_words: "signed out everywhere",
};

const SPANISH: Walk = Walk {
    lang: "es",
    forgot_title: "Olvidé mi contraseña",
    waiting_words: "escriba este número para aprobar el restablecimiento",
    new_password_title: "Elija una contraseña nueva",
    done_title: "Contraseña cambiada",
    done_words: "se cerró su sesión en todos los dispositivos",
};

/// Walks "Forgot my password" for `user` in the browser's current language, asserting each
/// page's words and language and running axe-core on each; saves the first page's
/// screenshot as `forgot-<lang>.png` in `$CITYAUTH_SHOTS` when that is set.
fn walk_forgot(browser: &Browser, city: &City, phone: &Phone, user: &str, walk: &Walk) {
    let page = |name: &str| format!("forgot ({}): {name}", walk.lang);
    browser.goto(&format!("{}/", city.url())).unwrap();
    browser.find("a[href='/forgot']").unwrap().click().unwrap();
    browser.wait_for_title(walk.forgot_title).unwrap();
    assert_eq!(browser.page_lang().unwrap(), walk.lang);
    assert_accessible(browser, &page("username"));
    if let Some(dir) = std::env::var_os("CITYAUTH_SHOTS") {
        let png = browser.screenshot().unwrap();
        assert!(png.starts_with(b"\x89PNG"), "a PNG");
        std::fs::write(
            std::path::Path::new(&dir).join(format!("forgot-{}.png", walk.lang)),
            png,
        )
        .unwrap();
    }
    browser.find("#username").unwrap().type_text(user).unwrap();
    browser
        .find("button[type=submit]")
        .unwrap()
        .click()
        .unwrap();
    let number = browser.find(".number").unwrap().text().unwrap();
    let text = browser.page_text().unwrap();
    assert!(text.contains(walk.waiting_words), "{text}");
    assert_accessible(browser, &page("the number"));
    // On the phone: the request arrives, verified; the employee types the browser's number.
    let challenge = phone.device().pending_challenges(10).unwrap().remove(0);
    assert_eq!(usize::from(challenge.number_digits), number.trim().len());
    let outcome = phone
        .device()
        .answer(&challenge, Decision::Approve, Some(number.trim()))
        .unwrap();
    assert_eq!(outcome, "approved");
    // The page notices the approval by itself (the static poll script, allowed by the CSP,
    // reads its URL from a data- attribute); the button is for browsers without script.
    browser.wait_for_title(walk.new_password_title).unwrap();
    assert_accessible(browser, &page("new password"));
    browser
        .find("#password")
        .unwrap()
        .type_text(NEW_PASSWORD)
        .unwrap();
    browser
        .find("button[type=submit]")
        .unwrap()
        .click()
        .unwrap();
    browser.wait_for_title(walk.done_title).unwrap();
    let text = browser.page_text().unwrap();
    assert!(text.contains(walk.done_words), "{text}");
    assert_eq!(browser.page_lang().unwrap(), walk.lang);
    assert_accessible(browser, &page("done"));
}

#[test]
fn forgot_my_password_in_spanish_by_accept_language_then_in_english_by_the_switch() {
    let city = City::start();
    let (ana, bob) = (Phone::new(), Phone::new());
    city.add_employee("ana");
    city.add_employee("bob");
    ana.enroll(&city.enrollment_link("ana"));
    bob.enroll(&city.enrollment_link("bob"));
    let browser = Browser::start().expect("headless chromium");
    browser.watch_csp().unwrap();

    // A browser set to Spanish (Mexico) gets Spanish without asking.
    browser.accept_language("es-MX,es;q=0.9,en;q=0.5").unwrap();
    walk_forgot(&browser, &city, &ana, "ana", &SPANISH);

    // The switch on the page turns it to English, and English is remembered on every
    // page after, though the browser still prefers Spanish.
    browser.goto(&format!("{}/signin", city.url())).unwrap();
    assert_eq!(browser.page_lang().unwrap(), "es");
    let current = browser
        .find("a[aria-current='true']")
        .unwrap()
        .text()
        .unwrap();
    assert_eq!(current, "Español");
    browser.find("a[hreflang='en']").unwrap().click().unwrap();
    browser.wait_for_title("Sign in").unwrap();
    assert_eq!(
        browser.page_lang().unwrap(),
        "en",
        "back on the same page, in English"
    );
    walk_forgot(&browser, &city, &bob, "bob", &ENGLISH);
}
