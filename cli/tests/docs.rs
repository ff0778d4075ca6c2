//! Issue 14, item 1: shell completions sourced by a real bash, the man page rendered by a
//! real groff, and clap's suggestion for a mistyped command.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::bare;

/// Sources `cityauth completions bash` in a fresh bash, then runs `script` there.
fn in_bash_with_completions(script: &str) -> String {
    let dir = tempfile::TempDir::new().unwrap();
    let file = dir.path().join("cityauth.bash");
    let completions = bare(&["completions", "bash"]);
    completions.assert_ok();
    std::fs::write(&file, &completions.stdout).unwrap();
    let out = Command::new("bash")
        .arg("--norc")
        .arg("--noprofile")
        .arg("-c")
        .arg(format!("source {} && {script}", file.display()))
        .output()
        .expect("run bash");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "bash failed: {stderr}");
    assert!(stderr.is_empty(), "bash complained: {stderr}");
    String::from_utf8(out.stdout).unwrap()
}

/// What the completion function offers for the words typed so far (the last one being
/// completed), as bash would call it on Tab.
fn complete(words: &[&str]) -> Vec<String> {
    let typed = words.join(" ");
    let current = words.last().copied().unwrap_or_default();
    let previous = words[words.len().saturating_sub(2)];
    let script = format!(
        "COMP_WORDS=({typed}); COMP_CWORD={}; COMP_LINE='{typed}'; COMP_POINT=${{#COMP_LINE}}; \
         _cityauth cityauth '{current}' '{previous}'; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        words.len() - 1
    );
    in_bash_with_completions(&script)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn bash_registers_the_completion_and_completes_commands_and_values() {
    let registered = in_bash_with_completions("complete -p cityauth");
    assert!(
        registered.contains("_cityauth") && registered.trim_end().ends_with(" cityauth"),
        "{registered}"
    );
    let offered = complete(&["cityauth", "co"]);
    for command in ["code", "codes", "completions"] {
        assert!(
            offered.iter().any(|w| w == command),
            "{command}: {offered:?}"
        );
    }
    assert!(!offered.iter().any(|w| w == "list"), "{offered:?}");
    let shells = complete(&["cityauth", "completions", ""]);
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        assert!(shells.iter().any(|w| w == shell), "{shell}: {shells:?}");
    }
    let flags = complete(&["cityauth", "codes", "--"]);
    assert!(flags.iter().any(|w| w == "--json"), "{flags:?}");
}

#[test]
fn every_shell_gets_a_script_naming_the_commands() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let run = bare(&["completions", shell]);
        run.assert_ok();
        for command in ["codes", "forget-enrollment", "completions"] {
            assert!(run.stdout.contains(command), "{shell} lacks {command}");
        }
    }
    bare(&["completions", "tcsh"]).assert_error("usage", 2, "tcsh");
}

/// Renders roff with groff's man macros to plain text, failing on any groff warning.
fn groff(roff: &str) -> String {
    let mut child = Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-rLL=100n"])
        .env("GROFF_NO_SGR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("groff is installed (apt-get install groff-base)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(roff.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && stderr.is_empty(), "groff: {stderr}");
    // Overstrike bold and underline (`X\bX`, `_\bX`) as plain letters.
    let text = String::from_utf8(out.stdout).unwrap();
    let mut plain = String::new();
    for c in text.chars() {
        if c == '\u{8}' {
            plain.pop();
        } else {
            plain.push(c);
        }
    }
    plain
}

#[test]
fn the_man_page_renders_with_its_sections_and_commands() {
    let run = bare(&["man"]);
    run.assert_ok();
    assert!(run.stdout.starts_with(".ie") || run.stdout.contains(".TH cityauth"));
    let page = groff(&run.stdout);
    for section in [
        "NAME",
        "SYNOPSIS",
        "DESCRIPTION",
        "OPTIONS",
        "SUBCOMMANDS",
        "VERSION",
    ] {
        assert!(
            page.lines().any(|line| line.trim() == section),
            "no {section} section:\n{page}"
        );
    }
    assert!(
        page.contains("cityauth - cityauth's desktop authenticator"),
        "{page}"
    );
    for text in [
        "--vault",
        "cityauth-completions(1)",
        "cityauth-forget-enrollment(1)",
    ] {
        assert!(page.contains(text), "{text} not in:\n{page}");
    }

    let sub = bare(&["man", "completions"]);
    sub.assert_ok();
    let page = groff(&sub.stdout);
    assert!(page.contains("cityauth-completions"), "{page}");
    assert!(page.contains("cityauth completions"), "usage line: {page}");
    assert!(page.contains("powershell"), "the possible values: {page}");
    bare(&["man", "cdoes"]).assert_error("usage", 2, "no command 'cdoes'");
}

#[test]
fn a_mistyped_command_or_flag_gets_a_suggestion_on_its_one_line() {
    bare(&["backpu"]).assert_error("usage", 2, "tip: a similar subcommand exists: 'backup'");
    bare(&["cdoes"]).assert_error(
        "usage",
        2,
        "tip: some similar subcommands exist: 'code', 'codes'",
    );
    bare(&["codes", "--jsn"]).assert_error("usage", 2, "tip: a similar argument exists: '--json'");
}
