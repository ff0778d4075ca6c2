//! The server as a City deploys it: several `cityauth-server serve` processes (the real
//! binary) on one real PostgreSQL, behind a real nginx on loopback (round robin, TLS with a
//! test CA), each told to trust nginx's address for the client's.
//!
//! The test keeps an in-process state on the same database for what an administrator does
//! with the admin commands (accounts, enrollment links, the audit log); every request an
//! employee or a phone makes goes over HTTPS through nginx, or straight to one replica where
//! a test must choose which.

use std::io::Write;
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cityauth_core::device::{Device, HttpRequest, HttpResponse, Transport, TransportError};
use cityauth_core::{KdfParams, Vault};
use cityauth_protocol::wire::{ResetStartRequest, ResetStartResponse, ResetStatus};
use cityauth_server::kek::KekConfig;
use cityauth_server::store::Durability;
use cityauth_server::store::StoreLocation;
use cityauth_server::{AppState, Config, admin};

use crate::nginx::{self, Nginx, ProxyOptions, TestCa};
use crate::postgres::Postgres;

/// The address nginx connects to the replicas from, which they trust for the client's.
pub const PROXY: &str = "127.0.0.1";
/// How long a replica may take to answer its health check after starting.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// Why the deployment is not there: the reason to print when a test skips.
pub fn missing() -> Option<String> {
    if nginx::binary().is_none() {
        return Some("nginx is not installed (apt-get install nginx)".into());
    }
    if !Path::new("/usr/lib/postgresql").is_dir() && std::env::var_os("CITYAUTH_PG_BIN").is_none() {
        return Some("PostgreSQL is not installed (apt-get install postgresql)".into());
    }
    None
}

fn free_addr() -> Result<SocketAddr, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    listener.local_addr().map_err(|e| e.to_string())
}

/// One `cityauth-server serve` process; SIGKILLed when dropped, and also when the test
/// process dies (a watchdog shell holding a pipe from it kills the server).
pub struct Replica {
    bin: PathBuf,
    args: Vec<String>,
    addr: SocketAddr,
    log: PathBuf,
    /// The server and its watchdog, while running; behind a lock so that a test can kill
    /// and restart it while other threads send it requests.
    process: Mutex<Option<Process>>,
}

/// A running server process and the watchdog shell that kills it if the test dies.
struct Process {
    server: Child,
    watchdog: Child,
    pipe: ChildStdin,
}

impl Replica {
    fn start(
        bin: &Path,
        args: Vec<String>,
        addr: SocketAddr,
        log: PathBuf,
    ) -> Result<Self, String> {
        let replica = Self {
            bin: bin.to_owned(),
            args,
            addr,
            log,
            process: Mutex::new(None),
        };
        replica.spawn()?;
        Ok(replica)
    }

    fn process(&self) -> std::sync::MutexGuard<'_, Option<Process>> {
        self.process.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn spawn(&self) -> Result<(), String> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .map_err(|e| e.to_string())?;
        let err = log.try_clone().map_err(|e| e.to_string())?;
        let child = Command::new(&self.bin)
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("start {}: {e}", self.bin.display()))?;
        let pid = child.id();
        let mut watchdog = Command::new("sh")
            .arg("-c")
            .arg(format!("read _; kill -9 {pid} 2>/dev/null"))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("watchdog: {e}"))?;
        let pipe = watchdog.stdin.take().ok_or("watchdog stdin")?;
        *self.process() = Some(Process {
            server: child,
            watchdog,
            pipe,
        });
        Ok(())
    }

    /// Waits until the replica answers `GET /healthz`.
    fn wait_ready(&self) -> Result<(), String> {
        let started = Instant::now();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(2)))
            .build()
            .into();
        loop {
            let exited = self
                .process()
                .as_mut()
                .and_then(|p| p.server.try_wait().ok().flatten());
            if let Some(status) = exited {
                return Err(format!("replica exited ({status}): {}", self.log()));
            }
            if TcpStream::connect(self.addr).is_ok()
                && agent
                    .get(format!("{}/healthz", self.url()))
                    .call()
                    .is_ok_and(|r| r.status() == 200)
            {
                return Ok(());
            }
            if started.elapsed() > START_TIMEOUT {
                return Err(format!("replica did not start: {}", self.log()));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Where it listens (plain HTTP on loopback).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<addr>`: straight to this replica, not through nginx.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Its standard output and error so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Kills it with SIGKILL (a crash: no shutdown of any kind) and reaps it.
    pub fn kill(&self) {
        if let Some(mut process) = self.process().take() {
            let _ = process.server.kill();
            let _ = process.server.wait();
            drop(process.pipe);
            let _ = process.watchdog.wait();
        }
    }

    /// Starts it again, same address and settings, and waits until it answers.
    pub fn restart(&self) -> Result<(), String> {
        self.kill();
        self.spawn()?;
        self.wait_ready()
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Replicas on one PostgreSQL behind one nginx.
pub struct Deployment {
    /// The database cluster.
    pub postgres: Postgres,
    /// The replicas, in the order nginx lists them.
    pub replicas: Vec<Replica>,
    /// nginx in front of them.
    pub nginx: Nginx,
    /// The CA nginx's certificate is from.
    pub ca: TestCa,
    database: String,
    state: AppState,
    _dir: tempfile::TempDir,
}

impl Deployment {
    /// `count` replicas started at the same moment on an empty database (they must not
    /// both migrate it), then nginx in front of them; `extra` flags go to every `serve`.
    pub fn start(count: usize, extra: &[&str]) -> Result<Self, String> {
        let bin = crate::process::built_server()?;
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let postgres = Postgres::start()?;
        let database = "cityauth".to_owned();
        let url = postgres.create_database(&database)?;
        let kek = dir.path().join("kek");
        write_key(&kek)?;
        let addrs = (0..count)
            .map(|_| free_addr())
            .collect::<Result<Vec<_>, _>>()?;
        let ca = TestCa::new().map_err(|e| e.to_string())?;
        let nginx = Nginx::start(
            &nginx::binary().ok_or("nginx is not installed")?,
            &ProxyOptions {
                upstreams: &addrs,
                ca: &ca,
                bind: PROXY.parse().map_err(|_| "proxy address")?,
            },
        )?;
        let public = nginx.url();
        let mut replicas = Vec::with_capacity(count);
        for (n, addr) in addrs.iter().enumerate() {
            let mut args: Vec<String> = [
                "--db",
                &url,
                "--kek-file",
                &kek.display().to_string(),
                "--public-url",
                &public,
                "serve",
                "--listen",
                &addr.to_string(),
                "--trusted-proxy",
                PROXY,
            ]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
            args.extend(extra.iter().map(|s| (*s).to_owned()));
            let log = dir.path().join(format!("replica-{n}.log"));
            replicas.push(Replica::start(&bin, args, *addr, log)?);
        }
        for replica in &replicas {
            replica.wait_ready()?;
        }
        let store = StoreLocation::parse(&url)
            .open(Durability::Normal)
            .map_err(|e| e.to_string())?;
        let mut config = Config::new(&public);
        config.kek = KekConfig::File(kek);
        let state = AppState::with_store(store, config, None).map_err(|e| e.to_string())?;
        Ok(Self {
            postgres,
            replicas,
            nginx,
            ca,
            database,
            state,
            _dir: dir,
        })
    }

    /// `https://127.0.0.1:<nginx's port>`: what employees and phones use.
    pub fn url(&self) -> String {
        self.nginx.url()
    }

    /// The administrator's state on the same database (admin commands, audit log).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Runs SQL on the deployment's database (`psql -At` output).
    pub fn sql(&self, sql: &str) -> Result<String, String> {
        self.postgres.psql(&self.database, sql)
    }

    /// A browser at `source` (a loopback address of its own), trusting the test CA.
    pub fn browser(&self, source: IpAddr) -> ureq::Agent {
        nginx::client(source, &self.ca)
    }

    /// Creates `username` (with [`crate::GOOD_PASSWORD`]) and a phone enrolled through nginx.
    pub fn enrolled_phone(&self, username: &str) -> Result<ProxiedPhone, String> {
        admin::create_user(&self.state, username, "Test Employee", crate::GOOD_PASSWORD)
            .map_err(|e| e.to_string())?;
        let link = admin::enrollment_link(&self.state, username).map_err(|e| e.to_string())?;
        let phone = ProxiedPhone::new(self.browser(PROXY.parse().map_err(|_| "ip")?))?;
        phone
            .device()
            .enroll(&link, "Test phone", "android", None)
            .map_err(|e| e.to_string())?;
        Ok(phone)
    }

    /// How many requests each replica answered through nginx so far.
    pub fn served(&self) -> Vec<usize> {
        let counts = self.nginx.requests_per_upstream();
        self.replicas
            .iter()
            .map(|r| counts.get(&r.addr()).copied().unwrap_or(0))
            .collect()
    }
}

impl Drop for Deployment {
    fn drop(&mut self) {
        // The replicas first, so that none reconnects to a cluster being stopped.
        self.replicas.clear();
    }
}

/// Writes a fresh key-encryption key (32 random bytes) readable by its owner only.
fn write_key(path: &Path) -> Result<(), String> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let mut key = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut key))
        .map_err(|e| e.to_string())?;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut f| f.write_all(&key))
        .map_err(|e| e.to_string())
}

/// Starts a reset for `username` at `base` (nginx's URL or one replica's) with `agent`.
pub fn reset_start(
    agent: &ureq::Agent,
    base: &str,
    username: &str,
) -> Result<(u16, Option<ResetStartResponse>), String> {
    let body = serde_json::to_string(&ResetStartRequest {
        username: username.into(),
    })
    .map_err(|e| e.to_string())?;
    let mut response = agent
        .post(format!("{base}/api/v1/reset/start"))
        .header("content-type", "application/json")
        .send(body)
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let text = response
        .body_mut()
        .read_to_string()
        .map_err(|e| e.to_string())?;
    Ok((status, serde_json::from_str(&text).ok()))
}

/// A reset's state (`pending`, `verified`, …) as `base` tells it.
pub fn reset_state(agent: &ureq::Agent, base: &str, reset_id: &str) -> Result<String, String> {
    let mut response = agent
        .get(format!("{base}/api/v1/reset/{reset_id}"))
        .call()
        .map_err(|e| e.to_string())?;
    let text = response
        .body_mut()
        .read_to_string()
        .map_err(|e| e.to_string())?;
    Ok(serde_json::from_str::<ResetStatus>(&text)
        .map(|s| s.state)
        .unwrap_or(text))
}

/// The phone's HTTP: an agent trusting the test CA, optionally sending every request that
/// would go to `from` to `to` instead (a phone pinned to one replica).
pub struct AgentTransport {
    agent: ureq::Agent,
    rewrite: Option<(String, String)>,
}

impl AgentTransport {
    /// Sends requests as they are.
    pub fn new(agent: ureq::Agent) -> Self {
        Self {
            agent,
            rewrite: None,
        }
    }

    /// Sends requests for `from…` to `to…` instead (same path and signed headers).
    pub fn pinned(agent: ureq::Agent, from: &str, to: &str) -> Self {
        Self {
            agent,
            rewrite: Some((from.to_owned(), to.to_owned())),
        }
    }
}

impl Transport for AgentTransport {
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        let fail = |e: String| TransportError { reason: e };
        let url = match &self.rewrite {
            Some((from, to)) => match request.url.strip_prefix(from.as_str()) {
                Some(rest) => format!("{to}{rest}"),
                None => request.url.clone(),
            },
            None => request.url.clone(),
        };
        let mut builder = ureq::http::Request::builder()
            .method(request.method.as_str())
            .uri(&url)
            .header("content-type", "application/json");
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        let http = builder
            .body(request.body.clone())
            .map_err(|e| fail(e.to_string()))?;
        let mut response = self.agent.run(http).map_err(|e| fail(e.to_string()))?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .read_to_vec()
            .map_err(|e| fail(e.to_string()))?;
        Ok(HttpResponse { status, body })
    }
}

/// A phone with a real vault whose requests go through nginx (HTTPS, the test CA).
pub struct ProxiedPhone {
    /// The phone's vault, unlocked.
    pub vault: Vault,
    /// Its HTTP.
    pub transport: Arc<AgentTransport>,
    _dir: tempfile::TempDir,
}

impl ProxiedPhone {
    fn new(agent: ureq::Agent) -> Result<Self, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let kdf = KdfParams::new(256, 1, 1).ok_or("KDF parameters")?;
        let vault = Vault::create(&dir.path().join("phone.sqlite"), "phone passphrase", kdf)
            .map_err(|e| e.to_string())?;
        Ok(Self {
            vault,
            transport: Arc::new(AgentTransport::new(agent)),
            _dir: dir,
        })
    }

    /// The device side of the protocol, through nginx.
    pub fn device(&self) -> Device<'_> {
        Device::new(&self.vault, self.transport.as_ref())
    }

    /// The device side of the protocol over another transport (e.g. pinned to a replica).
    pub fn device_with<'a>(&'a self, transport: &'a dyn Transport) -> Device<'a> {
        Device::new(&self.vault, transport)
    }
}
