//! Syntax check for Swift sources without a Swift toolchain: parse with tree-sitter's Swift
//! grammar and report every ERROR and MISSING node with its file, line and column.
//!
//! The grammar is a real Swift parser (the one editors use), not a compiler: it catches
//! syntax errors (unbalanced braces, missing tokens, stray text), not type errors.

mod directives;
mod files;

pub use files::swift_files_under;

use std::fmt;
use std::path::{Path, PathBuf};

/// What is wrong at one place in a Swift file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// Text the grammar could not fit anywhere (an ERROR node); holds its first line.
    Unexpected(String),
    /// A token the grammar needed and did not find (a MISSING node); holds its kind.
    Missing(String),
}

/// One syntax error: 1-based line and column (column counted in characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// 1-based line of the start of the faulty node.
    pub line: usize,
    /// 1-based column, in Unicode scalar values, of the start of the faulty node.
    pub column: usize,
    /// What the parser found there.
    pub problem: Problem,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.problem {
            Problem::Unexpected(text) => write!(
                f,
                "{}:{}: syntax error: unexpected `{text}`",
                self.line, self.column
            ),
            Problem::Missing(kind) => write!(
                f,
                "{}:{}: syntax error: missing `{kind}`",
                self.line, self.column
            ),
        }
    }
}

/// Why a file could not be checked at all.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The file or folder could not be read.
    #[error("{path}: cannot read: {source}")]
    Read {
        /// The path that failed.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The file is not UTF-8, so it is not Swift source.
    #[error("{path}: not UTF-8 text")]
    NotUtf8 {
        /// The path that failed.
        path: PathBuf,
    },
    /// tree-sitter refused the grammar (a version mismatch between the two crates).
    #[error("the Swift grammar cannot be loaded: {0}")]
    Grammar(String),
    /// The parser returned no tree (it only does so when cancelled).
    #[error("the parser returned no tree")]
    NoTree,
}

/// Longest excerpt of unexpected text quoted in a report, in characters.
const EXCERPT_CHARS: usize = 60;

/// Parses `source` as Swift and returns its syntax errors in source order (empty if none).
///
/// Attribute-only `#if` blocks are read as plain attributes first (see `directives`).
/// Fails only if the grammar cannot be loaded or the parser yields no tree.
pub fn check_source(source: &str) -> Result<Vec<SyntaxError>, CheckError> {
    let source = &directives::blank_conditional_attribute_blocks(source);
    let mut parser = tree_sitter::Parser::new();
    parser
        .set_language(&tree_sitter_swift::LANGUAGE.into())
        .map_err(|e| CheckError::Grammar(e.to_string()))?;
    let tree = parser.parse(source, None).ok_or(CheckError::NoTree)?;
    let mut errors = Vec::new();
    collect_errors(tree.root_node(), source, &mut errors);
    Ok(errors)
}

/// Reads and checks one file; the errors carry no path (the caller prints it).
pub fn check_file(path: &Path) -> Result<Vec<SyntaxError>, CheckError> {
    let bytes = std::fs::read(path).map_err(|source| CheckError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let text = String::from_utf8(bytes).map_err(|_| CheckError::NotUtf8 {
        path: path.to_path_buf(),
    })?;
    check_source(&text)
}

/// Walks the subtrees that contain errors; an ERROR node is reported once, not its insides.
fn collect_errors(node: tree_sitter::Node<'_>, source: &str, out: &mut Vec<SyntaxError>) {
    if node.is_error() {
        let text = source.get(node.byte_range()).unwrap_or_default();
        out.push(located(node, source, Problem::Unexpected(excerpt(text))));
        return;
    }
    if node.is_missing() {
        out.push(located(
            node,
            source,
            Problem::Missing(node.kind().to_string()),
        ));
        return;
    }
    if !node.has_error() {
        return;
    }
    let mut cursor = node.walk();
    for child in node.children(&mut cursor) {
        collect_errors(child, source, out);
    }
}

/// Attaches a 1-based line and character column to a problem found at `node`.
fn located(node: tree_sitter::Node<'_>, source: &str, problem: Problem) -> SyntaxError {
    let start = node.start_position();
    let line_start = node.start_byte().saturating_sub(start.column);
    let column = source
        .get(line_start..node.start_byte())
        .map_or(start.column, |prefix| prefix.chars().count());
    SyntaxError {
        line: start.row + 1,
        column: column + 1,
        problem,
    }
}

/// The first line of `text`, cut to a readable length.
fn excerpt(text: &str) -> String {
    let first_line = text.trim().lines().next().unwrap_or_default();
    let mut cut: String = first_line.chars().take(EXCERPT_CHARS).collect();
    if first_line.chars().count() > EXCERPT_CHARS {
        cut.push('…');
    }
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_swift_has_no_errors() {
        let source = "import Foundation\n\
                      struct Code { let digits: String; let remaining: UInt32 }\n\
                      func show(_ codes: [Code]) async throws -> String {\n\
                          codes.map { \"\\($0.digits) (\\($0.remaining)s)\" }.joined(separator: \", \")\n\
                      }\n";
        assert_eq!(check_source(source).unwrap(), vec![]);
    }

    #[test]
    fn stray_token_is_reported_at_its_line() {
        let source = "let a = 1\nlet b = = 2\nlet c = 3\n";
        let errors = check_source(source).unwrap();
        assert!(!errors.is_empty(), "a doubled `=` must not parse");
        assert_eq!(errors[0].line, 2, "{errors:?}");
    }

    #[test]
    fn unclosed_brace_is_reported() {
        let source = "func f() {\n    let x = 1\n";
        let errors = check_source(source).unwrap();
        assert!(!errors.is_empty(), "an unclosed body must not parse");
    }

    #[test]
    fn conditional_attributes_as_uniffi_writes_them_parse() {
        let source = "extension P {\n#if swift(>=5.8)\n    @_documentation(visibility: private)\n#endif\n    public static func lift(_ v: Int) -> Int { v }\n}\n";
        assert_eq!(check_source(source).unwrap(), vec![]);
    }

    #[test]
    fn error_after_conditional_attribute_keeps_its_line() {
        let source = "#if swift(>=5.8)\n@_documentation(visibility: private)\n#endif\nstruct A {\n    let x = = 1\n}\n";
        let errors = check_source(source).unwrap();
        assert_eq!(errors.first().map(|e| e.line), Some(5), "{errors:?}");
    }

    #[test]
    fn column_counts_characters_not_bytes() {
        // "é" is two bytes in UTF-8; the stray `)` is the 11th character of line 1.
        let source = "let é = 1 )\n";
        let errors = check_source(source).unwrap();
        let first = errors.first().expect("the stray `)` must be reported");
        assert_eq!((first.line, first.column), (1, 11), "{errors:?}");
    }
}
