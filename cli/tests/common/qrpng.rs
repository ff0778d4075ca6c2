//! PNG images of QR codes, drawn by the test itself (the `qrcode` and `png` crates), for
//! `add --qr` and `import --qr`.

#![allow(dead_code)] // each test file uses some of these

use std::path::Path;

use qrcode::{Color, QrCode};

/// Pixels per module, and modules of white border (the quiet zone the standard asks for).
const SCALE: usize = 4;
const QUIET: usize = 4;

/// Writes `text` as a QR code to a greyscale PNG at `path`.
pub fn write_qr(path: &Path, text: &str) {
    let code = QrCode::new(text.as_bytes()).expect("text fits a QR code");
    let modules = code.width();
    let colors = code.to_colors();
    let side = (modules + 2 * QUIET) * SCALE;
    let mut pixels = vec![255u8; side * side];
    for y in 0..modules {
        for x in 0..modules {
            if colors[y * modules + x] == Color::Dark {
                for dy in 0..SCALE {
                    let row = (y + QUIET) * SCALE + dy;
                    let start = row * side + (x + QUIET) * SCALE;
                    pixels[start..start + SCALE].fill(0);
                }
            }
        }
    }
    write_png(path, side, side, png::ColorType::Grayscale, &pixels);
}

/// Writes raw 8-bit pixels of `color` as a PNG.
pub fn write_png(path: &Path, width: usize, height: usize, color: png::ColorType, pixels: &[u8]) {
    let file = std::fs::File::create(path).expect("create the PNG");
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), width as u32, height as u32);
    encoder.set_color(color);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().expect("PNG header");
    writer.write_image_data(pixels).expect("PNG data");
}
