//! The browser tests' page checks: no Content-Security-Policy violation, and axe-core's
//! WCAG 2.1 A and AA rules with no serious or critical violation (axe-core pinned in
//! `tests/browser`, installed by `npm ci --prefix tests/browser`).

use crate::webdriver::Browser;

/// Panics listing the page's CSP violations, if any (the browser must watch them).
pub fn assert_no_csp_violation(browser: &Browser, page: &str) {
    let violations = browser.csp_violations().expect("read the CSP violations");
    assert!(violations.is_empty(), "{page}: {violations:#?}");
}

/// Runs axe-core in the page; panics listing every serious or critical violation. Checks
/// first that the page broke none of its CSP (axe, injected by WebDriver, is exempt).
pub fn assert_accessible(browser: &Browser, page: &str) {
    assert_no_csp_violation(browser, page);
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/browser/node_modules/axe-core/axe.min.js"
    );
    let axe = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{path}: {e} (run `npm ci --prefix tests/browser`)"));
    browser
        .script(&format!("{axe}\nreturn typeof axe;"))
        .expect("inject axe-core");
    let violations = browser
        .async_script(
            "const done = arguments[arguments.length - 1];
             axe.run(document, {runOnly: {type: 'tag',
                 values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})
               .then(r => done(r.violations.map(v =>
                   ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length}))))
               .catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e)}]));",
        )
        .expect("run axe-core");
    let grave: Vec<_> = violations
        .as_array()
        .expect("a list of violations")
        .iter()
        .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
        .collect();
    assert!(grave.is_empty(), "{page}: {grave:#?}");
}
