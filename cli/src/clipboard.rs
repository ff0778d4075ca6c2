//! `code --copy`: the code to the clipboard instead of the screen, cleared after a while.
//!
//! The clipboard is `wl-copy` (Wayland), `xclip` (X11) or `pbcopy` (macOS) when one is there
//! with its display, else the terminal's own through the OSC 52 escape sequence written to
//! the controlling terminal (works over SSH, and in tmux with `set -g set-clipboard on`).
//! The command stays in the foreground until it clears the clipboard (Ctrl-C clears at
//! once): no detached process is left holding the code. It clears only what still holds our
//! code: the tools' clipboard is read back first; in tmux, the paste buffers holding the code
//! are deleted and the others left. A terminal's clipboard reached by OSC 52 outside tmux
//! cannot be read back, so there it is cleared (an empty OSC 52) whatever it holds then.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use base64::Engine;
use cityauth_core::OtpKind;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::args::CodeArgs;
use crate::commands::{finish, unlock};
use crate::error::{CliError, Code, warn};
use crate::params;
use crate::select::{candidates, select};

/// Where the code goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Clipboard {
    /// A clipboard program: what copies, what reads back.
    Tool {
        copy: &'static [&'static str],
        paste: &'static [&'static str],
    },
    /// OSC 52 to the controlling terminal; `tmux` when inside tmux (its paste buffers).
    Osc52 { tmux: bool },
}

impl Clipboard {
    /// The first that can work here.
    fn detect() -> Self {
        let set = |var: &str| std::env::var_os(var).is_some_and(|v| !v.is_empty());
        if set("WAYLAND_DISPLAY") && on_path("wl-copy") && on_path("wl-paste") {
            return Self::Tool {
                copy: &["wl-copy"],
                paste: &["wl-paste", "--no-newline"],
            };
        }
        if set("DISPLAY") && on_path("xclip") {
            return Self::Tool {
                copy: &["xclip", "-selection", "clipboard"],
                paste: &["xclip", "-selection", "clipboard", "-o"],
            };
        }
        if cfg!(target_os = "macos") && on_path("pbcopy") && on_path("pbpaste") {
            return Self::Tool {
                copy: &["pbcopy"],
                paste: &["pbpaste"],
            };
        }
        Self::Osc52 { tmux: set("TMUX") }
    }

    /// What the user is told the code went through.
    fn name(self) -> &'static str {
        match self {
            Self::Tool { copy, .. } => copy[0],
            Self::Osc52 { tmux: true } => "the terminal (OSC 52, tmux's paste buffer)",
            Self::Osc52 { tmux: false } => "the terminal (OSC 52)",
        }
    }

    fn copy(self, text: &str) -> Result<(), CliError> {
        match self {
            Self::Tool { copy, .. } => feed(copy, text),
            Self::Osc52 { tmux } => {
                if tmux {
                    warn_unless_tmux_takes_it();
                }
                let encoded =
                    Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(text));
                osc52(&encoded)
            }
        }
    }

    /// Clears the clipboard if it still holds `text`; says whether it did.
    fn clear(self, text: &str) -> Result<bool, CliError> {
        match self {
            Self::Tool { copy, paste } => {
                let now = read(paste)?;
                if !same(&now, text) {
                    return Ok(false);
                }
                feed(copy, "")?;
                Ok(true)
            }
            Self::Osc52 { tmux: true } => {
                let mut cleared = false;
                for name in tmux_buffers()? {
                    let held = read(&["tmux", "show-buffer", "-b", &name])?;
                    if same(&held, text) {
                        let _ = read(&["tmux", "delete-buffer", "-b", &name])?;
                        cleared = true;
                    }
                }
                Ok(cleared)
            }
            Self::Osc52 { tmux: false } => osc52("").map(|()| true),
        }
    }
}

/// `code ACCOUNT --copy [--clear-after SECS]`.
pub fn copy_code(path: &Path, args: &CodeArgs) -> Result<(), CliError> {
    let Some(query) = &args.account else {
        return Err(CliError::usage(
            "--copy copies an account's code: give the account",
        ));
    };
    let clipboard = Clipboard::detect();
    let vault = unlock(path)?;
    let all = candidates(&vault)?;
    let chosen = select(&all, query)?;
    let code = if chosen.kind == Some(OtpKind::Hotp) {
        vault.next_hotp(chosen.id)?
    } else {
        vault.code_now(chosen.id, params::now()?)?.code
    };
    let text = Zeroizing::new(code.as_str().to_owned());
    drop(code);
    clipboard.copy(&text)?;
    let seconds = args.clear_after;
    if seconds == 0 {
        warn(&format!(
            "Copied the code of {} to the clipboard through {}; it will not be cleared.",
            chosen.label,
            clipboard.name()
        ));
        return finish(&vault);
    }
    warn(&format!(
        "Copied the code of {} to the clipboard through {}; clearing it in {seconds} s \
         (Ctrl-C clears it now).",
        chosen.label,
        clipboard.name()
    ));
    wait(Duration::from_secs(seconds))?;
    if clipboard.clear(&text)? {
        warn("Clipboard cleared.");
    } else {
        warn("The clipboard holds something else now; left as it is.");
    }
    finish(&vault)
}

/// Sleeps `length`, or until Ctrl-C (or TERM, HUP).
fn wait(length: Duration) -> Result<(), CliError> {
    let stop = crate::watch::stop_flag()?;
    let end = Instant::now() + length;
    while !stop.load(Ordering::Relaxed) {
        let now = Instant::now();
        if now >= end {
            break;
        }
        std::thread::sleep((end - now).min(Duration::from_millis(50)));
    }
    Ok(())
}

/// Equal, in constant time (the clipboard may hold anything; the code is a secret).
fn same(held: &[u8], text: &str) -> bool {
    held.ct_eq(text.as_bytes()).into()
}

/// Writes OSC 52 (set the clipboard to the base64 `payload`; empty clears) to the
/// controlling terminal, which may be there when stdout is not.
fn osc52(payload: &str) -> Result<(), CliError> {
    let mut tty = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/tty")
        .map_err(|_| {
            CliError::new(
                Code::NotATerminal,
                "no clipboard: no wl-copy, xclip or pbcopy with its display, and no terminal \
                 for OSC 52",
            )
        })?;
    let sequence = Zeroizing::new(format!("\x1b]52;c;{payload}\x07"));
    tty.write_all(sequence.as_bytes())
        .and_then(|()| tty.flush())
        .map_err(|error| CliError::new(Code::Io, format!("cannot write to the terminal: {error}")))
}

/// In tmux, OSC 52 reaches the paste buffer only with `set-clipboard on`: say so otherwise.
fn warn_unless_tmux_takes_it() {
    let setting = read(&["tmux", "show-options", "-gv", "set-clipboard"])
        .map(|out| String::from_utf8_lossy(&out).trim().to_owned())
        .unwrap_or_default();
    if setting != "on" {
        warn(&format!(
            "tmux's set-clipboard is {setting:?}: with `set -g set-clipboard on` tmux keeps \
             what cityauth copies"
        ));
    }
}

/// The names of tmux's paste buffers, newest first.
fn tmux_buffers() -> Result<Vec<String>, CliError> {
    let out = read(&["tmux", "list-buffers", "-F", "#{buffer_name}"])?;
    Ok(String::from_utf8_lossy(&out)
        .lines()
        .map(str::to_owned)
        .collect())
}

/// Runs `argv` with `text` on its stdin (never in its arguments: `ps` shows those).
fn feed(argv: &[&str], text: &str) -> Result<(), CliError> {
    let failed = |what: String| CliError::new(Code::Io, format!("{}: {what}", argv[0]));
    let mut child = Command::new(argv[0])
        .args(&argv[1..])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|error| failed(error.to_string()))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(text.as_bytes())
            .map_err(|error| failed(error.to_string()))?;
    }
    let status = child.wait().map_err(|error| failed(error.to_string()))?;
    if !status.success() {
        return Err(failed(format!("exited with {status}")));
    }
    Ok(())
}

/// Runs `argv` and returns its stdout (kept in a wiped buffer: it may be the code).
fn read(argv: &[&str]) -> Result<Zeroizing<Vec<u8>>, CliError> {
    let out = Command::new(argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .map_err(|error| CliError::new(Code::Io, format!("{}: {error}", argv[0])))?;
    Ok(Zeroizing::new(out.stdout))
}

/// True when an executable file called `name` is in a directory of `PATH`.
fn on_path(name: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(name).is_file()))
}
