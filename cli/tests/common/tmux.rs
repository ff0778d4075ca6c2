//! A real tmux server on a private socket, for the commands that draw on a terminal.

#![allow(dead_code)] // each test file uses some of these

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// A tmux server of its own (`tmux -L <name> -f /dev/null`), killed when dropped.
pub struct Tmux {
    socket: String,
    /// The socket file, removed with the server (tmux leaves it behind).
    socket_path: String,
}

impl Tmux {
    /// Starts a detached 100x30 session running `command` (a shell command line), with the
    /// pane kept after the command exits so that its last screen can still be read.
    pub fn start(name: &str, command: &str) -> Self {
        Self::start_sized(name, command, 100, 30)
    }

    /// As [`Tmux::start`], on a terminal of `columns` by `rows`.
    pub fn start_sized(name: &str, command: &str, columns: u16, rows: u16) -> Self {
        let mut tmux = Self {
            socket: format!("cityauth-{name}-{}", std::process::id()),
            socket_path: String::new(),
        };
        let (x, y) = (columns.to_string(), rows.to_string());
        tmux.run(&["new-session", "-d", "-s", "t", "-x", &x, "-y", &y, command]);
        tmux.socket_path = tmux
            .run(&["display-message", "-p", "#{socket_path}"])
            .trim()
            .to_owned();
        tmux.run(&["set-option", "-t", "t", "remain-on-exit", "on"]);
        tmux
    }

    /// Runs a tmux command against this server; its stdout.
    pub fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .expect("run tmux (apt-get install tmux)");
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("UTF-8 from tmux")
    }

    /// The pane's text as `capture-pane -p` shows it.
    pub fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "t"])
    }

    /// A `display-message` format (`#{cursor_flag}`, `#{pane_dead}`) for the pane.
    pub fn show(&self, format: &str) -> String {
        self.run(&["display-message", "-p", "-t", "t", format])
            .trim()
            .to_owned()
    }

    /// Waits up to `seconds` for the screen to satisfy `ready`; the screen.
    pub fn wait_for(&self, seconds: u64, ready: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        loop {
            let screen = self.screen();
            if ready(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "timed out; the screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
        if !self.socket_path.is_empty() {
            let _ = std::fs::remove_file(&self.socket_path);
        }
    }
}

/// A shell command line that runs the cityauth binary on `vault` with `args`. The paths are
/// temporary directories without quotes in them.
pub fn cityauth_line(vault: &Path, passphrase: &str, args: &str) -> String {
    format!(
        "env CITYAUTH_VAULT='{}' CITYAUTH_PASSPHRASE='{passphrase}' '{}' {args}",
        vault.display(),
        env!("CARGO_BIN_EXE_cityauth")
    )
}
