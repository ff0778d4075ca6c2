//! A work-around for one gap in the tree-sitter Swift grammar: it rejects a `#if` block that
//! holds only attributes for the declaration after its `#endif`, e.g.
//!
//! ```swift
//! #if swift(>=5.8)
//! @_documentation(visibility: private)
//! #endif
//! public struct FfiConverterUInt8 { ... }
//! ```
//!
//! which the Swift compiler accepts (conditional attributes, SE-0367) and uniffi's generated
//! Swift uses throughout. Such blocks are parsed as if the directives were not there: their
//! `#if` and `#endif` lines are blanked (line numbers are kept), so the attributes attach to
//! the declaration and are still checked. Every other `#if` is left to the grammar.

/// `source` with the `#if`/`#endif` lines of attribute-only conditional blocks blanked.
pub fn blank_conditional_attribute_blocks(source: &str) -> String {
    let lines: Vec<&str> = source.split_inclusive('\n').collect();
    let mut blanked = vec![false; lines.len()];
    let mut i = 0;
    while i < lines.len() {
        if is_directive(lines[i], "#if")
            && let Some(end) = attribute_only_block_end(&lines, i)
        {
            blanked[i] = true;
            blanked[end] = true;
            i = end;
        }
        i += 1;
    }
    lines
        .iter()
        .zip(blanked)
        .map(|(line, blank)| if blank { line_ending(line) } else { line })
        .collect()
}

/// The index of the `#endif` closing the block opened at `start`, if everything between is
/// attributes, comments or blank lines (and at least one attribute).
fn attribute_only_block_end(lines: &[&str], start: usize) -> Option<usize> {
    let mut attributes = 0;
    for (offset, line) in lines.iter().enumerate().skip(start + 1) {
        let text = line.trim();
        if is_directive(line, "#endif") {
            return (attributes > 0).then_some(offset);
        }
        if text.starts_with('@') {
            attributes += 1;
        } else if !(text.is_empty() || text.starts_with("//")) {
            return None;
        }
    }
    None
}

/// True if `line` is the directive `name` (`#if` does not match `#ifdef`-like words).
fn is_directive(line: &str, name: &str) -> bool {
    line.trim_start()
        .strip_prefix(name)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(char::is_whitespace))
}

/// The line break that ends `line` ("" on the last line), so line numbers stay put.
fn line_ending(line: &str) -> &str {
    if line.ends_with("\r\n") {
        "\r\n"
    } else if line.ends_with('\n') {
        "\n"
    } else {
        ""
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_only_block_loses_its_directives_only() {
        let source =
            "#if swift(>=5.8)\n@_documentation(visibility: private)\n#endif\nstruct A {}\n";
        assert_eq!(
            blank_conditional_attribute_blocks(source),
            "\n@_documentation(visibility: private)\n\nstruct A {}\n"
        );
    }

    #[test]
    fn blocks_with_code_or_else_are_left_alone() {
        let with_code = "#if DEBUG\n@inline(never)\nfunc f() {}\n#endif\n";
        assert_eq!(blank_conditional_attribute_blocks(with_code), with_code);
        let with_else = "#if os(iOS)\n@available(iOS 15, *)\n#else\n@available(macOS 12, *)\n#endif\nstruct A {}\n";
        assert_eq!(blank_conditional_attribute_blocks(with_else), with_else);
        let unterminated = "#if X\n@objc\n";
        assert_eq!(
            blank_conditional_attribute_blocks(unterminated),
            unterminated
        );
    }
}
