//! Code benchmark: the other way to verify a reset, a code from the app. Many employees, each
//! with a phone enrolled before the timed part (its own device key and its own OATH seed from
//! the server), each used once: the browser starts a reset, sends a wrong code (refused: the
//! stand-in for guessing traffic, at the same rate as the real codes), then the app's current
//! code, which verifies the reset. No one reuses a code and no one comes near a per-user
//! limit or lockout.
//!
//! `cargo run --release -p cityauth-e2e --bin codebench -- [--employees N] [--seconds S]
//!  [--clients N] [--store sqlite|postgres|both] [--pool N] [--sql-profile]`
//!
//! The server runs with its default limits. They are per client address too (30 reset starts
//! and 30 code checks per 10 minutes), so the simulated browsers come from many loopback
//! addresses (127.1.0.0 and up, all loopback on Linux): ten employees per address, each a new
//! browser with its own connection. The run ends after S seconds or when every employee has
//! been used, whichever is first; the rate is over the time it took. Afterwards every reset
//! counted as verified is checked on the server.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cityauth_core::device::Device;
use cityauth_core::otp::{OtpParams, PreparedKey};
use cityauth_e2e::bench::{self, Client, Deployment, PgCounters, Setup, StoreKind};
use cityauth_e2e::{GOOD_PASSWORD, Phone};
use cityauth_protocol::wire::{ResetCodeRequest, ResetStartRequest, ResetStartResponse};
use cityauth_server::store::NewUser;
use cityauth_server::store::postgres::DEFAULT_POOL_SIZE;

/// Employees per simulated browser address: 10 reset starts and 20 code checks each, under
/// the default 30 per address per 10 minutes.
const PER_ADDRESS: usize = 10;

struct Options {
    employees: usize,
    seconds: u64,
    clients: usize,
    pool_size: usize,
    sql_profile: bool,
    stores: Vec<StoreKind>,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        employees: 20_000,
        seconds: 10,
        clients: 32,
        pool_size: DEFAULT_POOL_SIZE,
        sql_profile: false,
        stores: vec![StoreKind::Sqlite, StoreKind::Postgres],
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--sql-profile" {
            options.sql_profile = true;
            continue;
        }
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        let number = || {
            value
                .parse::<u64>()
                .map_err(|_| format!("{flag}: not a number: {value}"))
        };
        match flag.as_str() {
            "--employees" => options.employees = number()?.clamp(10, 1_000_000) as usize,
            "--seconds" => options.seconds = number()?.clamp(1, 600),
            "--pool" => options.pool_size = number()?.clamp(1, 256) as usize,
            "--clients" => options.clients = number()?.clamp(1, 1000) as usize,
            "--store" if value == "both" => {}
            "--store" => options.stores = vec![StoreKind::parse(&value)?],
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok(options)
}

/// An enrolled employee: the app's City account key, as the vault prepares it.
struct Employee {
    username: String,
    key: PreparedKey,
    params: OtpParams,
}

impl Employee {
    /// The app's code at `unix_seconds`.
    fn code(&self, unix_seconds: u64) -> String {
        self.key
            .code_at_time(&self.params, unix_seconds)
            .code
            .as_str()
            .to_owned()
    }

    /// A code that is none of the ones the server would accept now (its window is a step
    /// either side).
    fn wrong_code(&self, now: u64) -> String {
        let period = u64::from(self.params.period().max(1));
        let near: Vec<String> = [now.saturating_sub(period), now, now + period]
            .iter()
            .map(|t| self.code(*t))
            .collect();
        let digits = near[1].len();
        let start: u64 = near[1].parse().unwrap_or(0);
        (1..)
            .map(|n| format!("{:0digits$}", (start + n) % 10u64.pow(digits as u32)))
            .find(|candidate| !near.contains(candidate))
            .unwrap_or_default()
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Enrolls employees `range` on `city` (users made straight in the store, with one password
/// hash computed once: the benchmark is not about Argon2).
fn enroll_some(
    city: &Deployment,
    next: &AtomicUsize,
    total: usize,
    password_hash: &str,
) -> Result<Vec<(usize, Employee)>, String> {
    let mut enrolled = Vec::new();
    loop {
        let n = next.fetch_add(1, Ordering::Relaxed);
        if n >= total {
            return Ok(enrolled);
        }
        let username = format!("employee{n}");
        city.admin()
            .store()
            .user_create(&NewUser {
                username: username.clone(),
                display_name: "Alice Example".into(),
                password_hash: password_hash.into(),
                created_at: unix_now(),
            })
            .map_err(|e| e.to_string())?;
        let link = cityauth_server::admin::enrollment_link(city.admin(), &username)
            .map_err(|e| e.to_string())?;
        // The phone's vault is real; once enrolled, the City account's key is all the
        // benchmark keeps (twenty thousand open vaults would be as many open files).
        let phone = Phone::new();
        let http = city.client(bench::client_address(0));
        let done = Device::new(&phone.vault, &http)
            .enroll(&link, "Test phone", "android", None)
            .map_err(|e| format!("enroll {username}: {e}"))?;
        let id = done
            .city_account
            .ok_or("the server issued no OATH seed at enrollment")?;
        let account = phone.vault.account(id).map_err(|e| e.to_string())?;
        enrolled.push((
            n,
            Employee {
                username,
                key: account.prepared_key(),
                params: *account.params(),
            },
        ));
    }
}

/// What one worker counted.
#[derive(Default)]
struct Tally {
    verified: Vec<String>,
    refused: usize,
    code_latencies: Vec<Duration>,
    cycle_latencies: Vec<Duration>,
    errors: Vec<String>,
}

fn post(
    client: &Client,
    url: String,
    body: &impl serde::Serialize,
) -> Result<(u16, Vec<u8>), String> {
    client.send(
        "POST",
        &url,
        serde_json::to_vec(body).map_err(|e| e.to_string())?,
    )
}

/// One employee's reset: start, a wrong code (must be refused), the current code (must
/// verify). Returns the reset id.
fn one_reset(
    city: &Deployment,
    browser: &Client,
    employee: &Employee,
    tally: &mut Tally,
) -> Result<String, String> {
    let started = Instant::now();
    let (status, body) = post(
        browser,
        format!("{}/api/v1/reset/start", city.url()),
        &ResetStartRequest {
            username: employee.username.clone(),
        },
    )?;
    let reset: ResetStartResponse =
        serde_json::from_slice(&body).map_err(|_| format!("reset start: HTTP {status}"))?;
    let code_url = format!("{}/api/v1/reset/{}/code", city.url(), reset.reset_id);
    let wrong = ResetCodeRequest {
        code: employee.wrong_code(unix_now()),
    };
    let (status, body) = post(browser, code_url.clone(), &wrong)?;
    if status != 422 || !String::from_utf8_lossy(&body).contains("wrong_code") {
        return Err(format!(
            "wrong code: HTTP {status} {}",
            String::from_utf8_lossy(&body)
        ));
    }
    tally.refused += 1;
    let sent = Instant::now();
    let right = ResetCodeRequest {
        code: employee.code(unix_now()),
    };
    let (status, body) = post(browser, code_url, &right)?;
    if status != 200 || !String::from_utf8_lossy(&body).contains("verified") {
        return Err(format!(
            "right code: HTTP {status} {}",
            String::from_utf8_lossy(&body)
        ));
    }
    tally.code_latencies.push(sent.elapsed());
    tally.cycle_latencies.push(started.elapsed());
    Ok(reset.reset_id)
}

/// Takes blocks of [`PER_ADDRESS`] employees, each block a new browser at its own address.
fn worker(
    city: &Deployment,
    employees: &[Employee],
    next: &AtomicUsize,
    deadline: Instant,
) -> Tally {
    let mut tally = Tally::default();
    let blocks = employees.len().div_ceil(PER_ADDRESS);
    while Instant::now() < deadline {
        let block = next.fetch_add(1, Ordering::Relaxed);
        if block >= blocks {
            break;
        }
        // Address 0 enrolled the phones; the browsers start at 1.
        let browser = city.client(bench::client_address(block + 1));
        let end = ((block + 1) * PER_ADDRESS).min(employees.len());
        for employee in &employees[block * PER_ADDRESS..end] {
            if Instant::now() >= deadline {
                break;
            }
            match one_reset(city, &browser, employee, &mut tally) {
                Ok(id) => tally.verified.push(id),
                Err(error) => tally.errors.push(error),
            }
        }
    }
    tally
}

struct Row {
    setup: Setup,
    elapsed: Duration,
    verified: usize,
    refused: usize,
    checked: usize,
    distinct: usize,
    code_latencies: Vec<Duration>,
    cycle_latencies: Vec<Duration>,
    errors: Vec<String>,
    database: Option<Result<PgCounters, String>>,
    enrolled: usize,
    enrolling: Duration,
    sql_profile: Option<String>,
    cpu: String,
    load: String,
}

fn run(setup: Setup, options: &Options) -> Result<Row, String> {
    // The server's default limits, untouched.
    let city = Arc::new(Deployment::start(setup, &|_| {})?);
    eprintln!(
        "{}: enrolling {} employees against {} ...",
        setup.label(),
        options.employees,
        city.url()
    );
    let enrolling = Instant::now();
    let hash = cityauth_server::password::hash(GOOD_PASSWORD).map_err(|e| e.to_string())?;
    let next = Arc::new(AtomicUsize::new(0));
    let enrollers: Vec<_> = (0..8)
        .map(|_| {
            let (city, next, hash, total) = (
                Arc::clone(&city),
                Arc::clone(&next),
                hash.clone(),
                options.employees,
            );
            std::thread::spawn(move || enroll_some(&city, &next, total, &hash))
        })
        .collect();
    let mut numbered = Vec::with_capacity(options.employees);
    for enroller in enrollers {
        numbered.extend(
            enroller
                .join()
                .map_err(|_| "an enrolling thread failed")??,
        );
    }
    numbered.sort_by_key(|(n, _)| *n);
    let employees: Arc<Vec<Employee>> = Arc::new(numbered.into_iter().map(|(_, e)| e).collect());
    let enrolling = enrolling.elapsed();
    eprintln!(
        "{}: {} enrolled in {:.1} s; running ...",
        setup.label(),
        employees.len(),
        enrolling.as_secs_f64()
    );

    if options.sql_profile {
        city.sql_profile_reset()?;
    }
    let load = bench::load_average();
    let before = city.settled_counters();
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(options.seconds);
    let workers: Vec<_> = (0..options.clients)
        .map(|_| {
            let (city, employees, next) =
                (Arc::clone(&city), Arc::clone(&employees), Arc::clone(&next));
            std::thread::spawn(move || worker(&city, &employees, &next, deadline))
        })
        .collect();
    // CPU by where it went, sampled while the clients run: from when the store's pool has
    // opened until shortly before the end or until the last employees are taken.
    std::thread::sleep(Duration::from_millis(200));
    let processes = city.processes();
    let cpu_before = bench::cpu_sample(&processes);
    let sampled = Instant::now();
    let blocks = employees.len().div_ceil(PER_ADDRESS);
    while next.load(Ordering::Relaxed) < blocks
        && Instant::now() + Duration::from_millis(400) < deadline
    {
        std::thread::sleep(Duration::from_millis(100));
    }
    let cpu = bench::cpu_report(
        &cpu_before,
        &bench::cpu_sample(&processes),
        sampled.elapsed(),
    );
    let tallies: Vec<Tally> = workers
        .into_iter()
        .map(|w| w.join().unwrap_or_default())
        .collect();
    let elapsed = started.elapsed();
    let after = city.settled_counters();
    let units = tallies.iter().map(|t| t.verified.len()).sum::<usize>();
    let sql_profile = city.sql_profile_if(options.sql_profile, units)?;
    let database = bench::counters_between(before, after);

    let ids: Vec<&String> = tallies.iter().flat_map(|t| &t.verified).collect();
    let distinct = ids.iter().collect::<HashSet<_>>().len();
    let checker = city.client(bench::client_address(0));
    let checked = ids
        .iter()
        .filter(|id| {
            checker
                .send(
                    "GET",
                    &format!("{}/api/v1/reset/{id}", city.url()),
                    Vec::new(),
                )
                .is_ok_and(|(_, body)| String::from_utf8_lossy(&body).contains("\"verified\""))
        })
        .count();
    let mut code_latencies: Vec<Duration> = tallies
        .iter()
        .flat_map(|t| t.code_latencies.iter().copied())
        .collect();
    code_latencies.sort();
    let mut cycle_latencies: Vec<Duration> = tallies
        .iter()
        .flat_map(|t| t.cycle_latencies.iter().copied())
        .collect();
    cycle_latencies.sort();
    Ok(Row {
        setup,
        elapsed,
        verified: ids.len(),
        refused: tallies.iter().map(|t| t.refused).sum(),
        checked,
        distinct,
        code_latencies,
        cycle_latencies,
        errors: tallies.iter().flat_map(|t| t.errors.clone()).collect(),
        database,
        enrolled: employees.len(),
        enrolling,
        sql_profile,
        cpu,
        load,
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
        && options.stores.contains(&StoreKind::Postgres)
        && let Err(error) = bench::enable_statement_stats()
    {
        eprintln!("error: pg_stat_statements: {error}");
        std::process::exit(1);
    }
    let mut rows = Vec::new();
    for store in &options.stores {
        let setup = Setup {
            store: *store,
            replicas: 1,
            nginx: false,
            pool_size: options.pool_size,
        };
        match run(setup, &options) {
            Ok(row) => {
                print_row(&row);
                rows.push(row);
            }
            Err(error) => {
                eprintln!("error: {}: {error}", setup.label());
                std::process::exit(1);
            }
        }
    }
    println!();
    println!(
        "{} clients; the server's default limits (per address: {} employees to a browser address)",
        options.clients, PER_ADDRESS
    );
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            let secs = row.elapsed.as_secs_f64();
            let per = |n: u64| format!("{:.2}", n as f64 / row.verified.max(1) as f64);
            let (commits, writes) = match &row.database {
                Some(Ok(db)) => (per(db.commits), per(db.writes)),
                _ => (String::new(), String::new()),
            };
            vec![
                row.setup.label(),
                format!("{:.0}", row.verified as f64 / secs),
                format!("{:.0}", row.refused as f64 / secs),
                bench::ms(bench::percentile(&row.code_latencies, 50.0)),
                bench::ms(bench::percentile(&row.code_latencies, 99.0)),
                bench::ms(bench::percentile(&row.cycle_latencies, 99.0)),
                row.errors.len().to_string(),
                format!("{} of {}", row.checked, row.verified),
                commits,
                writes,
            ]
        })
        .collect();
    bench::print_table(
        &[
            "setup",
            "verified codes/s",
            "wrong codes refused/s",
            "code p50",
            "code p99",
            "reset p99",
            "errors",
            "verified on the server",
            "commits/verified",
            "writing xacts/verified",
        ],
        &table,
    );
    let sound = rows
        .iter()
        .all(|r| r.errors.is_empty() && r.distinct == r.verified && r.checked == r.verified);
    if !sound {
        eprintln!("error: failed, lost or double-counted verifications");
        std::process::exit(1);
    }
}

fn print_row(row: &Row) {
    let secs = row.elapsed.as_secs_f64();
    println!(
        "{}: {} employees enrolled in {:.1} s; timed part {:.1} s",
        row.setup.label(),
        row.enrolled,
        row.enrolling.as_secs_f64(),
        secs
    );
    println!(
        "  verified {} ({:.0}/s), wrong codes refused {} ({:.0}/s), errors {}",
        row.verified,
        row.verified as f64 / secs,
        row.refused,
        row.refused as f64 / secs,
        row.errors.len()
    );
    println!(
        "  right code p50 {} p99 {}; whole reset (start, wrong, right) p50 {} p99 {}",
        bench::ms(bench::percentile(&row.code_latencies, 50.0)),
        bench::ms(bench::percentile(&row.code_latencies, 99.0)),
        bench::ms(bench::percentile(&row.cycle_latencies, 50.0)),
        bench::ms(bench::percentile(&row.cycle_latencies, 99.0)),
    );
    println!(
        "  check: {} distinct resets, {} verified on the server",
        row.distinct, row.checked
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
        println!("  statements per verified code:\n{profile}");
    }
}
