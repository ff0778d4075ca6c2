//! The published OpenAPI description (`server/openapi.json`, served at
//! `GET /api/v1/openapi.json`) is in step with the router: every route the router declares
//! under `/api` (and `/healthz`, `/readyz`, `/metrics`) is described, and every described
//! path and method is served by the real server on loopback (a stale path would reach the
//! fallback's `404`).

mod common;

use std::collections::BTreeSet;

use common::Harness;
use serde_json::Value;

/// The description as the server serves it.
fn served_doc(h: &Harness) -> Value {
    let reply = h.get("/api/v1/openapi.json");
    assert_eq!(reply.status, 200, "{reply:?}");
    reply.body
}

/// `(METHOD, path)` of every operation in the description.
fn described(doc: &Value) -> BTreeSet<(String, String)> {
    let mut operations = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("a path item").keys() {
            operations.insert((method.to_ascii_uppercase(), path.clone()));
        }
    }
    operations
}

/// `(METHOD, path)` of every `.route("path", method(...))` in a router's source. Every
/// `.route(` must be read, so that a route written another way fails here instead of
/// being skipped.
fn declared(source: &str) -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    let mut rest = source;
    let mut seen = 0;
    while let Some(at) = rest.find(".route(") {
        seen += 1;
        rest = &rest[at + ".route(".len()..];
        let rest_trimmed = rest.trim_start();
        let path = rest_trimmed
            .strip_prefix('"')
            .and_then(|r| r.split_once('"'))
            .map(|(path, _)| path)
            .unwrap_or_else(|| panic!("a route whose path is not a literal: {rest_trimmed:.60}"));
        // The handlers: `get(a)`, `post(b)`, chained as `get(a).post(b)`.
        let after = rest_trimmed[path.len() + 2..].trim_start();
        let after = after
            .strip_prefix(',')
            .expect("the path, then its handlers");
        let mut handlers = after.trim_start();
        let mut any = false;
        loop {
            let name: String = handlers
                .chars()
                .take_while(|c| c.is_ascii_alphabetic() || *c == '_')
                .collect();
            // `json_post` is the API's POST with its content-type check.
            let method = name.strip_prefix("json_").unwrap_or(&name);
            match method {
                "get" | "post" | "put" | "patch" | "delete" => {
                    routes.insert((method.to_ascii_uppercase(), path.to_owned()));
                    any = true;
                }
                _ if any => break,
                // `get(move |…| …)` and other forms all start with the method's name.
                other => panic!("a route {path} with handler {other:?}: not read"),
            }
            // Skip the call's parentheses, then look for a chained `.method(`.
            let mut depth = 0;
            let mut end = 0;
            for (i, c) in handlers.char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            end = i + 1;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            handlers = handlers[end..].trim_start();
            match handlers.strip_prefix('.') {
                Some(chained) => handlers = chained,
                None => break,
            }
        }
    }
    assert!(seen > 0, "no route found in the source");
    routes
}

/// The routes the description must cover: the API's, and the operations routes.
fn router_routes() -> BTreeSet<(String, String)> {
    let api = declared(include_str!("../src/api/mod.rs"));
    let whole = declared(include_str!("../src/server.rs"));
    // The portal's routes are pages and forms, none under /api (a portal route there would
    // have to be described too).
    for portal in [
        include_str!("../src/portal/mod.rs"),
        include_str!("../src/portal/helpdesk/mod.rs"),
        include_str!("../src/portal/campaign.rs"),
    ] {
        assert!(!portal.contains("\"/api"), "a portal route under /api");
    }
    api.into_iter().chain(whole).collect()
}

#[test]
fn the_served_description_is_the_file_and_openapi_3() {
    let h = Harness::start();
    let doc = served_doc(&h);
    let file: Value = serde_json::from_str(include_str!("../openapi.json")).unwrap();
    assert_eq!(doc, file);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{doc}");
    // Every `$ref` points at something that exists.
    fn refs(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(target)) = map.get("$ref") {
                    out.push(target.clone());
                }
                map.values().for_each(|v| refs(v, out));
            }
            Value::Array(list) => list.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut targets = Vec::new();
    refs(&doc, &mut targets);
    assert!(!targets.is_empty());
    for target in targets {
        let pointer = target.strip_prefix('#').expect("a local reference");
        assert!(doc.pointer(pointer).is_some(), "dangling {target}");
    }
}

#[test]
fn every_route_under_api_is_described_and_nothing_else() {
    let doc: Value = serde_json::from_str(include_str!("../openapi.json")).unwrap();
    let routes = router_routes();
    assert!(routes.len() > 15, "{routes:?}");
    let described = described(&doc);
    let undocumented: Vec<_> = routes.difference(&described).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from openapi.json: {undocumented:?}"
    );
    let stale: Vec<_> = described.difference(&routes).collect();
    assert!(
        stale.is_empty(),
        "described but not in the router: {stale:?}"
    );
}

/// The path with each `{param}` filled in.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|part| if part.starts_with('{') { "probe" } else { part })
        .collect::<Vec<_>>()
        .join("/")
}

#[test]
fn every_described_operation_is_served_and_answers_a_described_status() {
    let h = Harness::start();
    let doc = served_doc(&h);
    // The check below tells a served path from a stale one: an unknown path reaches the
    // fallback (404), a known one with a method it lacks is 405.
    let unknown = h.send_from("127.0.0.1", "PUT", "/api/v1/no-such-route", &[], None);
    assert_eq!(unknown.status, 404, "{unknown:?}");
    for (method, path) in described(&doc) {
        let url = concrete(&path);
        let other = h.send_from("127.0.0.1", "PUT", &url, &[], None);
        assert_eq!(
            other.status, 405,
            "{path}: PUT should be 405 on a served path, not {other:?}"
        );
        let body = (method == "POST").then_some(&b"{}"[..]);
        let reply = h.send_from("127.0.0.1", &method, &url, &[], body);
        let responses = &doc["paths"][&path][method.to_ascii_lowercase()]["responses"];
        assert!(
            responses.get(reply.status.to_string()).is_some(),
            "{method} {path}: {} is not among the described answers {responses}",
            reply.status
        );
        if reply.status >= 400 {
            assert!(
                reply.body["error"].is_string(),
                "{method} {path}: {reply:?}"
            );
        }
    }
}

/// A raw request with exactly these header lines, from loopback; the status line's code.
fn raw_status(h: &Harness, request: &str) -> u16 {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(h.server.addr()).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status: {answer}"))
}

/// Found by schemathesis (ST204): a PUT or POST without a JSON content type on a GET-only
/// path was `415`, the media-type check running before the router could say `405`.
#[test]
fn a_method_the_api_does_not_serve_is_405_whatever_its_content_type() {
    let h = Harness::start();
    for path in [
        "/api/v1/server-key",
        "/api/v1/reset/probe",
        "/api/v1/session",
    ] {
        for method in ["PUT", "PATCH", "POST", "DELETE"] {
            let request = format!(
                "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
                 Content-Length: 0\r\n\r\n"
            );
            assert_eq!(raw_status(&h, &request), 405, "{method} {path}");
        }
    }
    // Where POST is served, it still needs its JSON content type.
    for path in [
        "/api/v1/reset/start",
        "/api/v1/reset/probe/code",
        "/api/v1/enroll",
    ] {
        let post = format!(
            "POST {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
             Content-Type: text/plain\r\nContent-Length: 2\r\n\r\n{{}}"
        );
        assert_eq!(raw_status(&h, &post), 415, "{path}");
    }
}

/// docs/protocol.md promises every error as `{error, message}`; the router's own `405` had
/// an empty body.
#[test]
fn a_405_is_the_protocols_json_error_and_keeps_its_allow_header() {
    use std::io::{Read, Write};
    let h = Harness::start();
    let reply = h.send_from("127.0.0.1", "PUT", "/api/v1/server-key", &[], None);
    assert_eq!(reply.status, 405, "{reply:?}");
    assert_eq!(reply.error(), "method_not_allowed", "{reply:?}");
    assert!(
        reply.body["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
    let mut stream = std::net::TcpStream::connect(h.server.addr()).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    stream
        .write_all(
            b"DELETE /api/v1/reset/start HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        )
        .unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer).to_ascii_lowercase();
    assert!(answer.starts_with("http/1.1 405"), "{answer}");
    assert!(answer.contains("\r\nallow: post"), "{answer}");
    assert!(
        answer.contains("content-type: application/json"),
        "{answer}"
    );
}
