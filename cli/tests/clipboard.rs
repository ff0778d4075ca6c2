//! `code --copy` through OSC 52 in a real tmux (`set-clipboard on`): the code reaches tmux's
//! paste buffer and never the screen, and is cleared after `--clear-after` (or at Ctrl-C)
//! only where it is still held; without a terminal or clipboard program, a clear error.

mod common;
#[path = "common/tmux.rs"]
mod tmux;

use std::process::Command;

use common::*;
use tmux::{Tmux, cityauth_line};

/// A vault with one TOTP account of a one-hour period (its code is stable during a test).
fn hourly_vault() -> (tempfile::TempDir, std::path::PathBuf, String) {
    let (dir, vault) = vault_dir();
    run(&vault, &["init"]).assert_ok();
    let link = format!("otpauth://totp/Hourly:alice?secret={RFC_SECRET}&period=3600");
    run(&vault, &["add", &link]).assert_ok();
    let code = run(&vault, &["code", "Hourly"])
        .assert_ok()
        .stdout
        .trim()
        .to_owned();
    (dir, vault, code)
}

/// Starts `cityauth <args>` in tmux with `set-clipboard on`; the shell prints how it ended.
fn in_tmux(name: &str, vault: &std::path::Path, args: &str) -> Tmux {
    let tmux = Tmux::start(name, "sleep 60");
    tmux.run(&["set-option", "-g", "set-clipboard", "on"]);
    let line = cityauth_line(vault, PASSPHRASE, args);
    tmux.run(&[
        "respawn-pane",
        "-k",
        "-t",
        "t",
        &format!("{line}; echo \"ended: $?\"; sleep 30"),
    ]);
    tmux
}

/// The contents of every paste buffer.
fn buffers(tmux: &Tmux) -> Vec<String> {
    tmux.run(&["list-buffers", "-F", "#{buffer_name}"])
        .lines()
        .map(|name| tmux.run(&["show-buffer", "-b", name]))
        .collect()
}

#[test]
fn the_code_is_copied_not_shown_and_cleared_after_the_delay() {
    let (_dir, vault, code) = hourly_vault();
    let tmux = in_tmux("copy", &vault, "code Hourly --copy --clear-after 3");
    let screen = tmux.wait_for(15, |screen| screen.contains("clearing it in 3 s"));
    assert_eq!(
        tmux.run(&["show-buffer"]),
        code,
        "tmux's buffer holds the code"
    );
    assert!(
        !screen.contains(&code),
        "the code is not on the screen:\n{screen}"
    );
    let after = tmux.wait_for(10, |screen| screen.contains("ended: "));
    assert!(
        after.contains("Clipboard cleared.") && after.contains("ended: 0"),
        "{after}"
    );
    assert!(
        !buffers(&tmux).contains(&code),
        "the code is gone: {:?}",
        buffers(&tmux)
    );
    assert!(!after.contains(&code), "{after}");
}

#[test]
fn something_copied_since_is_left_and_ctrl_c_clears_at_once() {
    let (_dir, vault, code) = hourly_vault();
    let tmux = in_tmux("keep", &vault, "code Hourly --copy --clear-after 600");
    tmux.wait_for(15, |screen| screen.contains("clearing it in 600 s"));
    assert_eq!(tmux.run(&["show-buffer"]), code);
    // The user copies something else, then stops the wait.
    tmux.run(&["set-buffer", "my own text"]);
    tmux.run(&["send-keys", "-t", "t", "C-c"]);
    let after = tmux.wait_for(5, |screen| screen.contains("ended: "));
    assert!(after.contains("ended: 0"), "{after}");
    assert_eq!(
        buffers(&tmux),
        ["my own text"],
        "only our code's buffer was removed"
    );
}

#[test]
fn without_a_terminal_or_a_clipboard_program_copy_is_refused_and_prints_nothing() {
    let (_dir, vault, _code) = hourly_vault();
    // setsid: no controlling terminal; no display variables: no clipboard program.
    let mut command = Command::new("setsid");
    command
        .arg("--wait")
        .arg(env!("CARGO_BIN_EXE_cityauth"))
        .args(["code", "Hourly", "--copy"])
        .env("CITYAUTH_VAULT", &vault)
        .env("CITYAUTH_PASSPHRASE", PASSPHRASE)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("TMUX")
        .stdin(std::process::Stdio::null());
    let out = output(command);
    out.assert_error("not_a_terminal", 2, "no clipboard");
    assert!(out.stdout.is_empty());
    bare(&["code", "--secret", RFC_SECRET, "--copy"]).assert_error("usage", 2, "--copy");
    bare(&["code", "Hourly", "--clear-after", "5"]).assert_error("usage", 2, "--copy");
}
