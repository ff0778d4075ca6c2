//! QR codes drawn on the terminal (`export --google`): two modules a character cell with
//! Unicode half blocks (a cell is about twice as tall as wide, so the modules come out
//! square), black on white whatever the terminal's colours, with the standard's 4-module
//! quiet zone. Error correction L keeps a full 1,200-character batch near 120 columns.

use qrcode::{Color, EcLevel, QrCode};
use zeroize::Zeroizing;

use crate::error::CliError;

/// Modules of white around the code.
const QUIET: usize = 4;
/// Black foreground on a bright white background, and back to the terminal's own colours.
const BLACK_ON_WHITE: &str = "\x1b[30;107m";
const RESET: &str = "\x1b[0m";

/// `text` as a QR code, one line of half blocks for every two rows of modules.
pub fn render(text: &str) -> Result<Zeroizing<String>, CliError> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::L)
        .map_err(|error| CliError::invalid(format!("cannot draw the QR code: {error}")))?;
    let width = code.width();
    let colors = code.to_colors();
    let size = width + 2 * QUIET;
    let dark = |x: usize, y: usize| {
        (QUIET..QUIET + width).contains(&x)
            && (QUIET..QUIET + width).contains(&y)
            && colors[(y - QUIET) * width + (x - QUIET)] == Color::Dark
    };
    let mut out = Zeroizing::new(String::with_capacity((size * 3 + 16) * size.div_ceil(2)));
    for y in (0..size).step_by(2) {
        out.push_str(BLACK_ON_WHITE);
        for x in 0..size {
            out.push(match (dark(x, y), dark(x, y + 1)) {
                (true, true) => '█',
                (true, false) => '▀',
                (false, true) => '▄',
                (false, false) => ' ',
            });
        }
        out.push_str(RESET);
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_is_as_wide_as_the_code_and_its_quiet_zone() {
        let drawn = render("otpauth-migration://offline?data=CgA%3D").unwrap();
        let lines: Vec<&str> = drawn.lines().collect();
        // Version 3 at level L: 29 modules, 37 with the quiet zone, 19 lines of two rows.
        assert_eq!(lines.len(), 19);
        for line in &lines {
            let cells = line
                .strip_prefix(BLACK_ON_WHITE)
                .and_then(|l| l.strip_suffix(RESET))
                .unwrap();
            assert_eq!(cells.chars().count(), 37);
        }
        assert!(
            lines[0].chars().all(|c| !"█▀▄".contains(c)),
            "quiet zone on top"
        );
    }
}
