//! `GET /metrics` after real flows: the counters moved, the latency histogram is labelled by
//! route pattern (never by the path a client chose), `promtool check metrics` accepts the
//! text, and only the loopback and `metrics_allow` may read it (a client relayed by a trusted
//! proxy is judged by its own address). Every answer carries an `X-Request-Id`.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use cityauth_protocol::wire::{ChallengeKind, Decision};
use common::Harness;
use common::clients::approve;
use serde_json::json;

/// Debian's promtool (package `prometheus`).
const PROMTOOL: &str = "/usr/bin/promtool";

fn scrape(h: &Harness) -> (u16, String, String) {
    scrape_accepting(h, "text/plain")
}

fn scrape_accepting(h: &Harness, accept: &str) -> (u16, String, String) {
    let mut response = h
        .agent
        .get(&h.url("/metrics"))
        .header("accept", accept)
        .call()
        .unwrap();
    let kind = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let text = response.body_mut().read_to_string().unwrap();
    (response.status().as_u16(), kind, text)
}

/// The value of the sample `name` (with its labels, as written), 0 when absent.
fn sample(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

#[test]
fn the_counters_move_with_real_flows_and_promtool_accepts_the_text() {
    let h = Harness::with_config(|c| {
        // Approval, denial and fraud are each one challenge to the same account.
        c.limits.push_anonymous.max = 50;
    });
    h.add_user("alice");
    let device = h.enroll("alice");
    let (_, before, _) = scrape(&h);
    assert_eq!(sample(&before, "cityauth_resets_started_total"), 0.0);

    // An approved reset, with its new password written.
    let (reset, number) = h.start_reset("alice");
    approve(&h, &device, ChallengeKind::PasswordReset, &number);
    let done = h.post(
        &format!("/api/v1/reset/{reset}/password"),
        &json!({"password": "Quartz-Meadow-Lantern-77"}),
    );
    assert_eq!(done.status, 200, "{done:?}");
    // A denied one and one reported as fraud.
    for decision in [Decision::Deny, Decision::Fraud] {
        h.start_reset("alice");
        let challenge = device.poll(&h, 5).pop().unwrap();
        let reply = device.answer(&h, &challenge, decision, None);
        assert_eq!(reply.status, 200, "{reply:?}");
    }

    let (status, kind, text) = scrape(&h);
    assert_eq!(status, 200);
    assert_eq!(kind, "text/plain; version=0.0.4; charset=utf-8");
    assert_eq!(
        sample(&text, "cityauth_resets_started_total"),
        3.0,
        "{text}"
    );
    assert_eq!(
        sample(&text, "cityauth_resets_completed_total"),
        1.0,
        "{text}"
    );
    assert_eq!(sample(&text, "cityauth_approvals_total"), 1.0, "{text}");
    assert_eq!(sample(&text, "cityauth_denials_total"), 1.0, "{text}");
    assert_eq!(sample(&text, "cityauth_fraud_reports_total"), 1.0, "{text}");
    assert!(
        sample(
            &text,
            "cityauth_request_duration_seconds_count{route=\"/api/v1/reset/{id}/password\"}"
        ) >= 1.0,
        "{text}"
    );
    assert!(!text.contains(&reset), "a reset id became a label: {text}");

    let mut promtool = Command::new(PROMTOOL)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool (Debian's prometheus package; scripts/install-test-deps installs it)");
    promtool
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = promtool.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "promtool: {said}\n{text}");
    assert!(!said.to_lowercase().contains("error"), "promtool: {said}");

    // Prometheus's own Accept header gets OpenMetrics, the same counts.
    let (_, kind, open) = scrape_accepting(
        &h,
        "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5",
    );
    assert_eq!(
        kind,
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    assert!(open.ends_with("# EOF\n"), "{open}");
    assert_eq!(sample(&open, "cityauth_approvals_total"), 1.0, "{open}");
}

#[test]
fn only_the_loopback_and_the_allowed_blocks_read_the_metrics_even_through_a_trusted_proxy() {
    let h = Harness::with_config(|c| {
        c.edge.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
        c.metrics_allow = vec!["198.51.100.0/24".parse().unwrap()];
    });
    let via_proxy = |client: &str| {
        h.send_from(
            "127.0.0.1",
            "GET",
            "/metrics",
            &[("X-Forwarded-For".into(), client.into())],
            None,
        )
        .status
    };
    assert_eq!(h.get("/metrics").status, 200, "the loopback itself");
    assert_eq!(
        via_proxy("203.0.113.7"),
        404,
        "a public client through nginx"
    );
    assert_eq!(via_proxy("198.51.100.20"), 200, "the monitoring network");
}

#[test]
fn every_answer_carries_a_fresh_request_id() {
    let h = Harness::start();
    let id = |path: &str| {
        let response = h.agent.get(&h.url(path)).call().unwrap();
        response
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .expect("an X-Request-Id")
    };
    let (a, b, c) = (id("/healthz"), id("/healthz"), id("/no-such-page"));
    assert_eq!(a.len(), 16);
    assert!(a != b && b != c, "{a} {b} {c}");
}
