//! Load benchmark: N simulated devices against the server on loopback, each running complete
//! approval round trips as fast as it can: a reset started over HTTP creates the challenge,
//! the device fetches it (signed long poll) and verifies the server's signature, then sends
//! its signed answer with the number, which the server verifies and stores.
//!
//! `cargo run --release -p cityauth-e2e --bin loadbench -- [--devices N] [--seconds S]`
//!
//! Prints round trips per second, p50 and p99 latency, and checks afterwards that every
//! approved round trip left exactly one verified reset (none lost, none counted twice).

use std::collections::HashSet;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use cityauth_core::UreqTransport;
use cityauth_core::device::Decision;
use cityauth_e2e::{City, Phone};

struct Options {
    devices: usize,
    seconds: u64,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        devices: 32,
        seconds: 10,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        let number: u64 = value
            .parse()
            .map_err(|_| format!("{flag}: not a number: {value}"))?;
        match flag.as_str() {
            "--devices" => options.devices = number.clamp(1, 1000) as usize,
            "--seconds" => options.seconds = number.clamp(1, 600),
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok(options)
}

/// One device's results.
#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    reset_ids: Vec<String>,
    errors: Vec<String>,
}

fn run_device(city: &City, username: &str, phone: &Phone, deadline: Instant) -> Tally {
    let mut tally = Tally::default();
    // One device handle for the run, as an app keeps one: it parses its key once. And one
    // browser per employee, keeping its connection open as a real browser does (one shared
    // client would keep only 3 idle connections and open a new one for most requests).
    let device = phone.device();
    let browser = UreqTransport::new();
    while Instant::now() < deadline {
        let started = Instant::now();
        let outcome = (|| {
            let (status, reset) = city.start_reset_from(&browser, username);
            let reset = reset.ok_or(format!("reset start: HTTP {status}"))?;
            let challenge = device
                .pending_challenges(25)
                .map_err(|e| e.to_string())?
                .into_iter()
                .next()
                .ok_or("no challenge arrived")?;
            let outcome = device
                .answer(&challenge, Decision::Approve, Some(&reset.number))
                .map_err(|e| e.to_string())?;
            if outcome != "approved" {
                return Err(format!("outcome {outcome}"));
            }
            Ok(reset.reset_id)
        })();
        match outcome {
            Ok(reset_id) => {
                tally.latencies.push(started.elapsed());
                tally.reset_ids.push(reset_id);
            }
            Err(error) => tally.errors.push(error),
        }
    }
    tally
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn main() {
    let options = match options() {
        Ok(options) => options,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::exit(2);
        }
    };
    // Limits that protect real accounts would stop a benchmark after a few round trips.
    let city = Arc::new(City::start_with(|config| {
        let wide = cityauth_server::limits::Limit {
            max: u32::MAX,
            window: 1,
        };
        config.limits.reset_start_per_user = wide;
        config.limits.reset_start_per_user_ip = wide;
        config.limits.reset_start_per_ip = wide;
        config.limits.push_anonymous = wide;
    }));
    eprintln!(
        "enrolling {} devices against {} ...",
        options.devices,
        city.url()
    );
    let phones: Vec<(String, Arc<Phone>)> = (0..options.devices)
        .map(|n| {
            let username = format!("employee{n}");
            city.add_employee(&username);
            let phone = Phone::new();
            phone.enroll(&city.enrollment_link(&username));
            (username, Arc::new(phone))
        })
        .collect();

    let barrier = Arc::new(Barrier::new(options.devices + 1));
    let deadline_after = Duration::from_secs(options.seconds);
    let handles: Vec<_> = phones
        .iter()
        .map(|(username, phone)| {
            let (city, phone, barrier) =
                (Arc::clone(&city), Arc::clone(phone), Arc::clone(&barrier));
            let username = username.clone();
            std::thread::spawn(move || {
                barrier.wait();
                run_device(&city, &username, &phone, Instant::now() + deadline_after)
            })
        })
        .collect();
    barrier.wait();
    let started = Instant::now();
    let tallies: Vec<Tally> = handles
        .into_iter()
        .map(|h| h.join().unwrap_or_default())
        .collect();
    let elapsed = started.elapsed();

    let mut latencies: Vec<Duration> = tallies.iter().flat_map(|t| t.latencies.clone()).collect();
    latencies.sort();
    let reset_ids: Vec<&String> = tallies.iter().flat_map(|t| &t.reset_ids).collect();
    let errors: Vec<&String> = tallies.iter().flat_map(|t| &t.errors).collect();
    let distinct: HashSet<&&String> = reset_ids.iter().collect();
    // Every approved round trip must have verified its own reset, once.
    let verified = reset_ids
        .iter()
        .filter(|id| city.reset_state(id) == "verified")
        .count();

    let rate = latencies.len() as f64 / elapsed.as_secs_f64();
    println!(
        "devices {}  duration {:.1} s  round trips {}  errors {}",
        options.devices,
        elapsed.as_secs_f64(),
        latencies.len(),
        errors.len()
    );
    println!(
        "throughput {:.0} round trips/s  p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
        rate,
        percentile(&latencies, 50.0).as_secs_f64() * 1000.0,
        percentile(&latencies, 99.0).as_secs_f64() * 1000.0,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1000.0,
    );
    println!(
        "check: {} approved, {} distinct resets, {} verified on the server",
        reset_ids.len(),
        distinct.len(),
        verified
    );
    if let Some(first) = errors.first() {
        println!("first error: {first}");
    }
    if distinct.len() != reset_ids.len() || verified != reset_ids.len() || !errors.is_empty() {
        eprintln!("error: lost, double-counted or failed round trips");
        std::process::exit(1);
    }
}
