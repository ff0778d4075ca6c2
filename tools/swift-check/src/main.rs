//! `swift-check PATH...`: parses every `*.swift` file under the given files or folders and
//! prints `file:line:col: syntax error: ...` for each fault.
//!
//! Exit status: 0 when every file parses, 1 when any has a syntax error, 2 when a path
//! cannot be read or no Swift file was found (an empty check must not pass silently).

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let roots: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    if roots.is_empty() {
        eprintln!("usage: swift-check PATH...   (files or folders holding *.swift)");
        return ExitCode::from(2);
    }
    match run(&roots) {
        Ok(0) => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(message) => {
            eprintln!("swift-check: {message}");
            ExitCode::from(2)
        }
    }
}

/// Checks every file and returns how many had syntax errors.
fn run(roots: &[PathBuf]) -> Result<usize, String> {
    let mut files = Vec::new();
    for root in roots {
        files.extend(swift_check::swift_files_under(root).map_err(|e| e.to_string())?);
    }
    // A file named on its own and found again under a folder is checked once.
    files.sort();
    files.dedup();
    if files.is_empty() {
        return Err("no *.swift files under the given paths".to_string());
    }
    let mut failed = 0;
    for file in &files {
        let errors = swift_check::check_file(file).map_err(|e| e.to_string())?;
        for error in &errors {
            println!("{}:{error}", file.display());
        }
        if !errors.is_empty() {
            failed += 1;
        }
    }
    println!(
        "swift-check: {} Swift files parsed, {failed} with syntax errors",
        files.len()
    );
    Ok(failed)
}
