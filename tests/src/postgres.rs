//! A real PostgreSQL for tests: a throwaway cluster made by `initdb` in a temporary
//! folder, listening on a free loopback port, stopped and removed when dropped, and also
//! when the test process is killed (a watchdog child holds a pipe from this process).
//!
//! Shared with the server's own tests through `#[path]`: std only.
//!
//! Authentication: a random password (SCRAM) on loopback, trust only on the cluster's
//! unix socket in its 0700 folder. Another user of the machine can reach the loopback port,
//! and the URL then carries a password, which is what the store's redaction is tested on.

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A running PostgreSQL cluster of the test.
pub struct Postgres {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    password: String,
    as_root: bool,
    /// Stops the cluster and removes its folder when its stdin closes (this process ends).
    watchdog: Option<(Child, ChildStdin)>,
}

/// Where the PostgreSQL programs are: `CITYAUTH_PG_BIN`, or Debian's newest version.
fn bin_dir() -> Result<PathBuf, String> {
    if let Ok(dir) = std::env::var("CITYAUTH_PG_BIN") {
        return Ok(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|e| format!("PostgreSQL is not installed (/usr/lib/postgresql: {e})"))?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, bin)| bin)
        .ok_or_else(|| "no PostgreSQL initdb under /usr/lib/postgresql".into())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.trim_ascii() == b"0")
        .unwrap_or(false)
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

fn random_hex(bytes: usize) -> Result<String, String> {
    use std::io::Read;
    let mut buffer = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buffer))
        .map_err(|e| e.to_string())?;
    Ok(buffer.iter().map(|b| format!("{b:02x}")).collect())
}

impl Postgres {
    /// One cluster for the whole test process, started on first use (each harness then
    /// makes its own database in it). Panics with the reason if it cannot start.
    pub fn shared() -> &'static Postgres {
        static SHARED: OnceLock<Postgres> = OnceLock::new();
        SHARED.get_or_init(|| Postgres::start().expect("start PostgreSQL"))
    }

    /// Makes a new cluster and starts it.
    pub fn start() -> Result<Self, String> {
        let bin = bin_dir()?;
        let as_root = is_root();
        let dir = std::env::temp_dir().join(format!("cityauth-pg-{}", random_hex(8)?));
        std::fs::create_dir(&dir).map_err(|e| e.to_string())?;
        let password = random_hex(16)?;
        let mut postgres = Self {
            dir,
            bin,
            port: free_port()?,
            password,
            as_root,
            watchdog: None,
        };
        postgres.watchdog = Some(postgres.spawn_watchdog()?);
        postgres.prepare_folder()?;
        let pwfile = postgres.dir.join("pwfile");
        std::fs::write(&pwfile, &postgres.password).map_err(|e| e.to_string())?;
        postgres.hand_over(&pwfile)?;
        let data = postgres.data();
        postgres.run(
            "initdb",
            &[
                "-D",
                path_str(&data)?,
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                &format!("--pwfile={}", path_str(&pwfile)?),
            ],
        )?;
        let _ = std::fs::remove_file(&pwfile);
        postgres.start_server()?;
        Ok(postgres)
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// The folder belongs to the `postgres` user when we are root (PostgreSQL refuses to
    /// run as root).
    fn prepare_folder(&self) -> Result<(), String> {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&self.dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| e.to_string())?;
        self.hand_over(&self.dir)
    }

    fn hand_over(&self, path: &Path) -> Result<(), String> {
        if !self.as_root {
            return Ok(());
        }
        let status = Command::new("chown")
            .arg("postgres:postgres")
            .arg(path)
            .status()
            .map_err(|e| e.to_string())?;
        status
            .success()
            .then_some(())
            .ok_or_else(|| format!("chown postgres {}", path.display()))
    }

    /// A PostgreSQL program, as the `postgres` user when we are root.
    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.as_root {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(path);
            command
        } else {
            Command::new(path)
        }
    }

    fn run(&self, program: &str, args: &[&str]) -> Result<(), String> {
        let output = self
            .command(program)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("{program}: {e}"))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{program} failed: {}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ))
        }
    }

    fn start_server(&self) -> Result<(), String> {
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c max_connections=300 \
             -c shared_buffers=32MB -c fsync=on",
            self.port,
            path_str(&self.dir)?
        );
        let log = self.dir.join("postgres.log");
        let data = self.data();
        // A postmaster killed a moment ago may leave backends that still hold its shared
        // memory: they exit on their own within a moment; start again until then.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let result = self.run(
                "pg_ctl",
                &[
                    "-D",
                    path_str(&data)?,
                    "-l",
                    path_str(&log)?,
                    "-o",
                    &options,
                    "-w",
                    "-t",
                    "30",
                    "start",
                ],
            );
            match result {
                Ok(()) => return Ok(()),
                Err(error) if Instant::now() > deadline => {
                    let log = std::fs::read_to_string(&log).unwrap_or_default();
                    return Err(format!("{error}\n{log}"));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(200)),
            }
        }
    }

    /// The cluster's folder (its data, socket and log).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The loopback port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL of database `name`, with the password.
    pub fn url(&self, name: &str) -> String {
        format!(
            "postgres://postgres:{}@127.0.0.1:{}/{name}",
            self.password, self.port
        )
    }

    /// Runs SQL as the superuser on database `db` (through the unix socket), e.g. to look
    /// at what a test left; the output of `psql -At`.
    pub fn psql(&self, db: &str, sql: &str) -> Result<String, String> {
        let output = self
            .command("psql")
            .args(["-X", "-At", "-v", "ON_ERROR_STOP=1", "-h"])
            .arg(&self.dir)
            .args([
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                "-d",
                db,
                "-c",
                sql,
            ])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("psql: {e}"))?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).into_owned())
        } else {
            Err(format!("psql: {}", String::from_utf8_lossy(&output.stderr)))
        }
    }

    /// Makes a new empty database `name` (letters, digits, `_`); its URL.
    pub fn create_database(&self, name: &str) -> Result<String, String> {
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(format!("not a plain database name: {name:?}"));
        }
        self.psql("postgres", &format!("CREATE DATABASE {name}"))?;
        Ok(self.url(name))
    }

    /// A fresh database with a unique name; its URL.
    pub fn fresh_database(&self) -> Result<String, String> {
        self.create_database(&format!("t_{}", random_hex(8)?))
    }

    /// Stops the cluster (fast shutdown: clients are disconnected).
    pub fn stop(&self) -> Result<(), String> {
        self.run(
            "pg_ctl",
            &["-D", path_str(&self.data())?, "-m", "fast", "-w", "stop"],
        )
    }

    /// Starts the stopped (or killed) cluster again on the same port.
    pub fn restart(&self) -> Result<(), String> {
        self.start_server()
    }

    /// Kills the postmaster with SIGKILL (a crash); [`Postgres::restart`] recovers it.
    pub fn kill(&self) -> Result<(), String> {
        let pid = std::fs::read_to_string(self.data().join("postmaster.pid"))
            .map_err(|e| e.to_string())?;
        let pid = pid.lines().next().unwrap_or("").trim().to_owned();
        let status = Command::new("kill")
            .args(["-KILL", &pid])
            .status()
            .map_err(|e| e.to_string())?;
        status
            .success()
            .then_some(())
            .ok_or_else(|| "kill failed".into())
    }

    /// A shell that waits for its stdin to close (this process exited or dropped the
    /// cluster), then stops the cluster at once and removes its folder.
    fn spawn_watchdog(&self) -> Result<(Child, ChildStdin), String> {
        let pg_ctl = self.bin.join("pg_ctl");
        let stop = if self.as_root {
            format!("runuser -u postgres -- '{}'", pg_ctl.display())
        } else {
            format!("'{}'", pg_ctl.display())
        };
        let script = format!(
            "cat >/dev/null; {stop} -D '{data}' -m immediate -w stop >/dev/null 2>&1; \
             rm -rf '{dir}'",
            data = self.data().display(),
            dir = self.dir.display()
        );
        let mut child = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("watchdog: {e}"))?;
        let stdin = child.stdin.take().ok_or("watchdog: no stdin")?;
        Ok((child, stdin))
    }
}

fn path_str(path: &Path) -> Result<&str, String> {
    path.to_str()
        .ok_or_else(|| format!("not UTF-8: {}", path.display()))
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if let Some((mut child, mut stdin)) = self.watchdog.take() {
            let _ = stdin.flush();
            drop(stdin);
            let _ = child.wait();
        }
    }
}
