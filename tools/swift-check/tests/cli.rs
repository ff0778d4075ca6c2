//! The `swift-check` binary as CI runs it: real files on disk, real exit codes.

use std::path::Path;
use std::process::{Command, Output};

fn swift_check(args: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_swift-check"))
        .args(args)
        .output()
        .expect("the swift-check binary runs")
}

#[test]
fn folder_of_valid_files_passes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("Sources")).unwrap();
    std::fs::write(
        dir.path().join("Sources/Good.swift"),
        "public actor Store {\n    private var names: [String] = []\n    public func add(_ n: String) { names.append(n) }\n}\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("README.md"), "not swift {{{").unwrap();

    let out = swift_check(&[dir.path()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("1 Swift files parsed, 0 with syntax errors"),
        "{stdout}"
    );
}

#[test]
fn bad_file_fails_with_its_location() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Good.swift"), "let ok = true\n").unwrap();
    let bad = dir.path().join("Bad.swift");
    std::fs::write(&bad, "import SwiftUI\n\nstruct V: View {\n    var body: some View {\n        Text(\"x\"\n    }\n}\n").unwrap();

    let out = swift_check(&[dir.path()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let prefix = format!("{}:", bad.display());
    let reported: Vec<&str> = stdout.lines().filter(|l| l.starts_with(&prefix)).collect();
    assert!(!reported.is_empty(), "the bad file is named: {stdout}");
    assert!(
        reported.iter().all(|l| l.contains("syntax error")),
        "{stdout}"
    );
    assert!(
        !stdout.contains("Good.swift:"),
        "the good file has no errors: {stdout}"
    );
    assert!(
        stdout.contains("2 Swift files parsed, 1 with syntax errors"),
        "{stdout}"
    );
}

#[test]
fn build_folders_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join(".build/checkouts")).unwrap();
    std::fs::write(dir.path().join(".build/checkouts/Broken.swift"), "func (").unwrap();
    std::fs::write(dir.path().join("Main.swift"), "print(1)\n").unwrap();

    let out = swift_check(&[dir.path()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn no_swift_files_is_an_error_not_a_pass() {
    let dir = tempfile::tempdir().unwrap();
    let out = swift_check(&[dir.path()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no *.swift files"));
}

#[test]
fn unreadable_path_is_an_error() {
    let out = swift_check(&[Path::new("/nonexistent/cityauth-ios")]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_file_named_twice_is_checked_once_and_a_missing_one_fails() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("Generated.swift");
    std::fs::write(&file, "public func f() -> Int { 1 }\n").unwrap();

    let out = swift_check(&[dir.path(), &file]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("1 Swift files parsed"), "{stdout}");

    let missing = dir.path().join("NotGenerated.swift");
    let out = swift_check(&[dir.path(), &missing]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a named file that is absent must fail"
    );
}
