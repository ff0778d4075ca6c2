//! Running the real `cityauth` binary: what each test file shares.

#![allow(dead_code)] // each test file uses some of these

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;
use tempfile::TempDir;

pub const PASSPHRASE: &str = "correct horse battery staple";
/// The RFC 4226 / RFC 6238 SHA-1 seed, "12345678901234567890".
pub const RFC_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
/// The RFC 6238 SHA-256 seed (32 bytes).
pub const RFC_SECRET_256: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA";
/// The RFC 6238 SHA-512 seed (64 bytes).
pub const RFC_SECRET_512: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNA=";

/// What one run of the binary did.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn assert_ok(&self) -> &Self {
        assert_eq!(
            self.code, 0,
            "stdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }

    /// Exit `status` with exactly one line on stderr, `error[<code>]: <message>`, whose
    /// message contains `needle`.
    pub fn assert_error(&self, code: &str, status: i32, needle: &str) -> &Self {
        assert_eq!(
            self.code, status,
            "stdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        assert_eq!(self.stderr.lines().count(), 1, "stderr: {}", self.stderr);
        let prefix = format!("error[{code}]: ");
        assert!(
            self.stderr.starts_with(&prefix),
            "{prefix:?}: {}",
            self.stderr
        );
        assert!(
            self.stderr.contains(needle),
            "{needle:?} not in {}",
            self.stderr
        );
        self
    }

    /// Exit `status` and the errors on stderr, each line one
    /// `{"error":{"code":..,"message":..}}` object and nothing else: their (code, message).
    pub fn json_errors(&self, status: i32) -> Vec<(String, String)> {
        assert_eq!(
            self.code, status,
            "stdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        assert!(!self.stderr.is_empty(), "no error on stderr");
        self.stderr
            .lines()
            .map(|line| {
                let value: Value = serde_json::from_str(line)
                    .unwrap_or_else(|error| panic!("not JSON ({error}): {line}"));
                let object = value.as_object().expect("an object");
                assert_eq!(object.len(), 1, "only \"error\": {line}");
                let error = value["error"].as_object().expect("an \"error\" object");
                assert_eq!(error.len(), 2, "only code and message: {line}");
                let text = |key: &str| {
                    error[key]
                        .as_str()
                        .unwrap_or_else(|| panic!("{key} is not a string: {line}"))
                        .to_owned()
                };
                (text("code"), text("message"))
            })
            .collect()
    }

    /// Exit `status` and exactly one JSON error on stderr: its (code, message).
    pub fn json_error(&self, status: i32) -> (String, String) {
        let mut errors = self.json_errors(status);
        assert_eq!(errors.len(), 1, "one error: {}", self.stderr);
        errors.remove(0)
    }

    pub fn json(&self) -> Vec<Value> {
        match serde_json::from_str(&self.stdout) {
            Ok(Value::Array(items)) => items,
            other => panic!("not a JSON array: {other:?}\n{}", self.stdout),
        }
    }
}

/// The binary with no CITYAUTH_* settings from the caller's environment and stdin closed.
pub fn command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cityauth"));
    command
        .args(args)
        .env_remove("CITYAUTH_VAULT")
        .env_remove("CITYAUTH_PASSPHRASE")
        .env_remove("CITYAUTH_NEW_PASSPHRASE")
        .env_remove("CITYAUTH_ERROR_FORMAT")
        .stdin(Stdio::null());
    command
}

pub fn output(mut command: Command) -> Run {
    let out = command.output().expect("run cityauth");
    Run {
        code: out.status.code().expect("exit status"),
        stdout: String::from_utf8(out.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("UTF-8 stderr"),
    }
}

/// Runs with `input` on stdin.
pub fn with_stdin(mut command: Command, input: &str) -> Run {
    use std::io::Write;
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("spawn cityauth");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(input.as_bytes()).expect("write stdin");
    drop(stdin);
    let out = child.wait_with_output().expect("wait for cityauth");
    Run {
        code: out.status.code().expect("exit status"),
        stdout: String::from_utf8(out.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("UTF-8 stderr"),
    }
}

/// Runs without a vault or passphrase.
pub fn bare(args: &[&str]) -> Run {
    output(command(args))
}

/// A vault path in a fresh temporary directory (the vault itself is not created).
pub fn vault_dir() -> (TempDir, PathBuf) {
    let dir = TempDir::new().expect("temp dir");
    let path = dir.path().join("nested").join("vault.sqlite");
    (dir, path)
}

/// Runs against `vault` with `passphrase` in CITYAUTH_PASSPHRASE.
pub fn with_vault(vault: &Path, passphrase: &str, args: &[&str]) -> Run {
    let mut command = command(args);
    command
        .env("CITYAUTH_VAULT", vault)
        .env("CITYAUTH_PASSPHRASE", passphrase);
    output(command)
}

pub fn run(vault: &Path, args: &[&str]) -> Run {
    with_vault(vault, PASSPHRASE, args)
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

pub fn field<'a>(item: &'a Value, key: &str) -> &'a Value {
    item.get(key)
        .unwrap_or_else(|| panic!("no {key:?} in {item}"))
}

pub fn find<'a>(items: &'a [Value], issuer: &str) -> &'a Value {
    items
        .iter()
        .find(|item| item["issuer"] == issuer)
        .unwrap_or_else(|| panic!("no {issuer} in {items:?}"))
}
