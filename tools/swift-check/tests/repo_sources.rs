//! The gate itself: every Swift file written in this repository under `ios/` parses.
//! Generated bindings (gitignored) are checked too when they have been generated.

use std::path::Path;

#[test]
fn every_swift_file_under_ios_parses() {
    let ios = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ios");
    let files = swift_check::swift_files_under(&ios).expect("ios/ is readable");
    assert!(
        files.len() >= 10,
        "expected the package, the app and the tests under {}, found {} files",
        ios.display(),
        files.len()
    );
    let mut report = Vec::new();
    for file in &files {
        for error in swift_check::check_file(file).expect("each file is readable UTF-8") {
            report.push(format!("{}:{error}", file.display()));
        }
    }
    assert!(
        report.is_empty(),
        "Swift syntax errors:\n{}",
        report.join("\n")
    );
}
