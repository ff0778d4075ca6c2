//! The audit trail exported for the City's SIEM: every event the store records is appended
//! to the JSON Lines file and sent to the syslog socket as an RFC 5424 message, in the same
//! order, with nothing secret in either.

mod common;

use std::os::unix::net::UnixDatagram;
use std::time::Duration;

use cityauth_server::admin;
use cityauth_server::auditlog::AuditExportConfig;
use common::Harness;
use serde_json::{Value, json};

const NEW_PASSWORD: &str = "Quiet-Harbour-Lantern-93";

#[test]
fn every_event_goes_to_the_file_and_to_syslog_as_the_store_has_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("audit.jsonl");
    let socket_path = dir.path().join("log.sock");
    let syslog = UnixDatagram::bind(&socket_path).unwrap();
    syslog
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let export = AuditExportConfig {
        file: Some(file.clone()),
        syslog: Some(socket_path),
    };
    let h = Harness::with_config(|c| c.audit_export = export);
    h.add_user("alice");
    let device = h.enroll("alice");
    let reset = h.verified_reset("alice", &device);
    let reply = h.post(
        &format!("/api/v1/reset/{reset}/password"),
        &json!({ "password": NEW_PASSWORD }),
    );
    assert_eq!(reply.status, 200, "{reply:?}");

    let stored = admin::audit(h.state(), None, 100).unwrap();
    let lines: Vec<Value> = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    // The store lists newest first; the file is in the order of the events.
    let stored_events: Vec<&str> = stored.iter().rev().map(|e| e.event.as_str()).collect();
    let file_events: Vec<&str> = lines.iter().map(|l| l["event"].as_str().unwrap()).collect();
    assert_eq!(file_events, stored_events);
    for event in ["user_created", "device_enrolled", "password_reset"] {
        assert!(
            file_events.contains(&event),
            "{event} missing: {file_events:?}"
        );
    }

    let mut buffer = vec![0; 64 * 1024];
    for line in &lines {
        let n = syslog
            .recv(&mut buffer)
            .expect("a syslog message per event");
        let message = std::str::from_utf8(&buffer[..n]).unwrap();
        let (header, json) = message.split_once('\u{feff}').unwrap();
        let fields: Vec<&str> = header.splitn(7, ' ').collect();
        assert_eq!(fields[0], "<86>1", "authpriv.info, version 1: {header}");
        assert!(
            fields[1].ends_with('Z') && fields[1].len() == 20,
            "{header}"
        );
        assert_eq!(fields[3], "cityauth-server");
        assert_eq!(fields[4], std::process::id().to_string());
        assert_eq!(fields[5], line["event"].as_str().unwrap());
        let username = line["username"]
            .as_str()
            .map(|u| format!("username=\"{u}\""));
        if let Some(username) = username {
            assert!(fields[6].contains(&username), "{header}");
        }
        assert_eq!(&serde_json::from_str::<Value>(json).unwrap(), line);
        assert!(!message.contains(NEW_PASSWORD) && !message.contains(&reset));
    }
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        !text.contains(NEW_PASSWORD),
        "the password in the audit file"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the audit file is the server's own");
}

#[test]
fn an_export_that_cannot_be_opened_stops_the_start_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-socket");
    let config = AuditExportConfig {
        file: None,
        syslog: Some(missing.clone()),
    };
    let error = cityauth_server::auditlog::AuditExport::open(&config)
        .err()
        .expect("a socket that is not there");
    let text = error.to_string();
    assert!(
        text.starts_with("audit.syslog: ") && text.contains(&missing.display().to_string()),
        "{text}"
    );
}
