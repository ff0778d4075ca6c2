//! The real `cityauth-server` binary as an operator runs it: `serve` in a child process on a
//! loopback port with its log captured to a file, and the admin commands (`user add`,
//! `enroll-link`, `backup`, `restore`, …) run beside it on the same database.
//!
//! The binary is this build's own (debug, or release for the benchmarks); it is built once
//! per test process with `cargo build -p cityauth-server` (a no-op when fresh), so a test
//! never runs a stale one.

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long a starting server may take to listen.
const START_LIMIT: Duration = Duration::from_secs(30);

/// The `cityauth-server` binary, built if needed; panics (a test's failure) if it cannot be.
pub fn server_binary() -> PathBuf {
    built_server().unwrap_or_else(|e| panic!("{e}"))
}

/// The `cityauth-server` binary of this build: `CITYAUTH_SERVER_BIN`, or built by cargo into
/// this test's own target folder (cargo builds a dependency's library for the tests, not
/// its binaries). Built once per test process.
pub fn built_server() -> Result<PathBuf, String> {
    static BIN: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(bin) = std::env::var_os("CITYAUTH_SERVER_BIN") {
            return Ok(PathBuf::from(bin));
        }
        // target/<profile>/deps/<test> → target/<profile>
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .ok_or("the test binary is not in a cargo target folder")?;
        let target_dir = profile_dir.parent().ok_or("no target folder")?;
        let release = profile_dir.file_name().is_some_and(|n| n == "release");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut build = Command::new(cargo);
        build
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args([
                "build",
                "-q",
                "-p",
                "cityauth-server",
                "--bin",
                "cityauth-server",
            ])
            .arg("--target-dir")
            .arg(target_dir);
        if release {
            build.arg("--release");
        }
        // What cargo set for this test (package name, manifest folder, …) would change
        // build scripts' inputs and rebuild half the tree each time: run it as a shell would.
        for (name, _) in std::env::vars_os() {
            let text = name.to_string_lossy();
            if (text.starts_with("CARGO_") && text != "CARGO_HOME") || text == "RUST_BACKTRACE" {
                build.env_remove(&name);
            }
        }
        let status = build.status().map_err(|e| format!("cargo build: {e}"))?;
        if !status.success() {
            return Err(format!("cargo build of cityauth-server failed ({status})"));
        }
        Ok(profile_dir.join("cityauth-server"))
    })
    .clone()
}

/// A free loopback port (bound then released: a race is possible but harmless in tests).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// One run of an admin command: whether it succeeded, its stdout and stderr.
#[derive(Debug)]
pub struct Output {
    /// Exit status 0.
    pub success: bool,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// Runs `cityauth-server <args>` with `stdin` typed in and `env` set.
pub fn run(args: &[&str], env: &[(&str, &str)], stdin: &str) -> Output {
    let mut child = Command::new(server_binary())
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the server binary starts");
    if let Some(mut input) = child.stdin.take() {
        let _ = input.write_all(stdin.as_bytes());
    }
    let output = child.wait_with_output().expect("it ends");
    Output {
        success: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// `cityauth-server serve` in a child process; stopped (SIGTERM, then killed) on drop.
pub struct ServerProcess {
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
}

impl ServerProcess {
    /// Starts `cityauth-server <global> serve --listen 127.0.0.1:<port> <serve_args>` with
    /// `env`, its standard error written to `log`; returns once it accepts connections.
    pub fn start(
        global: &[&str],
        port: u16,
        serve_args: &[&str],
        env: &[(&str, &str)],
        log: &Path,
    ) -> Self {
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("an address");
        let file = std::fs::File::create(log).expect("the log file");
        let child = Command::new(server_binary())
            .args(global)
            .arg("serve")
            .arg("--listen")
            .arg(addr.to_string())
            .args(serve_args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("the server binary starts");
        let mut server = Self {
            child,
            addr,
            log: log.to_path_buf(),
        };
        let started = Instant::now();
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("the server exited ({status}): {}", server.log_text());
            }
            assert!(
                started.elapsed() < START_LIMIT,
                "the server did not listen: {}",
                server.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// What it logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Stops it as systemd does (SIGTERM) and waits; killed if it has not ended in 10 s.
    pub fn stop(mut self) -> String {
        self.terminate();
        self.log_text()
    }

    fn terminate(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.terminate();
        }
    }
}
