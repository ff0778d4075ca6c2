//! Slow clients over raw TCP on loopback: half-sent heads and bodies, idle keep-alive
//! connections and clients that stop reading are closed after their timeouts; connections
//! past the cap are closed while the cap holds; the signed long poll still holds its answer
//! past those timeouts.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::Harness;

/// The test's own bound on each read: far above the server's timeouts in these tests, so a
/// server that never closes fails the test instead of hanging it.
const CLIENT_PATIENCE: Duration = Duration::from_secs(20);

fn connect(h: &Harness) -> TcpStream {
    let stream = TcpStream::connect(h.server.addr()).unwrap();
    stream.set_read_timeout(Some(CLIENT_PATIENCE)).unwrap();
    stream
}

/// Reads until the server closes the connection; what it sent, or the error if the
/// client's patience ran out first (the server kept the connection open).
fn until_closed(stream: &mut TcpStream) -> Result<String, std::io::Error> {
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => received.extend_from_slice(&buffer[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::ConnectionReset | ErrorKind::BrokenPipe) => {
                break;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(String::from_utf8_lossy(&received).into_owned())
}

/// Reads one response (head and `Content-Length` body) without waiting for a close.
fn one_response(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let mut byte = [0u8; 1];
    while !received.ends_with(b"\r\n\r\n") {
        assert_eq!(stream.read(&mut byte).unwrap(), 1, "closed mid-head");
        received.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&received).into_owned();
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).unwrap();
    head
}

const GET_UNKNOWN: &[u8] = b"GET /api/v1/reset/unknown HTTP/1.1\r\nHost: localhost\r\n\r\n";

#[test]
fn a_client_that_stops_halfway_through_its_headers_is_disconnected() {
    let h = Harness::with_config(|c| c.edge.header_timeout = Duration::from_secs(1));
    let mut stream = connect(&h);
    stream
        .write_all(b"POST /api/v1/reset/start HTTP/1.1\r\nHost: localhost\r\nContent-Ty")
        .unwrap();
    let reply = until_closed(&mut stream).expect("the server closes the connection");
    assert!(!reply.contains(" 200 "), "{reply}");

    // A connection that never sends a byte goes the same way.
    let mut silent = connect(&h);
    until_closed(&mut silent).expect("a silent connection is closed too");
}

#[test]
fn an_idle_keep_alive_connection_is_closed_after_the_header_timeout() {
    let h = Harness::with_config(|c| c.edge.header_timeout = Duration::from_secs(1));
    let mut stream = connect(&h);
    stream.write_all(GET_UNKNOWN).unwrap();
    assert!(one_response(&mut stream).starts_with("HTTP/1.1 404"));
    let rest = until_closed(&mut stream).expect("the idle connection is closed");
    assert_eq!(rest, "", "nothing more was sent");
}

#[test]
fn a_client_that_stops_halfway_through_its_body_gets_408_and_is_disconnected() {
    let h = Harness::with_config(|c| {
        c.edge.header_timeout = Duration::from_secs(60);
        c.edge.body_timeout = Duration::from_secs(1);
    });
    let mut stream = connect(&h);
    stream
        .write_all(
            b"POST /api/v1/reset/start HTTP/1.1\r\nHost: localhost\r\n\
              Content-Type: application/json\r\nContent-Length: 40\r\n\r\n{\"username\":",
        )
        .unwrap();
    let reply = until_closed(&mut stream).expect("the server closes the connection");
    assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
    assert!(reply.contains("request_timeout"), "{reply}");
}

#[test]
fn connections_beyond_the_cap_are_closed_while_the_cap_holds() {
    let h = Harness::with_config(|c| {
        c.edge.max_connections = 2;
        c.edge.header_timeout = Duration::from_secs(60);
    });
    // Two connections that have been answered hold both slots (keep-alive).
    let mut first = connect(&h);
    let mut second = connect(&h);
    for held in [&mut first, &mut second] {
        held.write_all(GET_UNKNOWN).unwrap();
        assert!(one_response(held).starts_with("HTTP/1.1 404"));
    }
    for _ in 0..3 {
        let mut extra = connect(&h);
        let _ = extra.write_all(GET_UNKNOWN);
        let reply = until_closed(&mut extra).expect("the extra connection is closed");
        assert_eq!(reply, "", "no answer past the cap");
    }
    // The held connections are still served.
    second.write_all(GET_UNKNOWN).unwrap();
    assert!(one_response(&mut second).starts_with("HTTP/1.1 404"));

    // Once one closes, its slot serves a new connection (the server notices the close
    // shortly after: a bounded number of tries).
    drop(first);
    let served = (0..100).any(|_| {
        let mut next = connect(&h);
        let _ = next.write_all(GET_UNKNOWN);
        let mut head = [0u8; 12];
        let answered = next.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 404");
        if !answered {
            std::thread::sleep(Duration::from_millis(50));
        }
        answered
    });
    assert!(served, "a freed slot serves the next connection");
}

#[test]
fn the_signed_long_poll_outlives_the_header_and_body_timeouts() {
    let h = Harness::with_config(|c| {
        c.edge.header_timeout = Duration::from_secs(1);
        c.edge.body_timeout = Duration::from_secs(1);
    });
    h.add_user("alice");
    let device = h.enroll("alice");
    // The answer is held for 3 s, three times the timeouts, and arrives.
    assert!(device.poll(&h, 3).is_empty());
    // A challenge that arrives during the poll is delivered by it.
    let poll = std::thread::scope(|scope| {
        let poll = scope.spawn(|| device.poll(&h, 20));
        std::thread::sleep(Duration::from_millis(1500));
        h.start_reset("alice");
        poll.join().unwrap()
    });
    assert_eq!(poll.len(), 1);
}

#[test]
fn a_request_head_far_larger_than_32_kib_is_refused() {
    let h = Harness::start();
    let mut stream = connect(&h);
    let padding = "a".repeat(100 * 1024);
    let request = format!(
        "GET /api/v1/reset/unknown HTTP/1.1\r\nHost: localhost\r\nX-Padding: {padding}\r\n\r\n"
    );
    let _ = stream.write_all(request.as_bytes());
    let reply = until_closed(&mut stream).expect("the server closes the connection");
    assert!(reply.starts_with("HTTP/1.1 431"), "{reply}");
}

#[test]
fn a_client_that_stops_reading_its_answers_is_disconnected() {
    let h = Harness::with_config(|c| {
        c.edge.header_timeout = Duration::from_secs(60);
        c.edge.send_timeout = Duration::from_secs(1);
    });
    let mut stream = connect(&h);
    stream.set_write_timeout(Some(CLIENT_PATIENCE)).unwrap();
    // Pipelined requests, answers never read: once the answers fill both sides' socket
    // buffers the server's write stalls, it stops reading, and this client's writes block
    // in turn, until the server gives up on the connection.
    let batch = GET_UNKNOWN.repeat(1000);
    let mut outcome = None;
    for _ in 0..100_000 {
        if let Err(error) = stream.write_all(&batch) {
            outcome = Some(error);
            break;
        }
    }
    let error = outcome.expect("the writes end");
    assert!(
        matches!(
            error.kind(),
            ErrorKind::ConnectionReset | ErrorKind::BrokenPipe
        ),
        "the server closed the connection, rather than the client's patience ending: {error:?}"
    );
}
