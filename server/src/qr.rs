//! QR codes of enrollment links: for the terminal and as SVG for the portal.

use qrcode::QrCode;
use qrcode::render::{svg, unicode};

/// The QR code drawn with Unicode half blocks, or `None` if the text does not fit a code.
pub fn terminal(text: &str) -> Option<String> {
    let code = QrCode::new(text.as_bytes()).ok()?;
    Some(
        code.render::<unicode::Dense1x2>()
            .dark_color(unicode::Dense1x2::Light)
            .light_color(unicode::Dense1x2::Dark)
            .build(),
    )
}

/// The QR code as an SVG document, or `None` if the text does not fit a code.
pub fn svg(text: &str) -> Option<String> {
    let code = QrCode::new(text.as_bytes()).ok()?;
    Some(
        code.render::<svg::Color<'_>>()
            .min_dimensions(240, 240)
            .build(),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn links_fit() {
        let link = format!(
            "cityauth://enroll?v=1&server=https%3A%2F%2Fauth.city.example&code={}&fp={}",
            "A".repeat(43),
            "B".repeat(43)
        );
        assert!(super::terminal(&link).is_some_and(|t| t.lines().count() > 10));
        assert!(super::svg(&link).is_some_and(|s| s.contains("<svg")));
    }
}
