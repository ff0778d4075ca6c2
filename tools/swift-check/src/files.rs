//! Finding the Swift files under a folder, in a stable order.

use crate::CheckError;
use std::path::{Path, PathBuf};

/// Folders that hold build output or tool state, never sources to check.
const SKIPPED_DIRS: &[&str] = &[".build", ".swiftpm", "DerivedData", ".git"];

/// Every `*.swift` file under `root` (or `root` itself if it is one), sorted.
///
/// Skips SwiftPM and Xcode build folders; fails if a folder cannot be read.
pub fn swift_files_under(root: &Path) -> Result<Vec<PathBuf>, CheckError> {
    let mut found = Vec::new();
    if root.is_file() {
        if is_swift(root) {
            found.push(root.to_path_buf());
        }
        return Ok(found);
    }
    walk(root, &mut found)?;
    found.sort();
    Ok(found)
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> Result<(), CheckError> {
    let read_error = |source| CheckError::Read {
        path: dir.to_path_buf(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(read_error)? {
        let entry = entry.map_err(read_error)?;
        let path = entry.path();
        let kind = entry.file_type().map_err(read_error)?;
        if kind.is_dir() {
            let skipped = entry
                .file_name()
                .to_str()
                .is_some_and(|name| SKIPPED_DIRS.contains(&name));
            if !skipped {
                walk(&path, found)?;
            }
        } else if kind.is_file() && is_swift(&path) {
            found.push(path);
        }
    }
    Ok(())
}

fn is_swift(path: &Path) -> bool {
    path.extension().is_some_and(|ext| ext == "swift")
}
