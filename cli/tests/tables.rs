//! Issue 14, item 5: `list` and `codes` line up by display width, with account names in CJK,
//! fullwidth Latin, emoji and combining marks: every column starts at the same terminal
//! column on every line.

mod common;

use common::{RFC_SECRET, run, vault_dir};

/// Terminal cells taken by `text`, by the ranges the names below use (East Asian Wide and
/// Fullwidth, emoji: 2; combining marks: 0; the rest: 1), independent of the code under test.
fn cells(text: &str) -> usize {
    text.chars()
        .map(|c| match u32::from(c) {
            0x0300..=0x036F => 0,
            0x1100..=0x115F
            | 0x2E80..=0xA4CF
            | 0xAC00..=0xD7A3
            | 0xF900..=0xFAFF
            | 0xFF00..=0xFF60
            | 0xFFE0..=0xFFE6
            | 0x1F300..=0x1F64F
            | 0x1F680..=0x1F6FF
            | 0x1F900..=0x1F9FF => 2,
            _ => 1,
        })
        .sum()
}

/// The terminal column at which `needle` starts in `line`.
fn column_of(line: &str, needle: &str) -> usize {
    let at = line
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in {line:?}"));
    cells(&line[..at])
}

fn percent(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

const ACCOUNTS: [(&str, &str); 6] = [
    ("Plain", "alice"),
    ("銀行", "東京都庁"),
    // Combining marks with no precomposed form, so that the vault's NFC keeps them.
    ("Marks", "q\u{307}ui\u{330}z x\u{301}"),
    ("Keys", "🔑 key 🚀"),
    ("Ｗｉｄｅ", "Ａｌｉｃｅ"),
    ("한국", "mixed 日本 ok"),
];

#[test]
fn list_and_codes_columns_start_at_the_same_terminal_column() {
    let (_dir, vault) = vault_dir();
    run(&vault, &["init"]).assert_ok();
    let links: Vec<String> = ACCOUNTS
        .iter()
        .map(|(issuer, name)| {
            format!(
                "otpauth://totp/{}:{}?secret={RFC_SECRET}&issuer={}",
                percent(issuer),
                percent(name),
                percent(issuer)
            )
        })
        .collect();
    let mut args = vec!["add"];
    args.extend(links.iter().map(String::as_str));
    run(&vault, &args).assert_ok();

    let list = run(&vault, &["list"]).assert_ok().stdout.clone();
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), ACCOUNTS.len() + 1, "{list}");
    let name_column = column_of(lines[0], "NAME");
    let type_column = column_of(lines[0], "TYPE");
    for (line, (issuer, name)) in lines[1..].iter().zip(ACCOUNTS) {
        assert_eq!(
            column_of(line, issuer),
            column_of(lines[0], "ISSUER"),
            "{list}"
        );
        assert_eq!(column_of(line, name), name_column, "{list}");
        assert_eq!(column_of(line, " totp") + 1, type_column, "{list}");
    }

    let codes = run(&vault, &["codes"]).assert_ok().stdout.clone();
    let lines: Vec<&str> = codes.lines().collect();
    assert_eq!(lines.len(), ACCOUNTS.len() + 1, "{codes}");
    let code_column = column_of(lines[0], "CODE");
    let remaining_column = column_of(lines[0], "REMAINING");
    for (line, (_, name)) in lines[1..].iter().zip(ACCOUNTS) {
        assert_eq!(
            column_of(line, name),
            column_of(lines[0], "NAME"),
            "{codes}"
        );
        // The code: the first run of six digits after the name.
        let after = &line[line.find(name).unwrap() + name.len()..];
        let code = after.trim_start().split(' ').next().unwrap();
        assert_eq!(code.len(), 6, "{line}");
        assert_eq!(column_of(line, code), code_column, "{codes}");
        let remaining = after.trim_start()[6..].trim_start();
        assert_eq!(column_of(line, remaining), remaining_column, "{codes}");
        assert!(!line.ends_with(' '), "no trailing spaces: {line:?}");
    }
}

/// A link's name may hold anything: terminal escapes, a newline, a right-to-left override.
/// `list`, `codes` and the import report show them escaped, never raw, and no name adds a line.
#[test]
fn names_from_links_and_files_cannot_drive_the_terminal() {
    let (dir, vault) = vault_dir();
    run(&vault, &["init"]).assert_ok();
    let issuer = "Evil\u{1b}[2J\u{1b}]0;pwned\u{7}";
    let name = "bob\nID  ISSUER  forged\u{9b}\u{202e}gnp";
    let link = format!(
        "otpauth://totp/{}:{}?secret={RFC_SECRET}&issuer={}",
        percent(issuer),
        percent(name),
        percent(issuer)
    );
    let file = dir.path().join("links.txt");
    std::fs::write(&file, format!("{link}\n")).unwrap();
    let import = run(&vault, &["import", file.to_str().unwrap(), "--yes"]);
    let import = import.assert_ok();
    for out in [
        import.stdout.clone(),
        run(&vault, &["list"]).assert_ok().stdout.clone(),
        run(&vault, &["codes"]).assert_ok().stdout.clone(),
    ] {
        let shown: String = out.chars().filter(|c| *c != '\n').collect();
        assert!(
            !shown.chars().any(char::is_control),
            "raw control in {out:?}"
        );
        assert!(!out.contains('\u{202e}'), "raw override in {out:?}");
        assert!(
            out.contains("\\u{1b}[2J"),
            "the escape is shown escaped: {out}"
        );
    }
    let list = run(&vault, &["list"]).assert_ok().stdout.clone();
    assert_eq!(list.lines().count(), 2, "one header, one account: {list}");
}
