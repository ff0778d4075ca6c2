//! `codes --watch` in a real tmux: the codes are `cityauth code`'s, the countdown runs, HOTP
//! counters stay, Ctrl-C ends it with the cursor shown again; without a terminal it prints once.

mod common;
#[path = "common/tmux.rs"]
mod tmux;

use std::time::Duration;

use common::*;
use tmux::{Tmux, cityauth_line};

/// The row of `issuer` on a watch screen: (code, seconds remaining).
fn row(screen: &str, issuer: &str) -> (String, u64) {
    let line = screen
        .lines()
        .find(|line| line.split_whitespace().nth(1) == Some(issuer))
        .unwrap_or_else(|| panic!("no {issuer} row in\n{screen}"));
    let cells: Vec<&str> = line.split_whitespace().collect();
    let remaining = cells[4]
        .strip_suffix('s')
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no countdown in {line:?}"));
    (cells[3].to_owned(), remaining)
}

#[test]
fn the_watch_redraws_in_place_counts_down_and_gives_the_cursor_back() {
    let (_dir, vault) = vault_dir();
    run(&vault, &["init"]).assert_ok();
    // A one-hour period: its code cannot change between the captures (bar an hour boundary).
    let hourly = format!("otpauth://totp/Hourly:alice?secret={RFC_SECRET}&period=3600");
    let github = "otpauth://totp/GitHub:bob?secret=JBSWY3DPEHPK3PXP";
    let bank = format!("otpauth://hotp/Bank:me?secret={RFC_SECRET}&counter=0");
    run(&vault, &["add", &hourly, github, &bank]).assert_ok();

    // The shell says how the watch ended and keeps the pane alive (tmux resets the cursor
    // of a dead pane), so that the cursor can be seen after Ctrl-C.
    let line = cityauth_line(&vault, PASSPHRASE, "codes --watch");
    let tmux = Tmux::start("watch", &format!("{line}; echo \"ended: $?\"; sleep 30"));
    let first = tmux.wait_for(15, |screen| screen.contains("Hourly"));
    assert_eq!(
        tmux.show("#{cursor_flag}"),
        "0",
        "the cursor is hidden while drawing"
    );
    std::thread::sleep(Duration::from_millis(2500));
    let second = tmux.screen();

    let (code1, left1) = row(&first, "Hourly");
    let (code2, left2) = row(&second, "Hourly");
    assert_eq!(code1, code2);
    assert!(
        left2 + 2 <= left1 && left1 <= left2 + 3,
        "the countdown went from {left1}s to {left2}s in 2.5 s"
    );
    // Redrawn in place: one title and one header, however many times it was drawn.
    assert_eq!(second.matches("ISSUER").count(), 1, "{second}");
    assert_eq!(second.matches("cityauth codes").count(), 1, "{second}");

    let fresh = run(&vault, &["code", "Hourly"]).assert_ok().stdout.clone();
    assert_eq!(
        fresh.trim(),
        code2,
        "the watch shows `cityauth code`'s code"
    );
    let screen = tmux.screen();
    let (github_code, _) = row(&screen, "GitHub");
    let now = run(&vault, &["code", "GitHub"]).assert_ok().stdout.clone();
    let again = tmux.screen();
    // A 30 s code may turn over between the capture and `code`: then both moved on.
    assert!(
        now.trim() == github_code || now.trim() == row(&again, "GitHub").0,
        "{now} vs\n{screen}"
    );
    let bank_line = screen
        .lines()
        .find(|l| l.contains("Bank"))
        .expect("a Bank row");
    assert!(
        bank_line.contains(" - ") && bank_line.contains("HOTP"),
        "{bank_line}"
    );

    tmux.run(&["send-keys", "-t", "t", "C-c"]);
    let after = tmux.wait_for(5, |screen| screen.contains("ended: "));
    assert!(after.contains("ended: 0"), "{after}");
    assert_eq!(tmux.show("#{pane_dead}"), "0", "the shell is still there");
    assert_eq!(
        tmux.show("#{cursor_flag}"),
        "1",
        "the cursor is shown again"
    );
    // The last screen stays above the shell's line, drawn once.
    assert_eq!(after.matches("ISSUER").count(), 1, "{after}");

    // Watching drew no HOTP code: the counter is where it was.
    let listed = run(&vault, &["list", "--json"]).assert_ok().json();
    assert_eq!(field(find(&listed, "Bank"), "counter"), 0);
}

#[test]
fn a_small_terminal_gets_a_cut_screen_that_stays_in_place() {
    let (_dir, vault) = vault_dir();
    run(&vault, &["init"]).assert_ok();
    let links: Vec<String> = (0..8)
        .map(|n| format!("otpauth://totp/A%20long%20issuer%20name%20{n}:someone{n}%40city.example?secret={RFC_SECRET}&period=3600"))
        .collect();
    let mut add = vec!["add"];
    add.extend(links.iter().map(String::as_str));
    run(&vault, &add).assert_ok();
    let line = cityauth_line(&vault, PASSPHRASE, "codes --watch");
    let tmux = Tmux::start_sized("small", &line, 40, 6);
    tmux.wait_for(15, |screen| screen.contains("someone"));
    std::thread::sleep(Duration::from_millis(2200));
    let screen = tmux.screen();
    let lines: Vec<&str> = screen.lines().collect();
    assert!(lines.iter().all(|l| l.chars().count() < 40), "{screen}");
    assert_eq!(
        lines[0], "cityauth codes (Ctrl-C to quit)",
        "still at the top:\n{screen}"
    );
    assert_eq!(screen.matches("ID  ISSUER").count(), 1, "{screen}");
    assert!(lines[4].starts_with("(6 more lines"), "{screen}");
}

#[test]
fn without_a_terminal_the_watch_prints_the_codes_once() {
    let (_dir, vault) = vault_dir();
    run(&vault, &["init"]).assert_ok();
    let hourly = format!("otpauth://totp/Hourly:alice?secret={RFC_SECRET}&period=3600");
    run(&vault, &["add", &hourly]).assert_ok();
    let out = run(&vault, &["codes", "--watch"]);
    out.assert_ok();
    assert!(
        !out.stdout.contains('\x1b'),
        "no escape sequences: {:?}",
        out.stdout
    );
    assert_eq!(out.stdout.lines().count(), 2, "{}", out.stdout);
    let code = run(&vault, &["code", "Hourly"]).assert_ok().stdout.clone();
    assert!(out.stdout.contains(code.trim()), "{}", out.stdout);
}
