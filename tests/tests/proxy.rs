//! Behind a real nginx on loopback (TLS at nginx, from a CA made at test time): the server
//! takes the client's address from `X-Forwarded-For` only when the TCP peer is the trusted
//! proxy, so employees behind it are distinct clients with their own per-IP limits, and a
//! header sent straight to the server is ignored.

use std::net::IpAddr;

use cityauth_e2e::nginx::{self, Nginx, ProxyOptions, TestCa};
use cityauth_e2e::{City, Phone};
use cityauth_server::limits::Limit;

/// The address nginx connects to the server from: the one trusted proxy.
const PROXY: &str = "127.0.0.10";
/// Reset starts one client may make (per 10 minutes) in this test.
const PER_IP: u32 = 3;

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

/// Starts a reset for `username` at `base` with `agent`, optionally with a forged header.
fn reset_start(agent: &ureq::Agent, base: &str, username: &str, forged: Option<&str>) -> u16 {
    let mut request = agent
        .post(format!("{base}/api/v1/reset/start"))
        .header("content-type", "application/json");
    if let Some(forged) = forged {
        request = request.header("x-forwarded-for", forged);
    }
    request
        .send(serde_json::json!({ "username": username }).to_string())
        .unwrap()
        .status()
        .as_u16()
}

/// The client addresses the audit log recorded for `username`'s reset starts.
fn audited_ips(city: &City, username: &str) -> Vec<String> {
    // The reset start's audit row is written behind its answer.
    assert!(city.state().settle(std::time::Duration::from_secs(30)));
    cityauth_server::admin::audit(city.state(), Some(username), 50)
        .unwrap()
        .into_iter()
        .filter(|e| e.event == "reset_start")
        .filter_map(|e| e.client_ip)
        .collect()
}

#[test]
fn clients_behind_the_trusted_proxy_are_told_apart_and_forged_headers_are_ignored() {
    let Some(binary) = nginx::binary() else {
        eprintln!("SKIPPED: nginx is not installed (apt-get install nginx); .ci/run installs it");
        return;
    };
    let city = City::start_with(|config| {
        config.edge.trusted_proxies = vec![PROXY.parse().unwrap()];
        config.limits.reset_start_per_ip = Limit {
            max: PER_IP,
            window: 600,
        };
    });
    let ca = TestCa::new().unwrap();
    let proxy = Nginx::start(
        &binary,
        &ProxyOptions {
            upstreams: &[city.server.addr()],
            ca: &ca,
            bind: ip(PROXY),
        },
    )
    .unwrap();
    let via_proxy = proxy.url();
    let first = nginx::client(ip("127.0.0.2"), &ca);
    let second = nginx::client(ip("127.0.0.3"), &ca);

    // Two employees through nginx: each seen at their own address, not at nginx's.
    assert_eq!(
        reset_start(&first, &via_proxy, "first-employee", None),
        200,
        "{}",
        proxy.error_log()
    );
    assert_eq!(
        reset_start(&second, &via_proxy, "second-employee", None),
        200
    );
    assert_eq!(audited_ips(&city, "first-employee"), ["127.0.0.2"]);
    assert_eq!(audited_ips(&city, "second-employee"), ["127.0.0.3"]);

    // Per-IP limits apply per real client: the first uses up its own allowance ...
    for n in 1..PER_IP {
        let user = format!("first-employee-{n}");
        assert_eq!(reset_start(&first, &via_proxy, &user, None), 200);
    }
    assert_eq!(
        reset_start(&first, &via_proxy, "first-employee-x", None),
        429
    );
    // ... and the second, behind the same proxy, is not stopped by it.
    assert_eq!(
        reset_start(&second, &via_proxy, "second-employee-2", None),
        200
    );

    // The push to the employee's phone shows the browser's address, not the proxy's.
    city.add_employee("alice");
    let phone = Phone::new();
    phone.enroll(&city.enrollment_link("alice"));
    assert_eq!(reset_start(&second, &via_proxy, "alice", None), 200);
    let pushed = phone.device().pending_challenges(5).unwrap();
    assert_eq!(pushed.len(), 1);
    assert_eq!(pushed[0].client_ip, "127.0.0.3");

    // A client that sends its own X-Forwarded-For through nginx gets its real address:
    // nginx appends the peer it saw, and the server reads right to left.
    let third = nginx::client(ip("127.0.0.4"), &ca);
    assert_eq!(
        reset_start(&third, &via_proxy, "third-employee", Some("203.0.113.99")),
        200
    );
    assert_eq!(audited_ips(&city, "third-employee"), ["127.0.0.4"]);

    // Straight to the server (not through the trusted proxy) the header is ignored.
    let direct = nginx::client(ip("127.0.0.5"), &ca);
    let forged = reset_start(&direct, &city.url(), "direct-client", Some("203.0.113.99"));
    assert_eq!(forged, 200);
    assert_eq!(audited_ips(&city, "direct-client"), ["127.0.0.5"]);
    // Not even in the name of the proxy itself.
    let pretender = nginx::client(ip("127.0.0.6"), &ca);
    let forged = reset_start(&pretender, &city.url(), "pretender", Some(PROXY));
    assert_eq!(forged, 200);
    assert_eq!(audited_ips(&city, "pretender"), ["127.0.0.6"]);
}
