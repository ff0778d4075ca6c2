//! Load benchmark: N simulated devices against the server on loopback, each running complete
//! approval round trips as fast as it can: a reset started over HTTP creates the challenge,
//! the device fetches it (signed long poll) and verifies the server's signature, then sends
//! its signed answer with the number, which the server verifies and stores.
//!
//! `cargo run --release -p cityauth-e2e --bin loadbench -- [--devices N] [--seconds S]
//!  [--store sqlite|postgres] [--replicas N] [--nginx] [--pool N] [--matrix] [--sql-profile]`
//!
//! `--matrix` runs SQLite ×1, PostgreSQL ×1 and PostgreSQL ×2 behind nginx (TLS, round
//! robin) one after the other in the same process and prints one table. Each run prints
//! round trips per second, p50 and p99 latency, and checks afterwards that every approved
//! round trip left exactly one verified reset (none lost, none counted twice). On
//! PostgreSQL it also prints the database's commits, writing transactions and WAL bytes
//! per round trip.

use std::collections::HashSet;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use cityauth_core::device::{Decision, Device};
use cityauth_e2e::bench::{self, Client, Deployment, PgCounters, Setup, StoreKind};
use cityauth_e2e::{GOOD_PASSWORD, Phone};
use cityauth_protocol::wire::{ResetStartRequest, ResetStartResponse, ResetStatus};
use cityauth_server::store::postgres::DEFAULT_POOL_SIZE;

struct Options {
    devices: usize,
    seconds: u64,
    setups: Vec<Setup>,
    sql_profile: bool,
}

fn options() -> Result<Options, String> {
    let mut devices = 16;
    let mut seconds = 10;
    let mut store = StoreKind::Sqlite;
    let mut replicas = 1;
    let mut nginx = false;
    let mut pool_size = DEFAULT_POOL_SIZE;
    let mut matrix = false;
    let mut sql_profile = false;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "--matrix" => matrix = true,
            "--nginx" => nginx = true,
            "--sql-profile" => sql_profile = true,
            _ => {
                let value = args.next().ok_or(format!("{flag} needs a value"))?;
                let number = || {
                    value
                        .parse::<u64>()
                        .map_err(|_| format!("{flag}: not a number: {value}"))
                };
                match flag.as_str() {
                    "--devices" => devices = number()?.clamp(1, 1000) as usize,
                    "--seconds" => seconds = number()?.clamp(1, 600),
                    "--replicas" => replicas = number()?.clamp(1, 16) as usize,
                    "--pool" => pool_size = number()?.clamp(1, 256) as usize,
                    "--store" => store = StoreKind::parse(&value)?,
                    _ => return Err(format!("unknown option {flag}")),
                }
            }
        }
    }
    let setups = if matrix {
        vec![
            Setup {
                store: StoreKind::Sqlite,
                replicas: 1,
                nginx: false,
                pool_size,
            },
            Setup {
                store: StoreKind::Postgres,
                replicas: 1,
                nginx: false,
                pool_size,
            },
            Setup {
                store: StoreKind::Postgres,
                replicas: 2,
                nginx: true,
                pool_size,
            },
        ]
    } else {
        vec![Setup {
            store,
            replicas,
            nginx: nginx || replicas > 1,
            pool_size,
        }]
    };
    Ok(Options {
        devices,
        seconds,
        setups,
        sql_profile,
    })
}

/// One device's results.
#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    reset_ids: Vec<String>,
    errors: Vec<String>,
}

/// A simulated employee: a phone (a real vault) with its device client, and a browser, each
/// keeping its own connections from its own loopback address, as real ones do.
struct Employee {
    username: String,
    phone: Phone,
    device_http: Client,
    browser: Client,
}

fn start_reset(
    city: &Deployment,
    browser: &Client,
    username: &str,
) -> Result<ResetStartResponse, String> {
    let body = serde_json::to_vec(&ResetStartRequest {
        username: username.into(),
    })
    .map_err(|e| e.to_string())?;
    let (status, body) =
        browser.send("POST", &format!("{}/api/v1/reset/start", city.url()), body)?;
    serde_json::from_slice(&body).map_err(|_| format!("reset start: HTTP {status}"))
}

fn reset_state(city: &Deployment, browser: &Client, reset_id: &str) -> String {
    match browser.send(
        "GET",
        &format!("{}/api/v1/reset/{reset_id}", city.url()),
        Vec::new(),
    ) {
        Ok((_, body)) => serde_json::from_slice::<ResetStatus>(&body)
            .map(|s| s.state)
            .unwrap_or_else(|_| String::from_utf8_lossy(&body).into_owned()),
        Err(error) => error,
    }
}

fn run_device(city: &Deployment, employee: &Employee, deadline: Instant) -> Tally {
    let mut tally = Tally::default();
    // One device handle for the run, as an app keeps one: it parses its key once.
    let device = Device::new(&employee.phone.vault, &employee.device_http);
    while Instant::now() < deadline {
        let started = Instant::now();
        let outcome = (|| {
            let reset = start_reset(city, &employee.browser, &employee.username)?;
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

/// What one setup's run measured.
struct Row {
    setup: Setup,
    round_trips: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
    errors: Vec<String>,
    verified: usize,
    distinct: usize,
    database: Option<Result<PgCounters, String>>,
    sql_profile: Option<String>,
    cpu: String,
    load: String,
}

impl Row {
    fn rate(&self) -> f64 {
        self.round_trips as f64 / self.elapsed.as_secs_f64()
    }

    fn sound(&self) -> bool {
        self.errors.is_empty()
            && self.distinct == self.round_trips
            && self.verified == self.round_trips
    }
}

fn run(setup: Setup, options: &Options) -> Result<Row, String> {
    // Limits that protect real accounts would stop a benchmark after a few round trips.
    let city = Deployment::start(setup, &|config| {
        let wide = cityauth_server::limits::Limit {
            max: u32::MAX,
            window: 1,
        };
        config.limits.reset_start_per_user = wide;
        config.limits.reset_start_per_user_ip = wide;
        config.limits.reset_start_per_ip = wide;
        config.limits.push_anonymous = wide;
    })?;
    eprintln!(
        "{}: enrolling {} devices against {} ...",
        setup.label(),
        options.devices,
        city.url()
    );
    let employees = (0..options.devices)
        .map(|n| enroll(&city, n))
        .collect::<Result<Vec<_>, String>>()?;
    let employees: Vec<Arc<Employee>> = employees.into_iter().map(Arc::new).collect();

    let city = Arc::new(city);
    let barrier = Arc::new(Barrier::new(options.devices + 1));
    let run_for = Duration::from_secs(options.seconds);
    if options.sql_profile {
        city.sql_profile_reset()?;
    }
    let load = bench::load_average();
    let before = city.settled_counters();
    let handles: Vec<_> = employees
        .iter()
        .map(|employee| {
            let (city, employee, barrier) = (
                Arc::clone(&city),
                Arc::clone(employee),
                Arc::clone(&barrier),
            );
            std::thread::spawn(move || {
                barrier.wait();
                run_device(&city, &employee, Instant::now() + run_for)
            })
        })
        .collect();
    let processes = city.processes();
    barrier.wait();
    let started = Instant::now();
    // CPU by where it went, sampled while every device still runs.
    let cpu_before = bench::cpu_sample(&processes);
    std::thread::sleep(run_for.saturating_sub(Duration::from_millis(300)));
    let cpu = bench::cpu_report(
        &cpu_before,
        &bench::cpu_sample(&processes),
        started.elapsed(),
    );
    let tallies: Vec<Tally> = handles
        .into_iter()
        .map(|h| h.join().unwrap_or_default())
        .collect();
    let elapsed = started.elapsed();
    let after = city.settled_counters();
    let units = tallies.iter().map(|t| t.reset_ids.len()).sum::<usize>();
    let sql_profile = city.sql_profile_if(options.sql_profile, units)?;
    let database = bench::counters_between(before, after);

    let mut latencies: Vec<Duration> = tallies.iter().flat_map(|t| t.latencies.clone()).collect();
    latencies.sort();
    let reset_ids: Vec<&String> = tallies.iter().flat_map(|t| &t.reset_ids).collect();
    let errors: Vec<String> = tallies.iter().flat_map(|t| t.errors.clone()).collect();
    let distinct = reset_ids.iter().collect::<HashSet<_>>().len();
    // Every approved round trip must have verified its own reset, once.
    let checker = &employees[0].browser;
    let verified = reset_ids
        .iter()
        .filter(|id| reset_state(&city, checker, id) == "verified")
        .count();
    if !errors.is_empty() {
        eprintln!("{}", city.proxy_log());
    }
    Ok(Row {
        setup,
        round_trips: reset_ids.len(),
        elapsed,
        latencies,
        errors,
        verified,
        distinct,
        database,
        sql_profile,
        cpu,
        load,
    })
}

/// Creates employee `n` and enrolls a phone for them, through the deployment's URL.
fn enroll(city: &Deployment, n: usize) -> Result<Employee, String> {
    let username = format!("employee{n}");
    cityauth_server::admin::create_user(city.admin(), &username, "Alice Example", GOOD_PASSWORD)
        .map_err(|e| e.to_string())?;
    let link = cityauth_server::admin::enrollment_link(city.admin(), &username)
        .map_err(|e| e.to_string())?;
    let phone = Phone::new();
    let device_http = city.client(bench::client_address(2 * n));
    Device::new(&phone.vault, &device_http)
        .enroll(&link, "Test phone", "android", None)
        .map_err(|e| format!("enroll {username}: {e}"))?;
    Ok(Employee {
        username,
        phone,
        device_http,
        browser: city.client(bench::client_address(2 * n + 1)),
    })
}

fn main() {
    let options = match options() {
        Ok(options) => options,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::exit(2);
        }
    };
    if options.sql_profile
        && options
            .setups
            .iter()
            .any(|s| s.store == StoreKind::Postgres)
        && let Err(error) = bench::enable_statement_stats()
    {
        eprintln!("error: pg_stat_statements: {error}");
        std::process::exit(1);
    }
    let mut rows = Vec::new();
    for setup in &options.setups {
        match run(*setup, &options) {
            Ok(row) => {
                print_row(&row, &options);
                rows.push(row);
            }
            Err(error) => {
                eprintln!("error: {}: {error}", setup.label());
                std::process::exit(1);
            }
        }
    }
    println!();
    let sqlite = rows
        .iter()
        .find(|r| r.setup.store == StoreKind::Sqlite)
        .map(Row::rate);
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            let (commits, writes, wal) = match &row.database {
                Some(Ok(db)) => {
                    let per = |n: u64| format!("{:.2}", n as f64 / row.round_trips.max(1) as f64);
                    (per(db.commits), per(db.writes), per(db.wal_bytes))
                }
                _ => ("".into(), "".into(), "".into()),
            };
            vec![
                row.setup.label(),
                format!("{:.0}", row.rate()),
                sqlite.map_or(String::new(), |s| format!("{:.2}", row.rate() / s)),
                bench::ms(bench::percentile(&row.latencies, 50.0)),
                bench::ms(bench::percentile(&row.latencies, 99.0)),
                row.errors.len().to_string(),
                format!("{} of {}", row.verified, row.round_trips),
                commits,
                writes,
                wal,
            ]
        })
        .collect();
    println!(
        "{} devices, {} s per setup, limits on reset starts and pushes per account lifted",
        options.devices, options.seconds
    );
    bench::print_table(
        &[
            "setup",
            "round trips/s",
            "× SQLite",
            "p50",
            "p99",
            "errors",
            "verified",
            "commits/rt",
            "writing xacts/rt",
            "WAL bytes/rt",
        ],
        &table,
    );
    if rows.iter().any(|r| !r.sound()) {
        eprintln!("error: lost, double-counted or failed round trips");
        std::process::exit(1);
    }
}

fn print_row(row: &Row, options: &Options) {
    println!(
        "{}: devices {}  duration {:.1} s  round trips {}  errors {}",
        row.setup.label(),
        options.devices,
        row.elapsed.as_secs_f64(),
        row.round_trips,
        row.errors.len()
    );
    println!(
        "  throughput {:.0} round trips/s  p50 {}  p99 {}  max {}",
        row.rate(),
        bench::ms(bench::percentile(&row.latencies, 50.0)),
        bench::ms(bench::percentile(&row.latencies, 99.0)),
        bench::ms(row.latencies.last().copied().unwrap_or_default()),
    );
    println!(
        "  check: {} approved, {} distinct resets, {} verified on the server",
        row.round_trips, row.distinct, row.verified
    );
    match &row.database {
        Some(Ok(db)) => println!(
            "  PostgreSQL: {} commits, {} writing transactions, {} WAL bytes in the run",
            db.commits, db.writes, db.wal_bytes
        ),
        Some(Err(error)) => println!("  PostgreSQL counters unavailable: {error}"),
        None => {}
    }
    if let Some(first) = row.errors.first() {
        println!("  first error: {first}");
    }
    print!("  load average before the run {}; {}", row.load, row.cpu);
    if let Some(profile) = &row.sql_profile {
        println!("  statements per round trip:\n{profile}");
    }
}
