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

use cityauth_core::{AccountCode, AccountInfo};
use zeroize::Zeroizing;

use crate::commands::{finish, unlock};
use crate::error::{CliError, Code, print};
use crate::output::{code_rows, code_table, table};
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
    let stop = stop_flag()?;
    let guard = CursorGuard;
    let mut drawn = 0;
    let mut closed = false;
    while !stop.load(Ordering::Relaxed) {
        let now = params::now()?;
        let codes = vault.codes_now(now)?;
        let screen = fit(&render(&accounts, &codes), terminal_size());
        if draw(&screen, drawn).is_err() {
            // The terminal went away: status 1, as for any closed stdout (docs/error-codes.md).
            closed = true;
            break;
        }
        drawn = screen.lines().count();
        sleep_to_next_second(&stop);
    }
    drop(guard);
    finish(&vault)?;
    if closed {
        return Err(CliError::Reported(Code::Io));
    }
    Ok(())
}

/// A flag raised by Ctrl-C (SIGINT), SIGTERM and, on Unix, SIGHUP, instead of the process
/// ending there: the caller puts things back first (the cursor, the clipboard).
pub fn stop_flag() -> Result<Arc<AtomicBool>, CliError> {
    let stop = Arc::new(AtomicBool::new(false));
    #[cfg(unix)]
    let signals = [
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ];
    #[cfg(not(unix))]
    let signals = [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM];
    for signal in signals {
        signal_hook::flag::register(signal, Arc::clone(&stop)).map_err(|error| {
            CliError::new(Code::Io, format!("cannot watch for Ctrl-C: {error}"))
        })?;
    }
    Ok(stop)
}

/// The terminal's columns and rows, when stdout is a terminal that tells.
#[cfg(unix)]
fn terminal_size() -> Option<(usize, usize)> {
    let size = rustix::termios::tcgetwinsize(std::io::stdout()).ok()?;
    (size.ws_col > 0 && size.ws_row > 0)
        .then(|| (usize::from(size.ws_col), usize::from(size.ws_row)))
}

#[cfg(not(unix))]
fn terminal_size() -> Option<(usize, usize)> {
    None
}

/// The screen cut to the terminal: a line that wrapped, or more lines than fit, would make
/// the next redraw's cursor-up land in the wrong place and the table creep down the screen.
fn fit(screen: &str, size: Option<(usize, usize)>) -> Zeroizing<String> {
    let Some((columns, rows)) = size else {
        return Zeroizing::new(screen.to_owned());
    };
    let lines: Vec<&str> = screen.lines().collect();
    // One column and one row spare: no pending wrap at the edge, no scroll at the bottom.
    let (width, room) = (
        columns.saturating_sub(1).max(1),
        rows.saturating_sub(1).max(1),
    );
    let (shown, hidden) = if lines.len() > room {
        (room.saturating_sub(1), lines.len() - room.saturating_sub(1))
    } else {
        (lines.len(), 0)
    };
    let mut out = Zeroizing::new(String::new());
    for line in &lines[..shown] {
        out.extend(line.chars().take(width));
        out.push('\n');
    }
    if hidden > 0 {
        let more = format!("({hidden} more lines: make the window taller)");
        out.extend(more.chars().take(width));
        out.push('\n');
    }
    out
}

/// The whole screen: a title, then one row per account with its code and countdown.
fn render(accounts: &[AccountInfo], codes: &[AccountCode]) -> Zeroizing<String> {
    let mut rows = code_rows(
        accounts,
        codes,
        |code| countdown(code.remaining, code.period),
        |info| format!("HOTP: `cityauth code {}` draws one", info.id),
    );
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
    fn the_screen_is_cut_to_the_terminal() {
        let screen = "title\nID  ISSUER  NAME\n1   GitHub  alice\n2   Bank    bob\n";
        assert_eq!(*fit(screen, None), *screen);
        assert_eq!(*fit(screen, Some((80, 24))), *screen);
        assert_eq!(
            *fit(screen, Some((9, 24))),
            "title\nID  ISSU\n1   GitH\n2   Bank\n"
        );
        let cut = fit(screen, Some((80, 4)));
        assert_eq!(
            *cut,
            "title\nID  ISSUER  NAME\n(2 more lines: make the window taller)\n"
        );
    }

    #[test]
    fn the_bar_empties_with_the_period() {
        assert_eq!(countdown(30, 30), "30s ██████████");
        assert_eq!(countdown(15, 30), "15s █████░░░░░");
        assert_eq!(countdown(1, 30), " 1s █░░░░░░░░░");
    }
}
