//! What the load benchmarks share: a deployment of the server as the run asks for it (SQLite
//! or PostgreSQL, one or more replicas, straight or behind a real nginx with TLS), HTTP
//! clients that come from a chosen loopback address, the database's own counters of the
//! work done, and the table the figures are printed in.
//!
//! The replicas are servers in this process, each with its own runtime, store connections,
//! limiter and waiters, as separate processes would have; only the address space is shared,
//! so that the administration (employees, enrollment links) can go through the first
//! replica's state. The replicas test runs real `cityauth-server serve` processes.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use cityauth_core::device::{HttpRequest, HttpResponse, Transport, TransportError};
use cityauth_server::kek::KekConfig;
use cityauth_server::store::{Durability, StoreLocation};
use cityauth_server::{AppState, Config, RunningServer};
use ring::rand::SecureRandom;
use ureq::RequestExt;

use crate::nginx::{self, Nginx, ProxyOptions, TestCa};
use crate::postgres::Postgres;

mod cpu;
pub use cpu::{CpuSample, cpu_report, cpu_sample};

/// The address nginx connects to the replicas from: the one trusted proxy.
const PROXY_SOURCE: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 10);
/// Waiting for a response: longer than the server's 25-second long poll.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(40);
/// Connecting, sending and reading the body.
const PHASE_TIMEOUT: Duration = Duration::from_secs(15);

/// Which store the servers use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    /// One SQLite file (the embedded default).
    Sqlite,
    /// A PostgreSQL database shared by every replica.
    Postgres,
}

impl StoreKind {
    /// Reads `sqlite` or `postgres`.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "sqlite" => Ok(Self::Sqlite),
            "postgres" | "postgresql" | "pg" => Ok(Self::Postgres),
            other => Err(format!("--store: sqlite or postgres, not {other}")),
        }
    }
}

/// One deployment of the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setup {
    /// The store.
    pub store: StoreKind,
    /// How many servers.
    pub replicas: usize,
    /// Whether the clients reach them through nginx (TLS, round robin); always with more
    /// than one replica.
    pub nginx: bool,
    /// Connections each replica's PostgreSQL store keeps at most.
    pub pool_size: usize,
}

impl Setup {
    /// How the table names it: `SQLite ×1`, `PostgreSQL ×2, nginx`.
    pub fn label(&self) -> String {
        let store = match self.store {
            StoreKind::Sqlite => "SQLite",
            StoreKind::Postgres => "PostgreSQL",
        };
        let via = if self.nginx { ", nginx" } else { "" };
        format!("{store} ×{}{via}", self.replicas)
    }
}

/// The servers of one setup, running; stopped when dropped.
pub struct Deployment {
    servers: Vec<RunningServer>,
    proxy: Option<Nginx>,
    ca: TestCa,
    public_url: String,
    postgres: Option<(&'static Postgres, String)>,
    _dir: tempfile::TempDir,
}

impl Deployment {
    /// Starts `setup`'s servers (on a fresh database of the run's PostgreSQL cluster when
    /// the store is PostgreSQL) with the settings `configure` adjusts, and nginx in front if
    /// asked.
    pub fn start(setup: Setup, configure: &dyn Fn(&mut Config)) -> Result<Self, String> {
        let postgres = match setup.store {
            StoreKind::Sqlite => None,
            StoreKind::Postgres => {
                let cluster = postgres()?;
                let url = cluster.fresh_database()?;
                let name = url.rsplit('/').next().unwrap_or_default().to_owned();
                Some((cluster, name, url))
            }
        };
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let ca = TestCa::new().map_err(|e| e.to_string())?;
        let replicas = setup.replicas.max(1);
        let listeners = (0..replicas)
            .map(|_| TcpListener::bind("127.0.0.1:0"))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("a loopback port: {e}"))?;
        let addrs = listeners
            .iter()
            .map(TcpListener::local_addr)
            .collect::<Result<Vec<SocketAddr>, _>>()
            .map_err(|e| e.to_string())?;
        let proxy = if setup.nginx || replicas > 1 {
            let binary = nginx::binary().ok_or("nginx is not installed (apt-get install nginx)")?;
            Some(Nginx::start(
                &binary,
                &ProxyOptions {
                    upstreams: &addrs,
                    ca: &ca,
                    bind: IpAddr::V4(PROXY_SOURCE),
                },
            )?)
        } else {
            None
        };
        // The enrollment links name the address the phones reach: nginx's when it is there.
        let public_url = match &proxy {
            Some(proxy) => proxy.url(),
            None => format!("http://{}", addrs[0]),
        };
        let config = || {
            let mut config = Config::new(&public_url);
            config.edge.trusted_proxies = vec![
                format!("{PROXY_SOURCE}/32")
                    .parse()
                    .expect("a literal CIDR parses"),
            ];
            configure(&mut config);
            config
        };
        let mut servers = Vec::with_capacity(replicas);
        for listener in listeners {
            let state = match &postgres {
                None if replicas > 1 => {
                    return Err("SQLite is one server's file: one replica only".into());
                }
                None => AppState::open(&dir.path().join("city.sqlite"), config())
                    .map_err(|e| e.to_string())?,
                Some((_, _, url)) => {
                    let store = StoreLocation::parse(url)
                        .open_with(Durability::Normal, setup.pool_size.max(1))
                        .map_err(|e| format!("open the PostgreSQL store: {e}"))?;
                    let mut config = config();
                    config.kek = KekConfig::File(kek_file(&dir)?);
                    AppState::with_store(store, config, None).map_err(|e| e.to_string())?
                }
            };
            servers.push(
                cityauth_server::spawn_on(listener, state).map_err(|e| format!("serve: {e}"))?,
            );
        }
        Ok(Self {
            servers,
            proxy,
            ca,
            public_url,
            postgres: postgres.map(|(cluster, name, _)| (cluster, name)),
            _dir: dir,
        })
    }

    /// The URL the clients use (nginx's, or the one server's).
    pub fn url(&self) -> &str {
        &self.public_url
    }

    /// The first replica's state, for the administration (employees, enrollment links).
    pub fn admin(&self) -> &AppState {
        self.servers[0].state()
    }

    /// nginx's error log, if nginx is in front (for a failure's message).
    pub fn proxy_log(&self) -> String {
        self.proxy
            .as_ref()
            .map(Nginx::error_log)
            .unwrap_or_default()
    }

    /// An HTTP client whose connections come from `source` (a loopback address: each one is
    /// a distinct client to the server's limits) and that trusts the deployment's test CA.
    pub fn client(&self, source: IpAddr) -> Client {
        Client {
            agent: nginx::client(source, &self.ca),
        }
    }

    /// Clears the statement statistics and the WAL counters (after `enable_statement_stats`).
    pub fn sql_profile_reset(&self) -> Result<(), String> {
        let Some((cluster, name)) = &self.postgres else {
            return Ok(());
        };
        cluster.psql(name, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements")?;
        cluster.psql(
            name,
            "SELECT pg_stat_statements_reset(), pg_stat_reset_shared('wal')",
        )?;
        Ok(())
    }

    /// The statements that took the database's time since [`Deployment::sql_profile_reset`],
    /// per unit of work (`units`: round trips or verified codes), and the WAL's writes and
    /// flushes, as a Markdown table.
    pub fn sql_profile(&self, units: usize) -> Result<String, String> {
        let Some((cluster, name)) = &self.postgres else {
            return Ok(String::new());
        };
        let units = units.max(1);
        let rows = cluster.psql(
            name,
            &format!(
                "SELECT round(calls::numeric / {units}, 2), round(mean_exec_time::numeric, 3),
                        round(total_exec_time::numeric), rows,
                        regexp_replace(left(query, 110), '\\s+', ' ', 'g')
                 FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database
                      WHERE datname = current_database())
                 ORDER BY total_exec_time DESC LIMIT 25"
            ),
        )?;
        let mut out = String::from(
            "| calls per unit | mean ms | total ms | rows | statement |\n| --- | --- | --- | --- | --- |\n",
        );
        for line in rows.lines() {
            let cells: Vec<&str> = line.splitn(5, '|').collect();
            out.push_str(&format!("| {} |\n", cells.join(" | ").replace('\n', " ")));
        }
        let wal = cluster.psql(
            name,
            &format!(
                "SELECT round(wal_records::numeric / {units}, 2), round(wal_write::numeric / {units}, 2),
                        round(wal_sync::numeric / {units}, 2), round(wal_sync_time::numeric), 
                        round(wal_write_time::numeric)
                 FROM pg_stat_wal"
            ),
        )?;
        let wal: Vec<&str> = wal.trim().split('|').collect();
        if let [records, writes, syncs, sync_ms, write_ms] = wal[..] {
            out.push_str(&format!(
                "WAL per unit: {records} records, {writes} writes, {syncs} flushes \
                 (cluster-wide; {sync_ms} ms flushing, {write_ms} ms writing in all)\n"
            ));
        }
        Ok(out)
    }

    /// The database's counters once the other sessions' statistics have reached it
    /// (PostgreSQL publishes a session's counts with a delay): `None` on SQLite.
    pub fn settled_counters(&self) -> Option<Result<PgCounters, String>> {
        let _first_read = self.postgres_counters()?;
        std::thread::sleep(std::time::Duration::from_millis(1500));
        self.postgres_counters()
    }

    /// The statement profile of the run (`--sql-profile`) over `units` round trips or
    /// codes, when `wanted`.
    pub fn sql_profile_if(&self, wanted: bool, units: usize) -> Result<Option<String>, String> {
        if wanted {
            self.sql_profile(units).map(Some)
        } else {
            Ok(None)
        }
    }

    /// The PostgreSQL database's counters now, or `None` on SQLite.
    pub fn postgres_counters(&self) -> Option<Result<PgCounters, String>> {
        self.postgres
            .as_ref()
            .map(|(cluster, name)| PgCounters::read(cluster, name))
    }
}

/// The run's PostgreSQL cluster (the e2e harness's, in a temporary folder), started on
/// first use; each setup then gets a fresh database in it. It is removed when the process
/// ends (the harness's watchdog).
pub fn postgres() -> Result<&'static Postgres, String> {
    static CLUSTER: OnceLock<Result<Postgres, String>> = OnceLock::new();
    CLUSTER
        .get_or_init(Postgres::start)
        .as_ref()
        .map_err(Clone::clone)
}

/// Loads `pg_stat_statements` into the run's cluster (a restart), for `--sql-profile`:
/// where the database's time goes, statement by statement.
pub fn enable_statement_stats() -> Result<(), String> {
    let cluster = postgres()?;
    cluster.psql(
        "postgres",
        "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'",
    )?;
    cluster.psql("postgres", "ALTER SYSTEM SET track_wal_io_timing = on")?;
    cluster.stop()?;
    cluster.restart()
}

/// Writes a fresh key-encryption key (64 hex digits, from ring) for the replicas to share.
fn kek_file(dir: &tempfile::TempDir) -> Result<PathBuf, String> {
    let path = dir.path().join("kek");
    if !path.exists() {
        let mut key = zeroize::Zeroizing::new([0u8; 32]);
        ring::rand::SystemRandom::new()
            .fill(key.as_mut())
            .map_err(|_| "no randomness")?;
        let hex: zeroize::Zeroizing<String> =
            zeroize::Zeroizing::new(key.iter().map(|b| format!("{b:02x}")).collect());
        std::fs::write(&path, hex.as_bytes()).map_err(|e| format!("write the KEK: {e}"))?;
    }
    Ok(path)
}

/// An HTTP(S) client of the benchmark: keep-alive connections from one loopback address.
/// Statuses are answers, not errors.
#[derive(Clone)]
pub struct Client {
    agent: ureq::Agent,
}

impl Client {
    /// Sends one request; JSON bodies.
    pub fn send(&self, method: &str, url: &str, body: Vec<u8>) -> Result<(u16, Vec<u8>), String> {
        let request = HttpRequest {
            method: method.into(),
            url: url.into(),
            headers: Vec::new(),
            body,
        };
        self.exchange(&request)
            .map(|r| (r.status, r.body))
            .map_err(|e| e.reason)
    }

    fn exchange(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        let failed = |e: &dyn std::fmt::Display| TransportError {
            reason: e.to_string(),
        };
        let mut builder = ureq::http::Request::builder()
            .method(request.method.as_str())
            .uri(&request.url)
            .header("content-type", "application/json");
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        let http = builder.body(request.body.clone()).map_err(|e| failed(&e))?;
        // Timeouts per phase, none global: with a global one ureq resolves the address on
        // a new thread for every request, which would cost more than the request.
        let mut response = http
            .with_agent(&self.agent)
            .configure()
            .timeout_global(None)
            .timeout_connect(Some(PHASE_TIMEOUT))
            .timeout_send_request(Some(PHASE_TIMEOUT))
            .timeout_send_body(Some(PHASE_TIMEOUT))
            .timeout_recv_response(Some(RESPONSE_TIMEOUT))
            .timeout_recv_body(Some(PHASE_TIMEOUT))
            .run()
            .map_err(|e| failed(&e))?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(1024 * 1024)
            .read_to_vec()
            .map_err(|e| failed(&e))?;
        Ok(HttpResponse { status, body })
    }
}

impl Transport for Client {
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        self.exchange(request)
    }
}

/// A loopback address for client number `n` (127.1.0.0 and up: below 127.1 are the proxy's
/// and other tests' addresses).
pub fn client_address(n: usize) -> IpAddr {
    let n = u32::try_from(n).unwrap_or(u32::MAX) & 0x00ff_ffff;
    IpAddr::V4(Ipv4Addr::from(0x7f01_0000u32.wrapping_add(n) | 0x7f00_0000))
}

/// What the database counted between two readings (either one's error if it failed).
pub fn counters_between(
    before: Option<Result<PgCounters, String>>,
    after: Option<Result<PgCounters, String>>,
) -> Option<Result<PgCounters, String>> {
    match (before, after) {
        (Some(Ok(before)), Some(Ok(after))) => Some(Ok(after.since(&before))),
        (Some(Err(e)), _) | (_, Some(Err(e))) => Some(Err(e)),
        _ => None,
    }
}

/// What PostgreSQL counted for the database: the work of a run is the difference.
#[derive(Debug, Clone, Copy, Default)]
pub struct PgCounters {
    /// Committed transactions (`pg_stat_database.xact_commit`; read-only ones included).
    pub commits: u64,
    /// Transaction ids handed out: the transactions that wrote.
    pub writes: u64,
    /// Bytes of WAL written (the whole cluster's).
    pub wal_bytes: u64,
}

impl PgCounters {
    /// Reads them through `psql` (one read-only transaction of its own). The statistics of
    /// other sessions reach `pg_stat_database` when they go idle, within about a second:
    /// wait that long after a run before reading.
    pub fn read(cluster: &Postgres, database: &str) -> Result<Self, String> {
        let text = cluster.psql(
            database,
            "SELECT xact_commit, pg_snapshot_xmax(pg_current_snapshot())::text::bigint,
                    pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint
             FROM pg_stat_database WHERE datname = current_database()",
        )?;
        let numbers: Vec<u64> = text
            .split(['|', '\n'])
            .filter_map(|n| n.trim().parse().ok())
            .collect();
        match numbers[..] {
            [commits, writes, wal_bytes] => Ok(Self {
                commits,
                writes,
                wal_bytes,
            }),
            _ => Err(format!("psql answered {text:?}")),
        }
    }

    /// The work between `before` and `self`, less the one read of `before` itself.
    pub fn since(&self, before: &Self) -> Self {
        Self {
            commits: self.commits.saturating_sub(before.commits + 1),
            writes: self.writes.saturating_sub(before.writes),
            wal_bytes: self.wal_bytes.saturating_sub(before.wal_bytes),
        }
    }
}

/// The `p`th percentile of sorted latencies (nearest rank).
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// Milliseconds, two decimals.
pub fn ms(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1000.0)
}

/// Prints a Markdown table (so that docs/benchmarks.md can take it as printed).
pub fn print_table(header: &[&str], rows: &[Vec<String>]) {
    println!("| {} |", header.join(" | "));
    println!("|{}", " --- |".repeat(header.len()));
    for row in rows {
        println!("| {} |", row.join(" | "));
    }
}

/// The machine's 1-minute load average now (`/proc/loadavg`), printed with the figures: on
/// a shared 2-core machine other work moves them a lot.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".into())
}
