//! `codes --watch`: every code with a countdown, redrawn in place once a second (cursor up,
//! clear line), until Ctrl-C, which puts the cursor back. HOTP accounts are listed without
//! a code: drawing one would move their counter. When stdout is not a terminal, the table
//! is printed once (as `codes` does) and the command ends: a pipe or a log gets no escape
//! sequences and no endless stream of secrets.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cityauth_core::{AccountCode, AccountInfo, OtpKind};
use zeroize::Zeroizing;

use crate::commands::{finish, unlock};
use crate::error::{CliError, Code, print};
use crate::output::{code_table, table};
use crate::params;

/// Hides the cursor while drawing.
const HIDE_CURSOR: &str = "\x1b[?25l";
/// Shows it again.
const SHOW_CURSOR: &str = "\x1b[?25h";
/// Cells of the countdown bar.
const BAR_CELLS: u64 = 10;

/// Shows the cursor again when the watch ends, however it ends (Ctrl-C, a closed terminal,
/// an error, a panic).
struct CursorGuard;

impl Drop for CursorGuard {
    fn drop(&mut self) {
        let mut out = std::io::stdout().lock();
        let _ = out
            .write_all(SHOW_CURSOR.as_bytes())
            .and_then(|()| out.flush());
    }
}

/// `codes --watch`.
pub fn watch(path: &Path) -> Result<(), CliError> {
    let vault = unlock(path)?;
    let accounts = vault.accounts()?;
    if !std::io::stdout().is_terminal() {
        let codes = vault.codes_now(params::now()?)?;
        print(&code_table(&accounts, &codes))?;
        return finish(&vault);
    }
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ] {
        signal_hook::flag::register(signal, Arc::clone(&stop)).map_err(|error| {
            CliError::new(Code::Io, format!("cannot watch for Ctrl-C: {error}"))
        })?;
    }
    let guard = CursorGuard;
    let mut drawn = 0;
    while !stop.load(Ordering::Relaxed) {
        let now = params::now()?;
        let codes = vault.codes_now(now)?;
        let screen = render(&accounts, &codes);
        if draw(&screen, drawn).is_err() {
            break; // the terminal went away
        }
        drawn = screen.lines().count();
        sleep_to_next_second(&stop);
    }
    drop(guard);
    finish(&vault)
}

/// The whole screen: a title, then one row per account with its code and countdown.
fn render(accounts: &[AccountInfo], codes: &[AccountCode]) -> Zeroizing<String> {
    let mut rows = vec![
        ["ID", "ISSUER", "NAME", "CODE", "REMAINING"]
            .map(str::to_owned)
            .to_vec(),
    ];
    for info in accounts {
        let (code, remaining) = match codes.iter().find(|c| c.id == info.id) {
            Some(code) => (
                code.code.as_str().to_owned(),
                countdown(code.remaining, code.period),
            ),
            None if info.params.kind() == OtpKind::Hotp => (
                "-".to_owned(),
                format!("HOTP: `cityauth code {}` draws one", info.id),
            ),
            None => continue,
        };
        rows.push(vec![
            info.id.to_string(),
            info.issuer.clone(),
            info.name.clone(),
            code,
            remaining,
        ]);
    }
    let mut screen = Zeroizing::new("cityauth codes (Ctrl-C to quit)\n".to_owned());
    screen.push_str(&Zeroizing::new(table(&rows)));
    // The cells held codes too.
    for row in &mut rows {
        for cell in row.iter_mut() {
            zeroize::Zeroize::zeroize(cell);
        }
    }
    screen
}

/// `12s ██████░░░░`: seconds left and a bar that empties over the period.
fn countdown(remaining: u64, period: u32) -> String {
    let period = u64::from(period.max(1));
    let full = (remaining * BAR_CELLS).div_ceil(period).min(BAR_CELLS);
    let bar: String = (0..BAR_CELLS)
        .map(|cell| if cell < full { '█' } else { '░' })
        .collect();
    format!("{remaining:>2}s {bar}")
}

/// Writes `screen` over the `drawn` lines drawn last time: cursor up, then each line cleared
/// and rewritten.
fn draw(screen: &str, drawn: usize) -> std::io::Result<()> {
    let mut out = Zeroizing::new(String::from(HIDE_CURSOR));
    if drawn > 0 {
        out.push_str(&format!("\x1b[{drawn}A"));
    }
    for line in screen.lines() {
        out.push_str("\r\x1b[2K");
        out.push_str(line);
        out.push('\n');
    }
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(out.as_bytes())?;
    stdout.flush()
}

/// Sleeps until the clock's next whole second, waking every 50 ms to see whether Ctrl-C came.
fn sleep_to_next_second(stop: &AtomicBool) {
    let into = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.subsec_millis())
        .unwrap_or(0);
    let mut left = Duration::from_millis(u64::from(1000 - into.min(999)));
    let slice = Duration::from_millis(50);
    while !left.is_zero() && !stop.load(Ordering::Relaxed) {
        let nap = left.min(slice);
        std::thread::sleep(nap);
        left -= nap;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_empties_with_the_period() {
        assert_eq!(countdown(30, 30), "30s ██████████");
        assert_eq!(countdown(15, 30), "15s █████░░░░░");
        assert_eq!(countdown(1, 30), " 1s █░░░░░░░░░");
    }
}
