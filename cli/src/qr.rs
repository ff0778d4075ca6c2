//! QR codes in PNG images (`add --qr`, `import --qr`): the image is read by `png`, made
//! greyscale here, and searched and decoded by `rqrr`. What a QR code holds may be a secret:
//! it is kept in wiped buffers and never quoted in a message.

use std::io::Cursor;
use std::path::Path;

use zeroize::Zeroizing;

use crate::error::{CliError, Code};

/// The largest image file read (a phone's screenshot is a few MB).
const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;
/// The largest decoded image, in bytes of pixels, so that a tiny file that claims to be
/// huge cannot take the memory.
const MAX_PIXEL_BYTES: usize = 256 * 1024 * 1024;

/// What one QR code holds, as text.
pub type Content = Zeroizing<String>;

/// The text of every QR code in the PNG image at `path`, in the order found: at least one,
/// or an error (`file_not_found`, `unknown_format` for what is not a PNG, `no_qr_code`).
pub fn read_codes(path: &Path) -> Result<Vec<Content>, CliError> {
    let shown = path.display();
    let bytes = read_file(path)?;
    let (width, height, grey) = greyscale(&bytes).ok_or_else(|| {
        CliError::new(
            Code::UnknownFormat,
            format!("{shown} is not a PNG image that cityauth can read"),
        )
    })?;
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| grey[y * width + x]);
    let grids = image.detect_grids();
    if grids.is_empty() {
        return Err(CliError::new(
            Code::NoQr,
            format!("no QR code found in {shown}"),
        ));
    }
    let mut found = Vec::with_capacity(grids.len());
    for grid in grids {
        let unreadable = || {
            CliError::new(
                Code::NoQr,
                format!("a QR code in {shown} cannot be read (damaged, or not text)"),
            )
        };
        let mut bytes = Zeroizing::new(Vec::new());
        grid.decode_to(&mut *bytes).map_err(|_| unreadable())?;
        let text = std::str::from_utf8(&bytes).map_err(|_| unreadable())?;
        found.push(Zeroizing::new(text.to_owned()));
    }
    Ok(found)
}

/// What an otpauth QR code's text starts with (any case, as links are parsed).
pub fn is_scheme(text: &str, scheme: &str) -> bool {
    text.trim_start()
        .get(..scheme.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(scheme))
}

fn read_file(path: &Path) -> Result<Zeroizing<Vec<u8>>, CliError> {
    let shown = path.display();
    let failed = |error: std::io::Error| {
        let code = match error.kind() {
            std::io::ErrorKind::NotFound => Code::FileNotFound,
            _ => Code::Io,
        };
        CliError::new(code, format!("cannot read {shown}: {error}"))
    };
    let size = std::fs::metadata(path).map_err(failed)?.len();
    if size > MAX_FILE_BYTES {
        return Err(CliError::invalid(format!(
            "{shown} is larger than {} MB; crop the QR code",
            MAX_FILE_BYTES / (1024 * 1024)
        )));
    }
    std::fs::read(path).map(Zeroizing::new).map_err(failed)
}

/// The PNG's pixels as one grey byte each (alpha laid over white), with its width and
/// height; `None` when it is no PNG or cannot be decoded.
fn greyscale(bytes: &[u8]) -> Option<(usize, usize, Zeroizing<Vec<u8>>)> {
    let limits = png::Limits {
        bytes: MAX_PIXEL_BYTES,
    };
    let mut decoder = png::Decoder::new_with_limits(Cursor::new(bytes), limits);
    // Palettes to RGB, low bit depths to 8 bits, 16 bits to 8.
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().ok()?;
    let mut pixels = Zeroizing::new(vec![0; reader.output_buffer_size()?]);
    let frame = reader.next_frame(&mut pixels).ok()?;
    let (width, height) = (frame.width as usize, frame.height as usize);
    let channels = match frame.color_type {
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        png::ColorType::Indexed => return None, // expanded above
    };
    if frame.bit_depth != png::BitDepth::Eight || width == 0 || height == 0 {
        return None;
    }
    let mut grey = Zeroizing::new(Vec::with_capacity(width * height));
    for y in 0..height {
        let row = pixels.get(y * frame.line_size..)?;
        for x in 0..width {
            let pixel = row.get(x * channels..(x + 1) * channels)?;
            grey.push(luma(pixel));
        }
    }
    Some((width, height, grey))
}

/// One pixel's brightness (Rec. 601 weights), transparent parts counting as white paper.
fn luma(pixel: &[u8]) -> u8 {
    let (value, alpha) = match *pixel {
        [g] => (u32::from(g), 255),
        [g, a] => (u32::from(g), u32::from(a)),
        [r, g, b] => (rgb(r, g, b), 255),
        [r, g, b, a] => (rgb(r, g, b), u32::from(a)),
        _ => (255, 255),
    };
    ((value * alpha + 255 * (255 - alpha)) / 255) as u8
}

fn rgb(r: u8, g: u8, b: u8) -> u32 {
    (299 * u32::from(r) + 587 * u32::from(g) + 114 * u32::from(b)) / 1000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transparent_pixels_are_white_and_colour_is_weighed() {
        assert_eq!(luma(&[0, 0]), 255);
        assert_eq!(luma(&[0, 255]), 0);
        assert_eq!(luma(&[255, 255, 255]), 255);
        assert_eq!(luma(&[0, 0, 0, 255]), 0);
        assert!(luma(&[0, 255, 0]) > luma(&[0, 0, 255]));
    }

    #[test]
    fn schemes_are_matched_in_any_case() {
        assert!(is_scheme("OTPAUTH://totp/x", "otpauth://"));
        assert!(!is_scheme("otpauth-migration://offline", "otpauth://"));
        assert!(!is_scheme("ot", "otpauth://"));
        assert!(!is_scheme("é", "otpauth://"));
    }
}
