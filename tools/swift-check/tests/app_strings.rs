//! The apps' visible strings live in catalogues, whole in English and Spanish, checked without
//! an Android SDK or a Swift toolchain (issue 13):
//!
//! - `android/app/src/main/res/values{,-es}/strings.xml`: the same names, no empty value, the
//!   same format placeholders per name, nothing aapt2 would refuse or silently drop;
//! - `ios/App/CityAuthApp/{Localizable,InfoPlist}.xcstrings`: every key translated in `en` and
//!   `es` with the same placeholders;
//! - every error code in docs/error-codes.md has its sentence in the three catalogues, and the
//!   apps' mapping functions (`ErrorMessages.kt`, `Localized.swift`) name each one;
//! - the app sources show no literal: in Kotlin no literal where Compose or the system shows it
//!   and no English sentence in any literal; in Swift every literal SwiftUI shows is a key of
//!   the catalogue, and no English sentence is left elsewhere;
//! - nothing in the catalogues is unused.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

const ANDROID_EN: &str = "android/app/src/main/res/values/strings.xml";
const ANDROID_ES: &str = "android/app/src/main/res/values-es/strings.xml";
const ANDROID_SOURCES: &str = "android/app/src/main/kotlin";
const ANDROID_MANIFEST: &str = "android/app/src/main/AndroidManifest.xml";
const ANDROID_ERRORS: &str = "android/app/src/main/kotlin/city/cityauth/app/ErrorMessages.kt";
const IOS_CATALOGUE: &str = "ios/App/CityAuthApp/Localizable.xcstrings";
const IOS_INFO_CATALOGUE: &str = "ios/App/CityAuthApp/InfoPlist.xcstrings";
const IOS_SOURCES: &str = "ios/App/CityAuthApp";
const IOS_ERRORS: &str = "ios/App/CityAuthApp/Localized.swift";
const IOS_PROJECT: &str = "ios/App/project.yml";
const ERROR_CODES: &str = "docs/error-codes.md";
const APNS_PAYLOAD: &str = "server/src/push/apns.rs";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(relative: &str) -> String {
    let path = repo().join(relative);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

// ---------------------------------------------------------------------------------------------
// Android string resources

/// One `<string>` of a strings.xml.
#[derive(Debug)]
struct AndroidString {
    name: String,
    /// The text Android shows: XML entities and Android's escapes resolved.
    value: String,
    line: usize,
}

/// Reads a strings.xml that holds only `<string name="…">text</string>` elements (and
/// comments). Anything else (plurals, arrays, markup, other attributes) is an error: extend
/// this reader when the app needs it.
fn parse_strings_xml(xml: &str) -> Result<Vec<AndroidString>, String> {
    let mut strings = Vec::new();
    let mut rest = xml;
    let line_of = |rest: &str| xml[..xml.len() - rest.len()].matches('\n').count() + 1;
    let skip_past = |rest: &str, end: &str| -> Result<usize, String> {
        rest.find(end)
            .map(|at| at + end.len())
            .ok_or_else(|| format!("line {}: no closing {end}", line_of(rest)))
    };
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            return Err("no </resources>".to_owned());
        }
        if rest.starts_with("<?") {
            rest = &rest[skip_past(rest, "?>")?..];
        } else if rest.starts_with("<!--") {
            rest = &rest[skip_past(rest, "-->")?..];
        } else if rest.starts_with("<resources") {
            rest = &rest[skip_past(rest, ">")?..];
        } else if let Some(after) = rest.strip_prefix("</resources>") {
            if !after.trim().is_empty() {
                return Err(format!("line {}: text after </resources>", line_of(after)));
            }
            return Ok(strings);
        } else if rest.starts_with("<string ") {
            let line = line_of(rest);
            let open_end = skip_past(rest, ">")?;
            let attributes = rest["<string ".len()..open_end - 1].trim();
            let name = match attributes
                .strip_prefix("name=\"")
                .and_then(|a| a.strip_suffix('"'))
            {
                Some(name) if !name.contains('"') => name.to_owned(),
                _ => {
                    return Err(format!(
                        "line {line}: only a name attribute is understood here, found `{attributes}`"
                    ));
                }
            };
            let body_len = rest[open_end..]
                .find("</string>")
                .ok_or_else(|| format!("line {line}: <string name=\"{name}\"> is not closed"))?;
            let raw = &rest[open_end..open_end + body_len];
            if raw.contains('<') {
                return Err(format!(
                    "line {line}: `{name}` holds markup, which this check does not read"
                ));
            }
            let value = android_text(&xml_unescape(raw).map_err(|e| format!("line {line}: {e}"))?)
                .map_err(|e| format!("line {line}: `{name}`: {e}"))?;
            strings.push(AndroidString { name, value, line });
            rest = &rest[open_end + body_len + "</string>".len()..];
        } else {
            let what: String = rest.chars().take(30).collect();
            return Err(format!("line {}: unexpected `{what}`", line_of(rest)));
        }
    }
}

fn xml_unescape(raw: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = raw;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let end = rest[at..]
            .find(';')
            .ok_or_else(|| format!("a bare & in `{raw}`"))?;
        let entity = &rest[at + 1..at + end];
        let decoded = match entity {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(hex) = entity.strip_prefix("#x") {
                    u32::from_str_radix(hex, 16).ok()
                } else if let Some(dec) = entity.strip_prefix('#') {
                    dec.parse().ok()
                } else {
                    None
                };
                code.and_then(char::from_u32)
                    .ok_or_else(|| format!("unknown entity &{entity};"))?
            }
        };
        out.push(decoded);
        rest = &rest[at + end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Android's own escapes, as aapt2 reads them: `\'`, `\"`, `\\`, `\n`, `\t`, `\@`, `\?`,
/// `\uXXXX`. An unescaped apostrophe is a build error; an unescaped double quote is dropped
/// without a word; a leading `@` or `?` makes a reference. Each of those is refused here.
fn android_text(text: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    if matches!(text.chars().next(), Some('@' | '?')) {
        return Err("a leading @ or ? is read as a reference: escape it".to_owned());
    }
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('u') => {
                    let hex: String = chars.by_ref().take(4).collect();
                    let c = u32::from_str_radix(&hex, 16)
                        .ok()
                        .and_then(char::from_u32)
                        .ok_or_else(|| format!("a bad \\u{hex}"))?;
                    out.push(c);
                }
                Some(c @ ('\'' | '"' | '\\' | '@' | '?')) => out.push(c),
                other => return Err(format!("an unknown escape \\{other:?}")),
            },
            '\'' => return Err("an apostrophe must be written \\' (aapt2 refuses it)".to_owned()),
            '"' => return Err("a double quote must be written \\\" (aapt2 drops it)".to_owned()),
            c => out.push(c),
        }
    }
    Ok(out)
}

fn android_catalogue(relative: &str) -> BTreeMap<String, AndroidString> {
    let strings = parse_strings_xml(&read(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"));
    let mut by_name = BTreeMap::new();
    for string in strings {
        let line = string.line;
        if let Some(first) = by_name.insert(string.name.clone(), string) {
            panic!(
                "{relative}: `{}` is defined twice (lines {} and {line})",
                first.name, first.line
            );
        }
    }
    by_name
}

// ---------------------------------------------------------------------------------------------
// Format placeholders

/// The format placeholders of `text` as the platform reads them: Java's Formatter for Android
/// (`%1$s`, `%d`), Foundation's String(format:) for iOS (`%@`, `%lld`, `%1$@`). `%%` is a
/// percent sign, not a placeholder; a lone `%` is an error.
fn placeholders(text: &str, swift: bool) -> Result<Vec<String>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '%' {
            i += 1;
            continue;
        }
        let start = i;
        i += 1;
        if chars.get(i) == Some(&'%') {
            i += 1;
            continue;
        }
        // Argument index (n$), flags, width, precision.
        let digits_from = i;
        while chars.get(i).is_some_and(char::is_ascii_digit) {
            i += 1;
        }
        if chars.get(i) != Some(&'$') {
            i = digits_from;
        } else {
            i += 1;
        }
        let flags = if swift { "-+ #0'" } else { "-#+ 0,(" };
        while chars.get(i).is_some_and(|c| flags.contains(*c)) {
            i += 1;
        }
        while chars
            .get(i)
            .is_some_and(|c| c.is_ascii_digit() || *c == '.')
        {
            i += 1;
        }
        if swift {
            for modifier in ["ll", "hh", "l", "h", "q", "z", "t", "j", "L"] {
                let m: Vec<char> = modifier.chars().collect();
                if chars[i..].starts_with(&m) {
                    i += m.len();
                    break;
                }
            }
        }
        let conversions = if swift {
            "@dDiuUxXoOfFeEgGcCsSpaA"
        } else {
            "sSdoxXeEfgGaAcCbBhHn"
        };
        match chars.get(i) {
            Some(c) if conversions.contains(*c) => {
                i += 1;
                found.push(chars[start..i].iter().collect());
            }
            _ => {
                return Err(format!(
                    "a % that starts no placeholder in `{text}` (write %% for a percent sign)"
                ));
            }
        }
    }
    Ok(found)
}

/// Two texts take the same arguments: the same placeholders, in the same order unless every
/// one is numbered (`%2$s` may come first in a translation).
fn same_arguments(a: &[String], b: &[String]) -> bool {
    let numbered = |list: &[String]| list.iter().all(|p| p.contains('$'));
    if numbered(a) && numbered(b) {
        let sorted = |list: &[String]| {
            let mut list = list.to_vec();
            list.sort();
            list
        };
        sorted(a) == sorted(b)
    } else {
        a == b
    }
}

// ---------------------------------------------------------------------------------------------
// String Catalogs

/// Reads a String Catalog: every key's `en` and `es` values; panics on a key not translated
/// in both, a state other than "translated", an empty value, or a form this check does not
/// read (plural variations, substitutions).
fn string_catalog(relative: &str) -> BTreeMap<String, (String, String)> {
    let json: Value = serde_json::from_str(&read(relative))
        .unwrap_or_else(|e| panic!("{relative} is not JSON: {e}"));
    assert_eq!(
        json["sourceLanguage"], "en",
        "{relative}: sourceLanguage must be \"en\""
    );
    assert!(json["version"].is_string(), "{relative}: no version");
    let strings = json["strings"]
        .as_object()
        .unwrap_or_else(|| panic!("{relative}: no \"strings\" object"));
    let mut problems = Vec::new();
    let mut catalogue = BTreeMap::new();
    for (key, entry) in strings {
        let mut value_in = |language: &str| -> Option<String> {
            let localization = &entry["localizations"][language];
            if localization.is_null() {
                problems.push(format!("`{key}` has no \"{language}\""));
                return None;
            }
            if !localization["variations"].is_null() || !entry["substitutions"].is_null() {
                problems.push(format!(
                    "`{key}` ({language}) has variations or substitutions, which this check does not read"
                ));
                return None;
            }
            let unit = &localization["stringUnit"];
            if unit["state"] != "translated" {
                problems.push(format!(
                    "`{key}` ({language}) is in state {}, not \"translated\"",
                    unit["state"]
                ));
            }
            match unit["value"].as_str() {
                Some(value) if !value.trim().is_empty() => Some(value.to_owned()),
                _ => {
                    problems.push(format!("`{key}` ({language}) has no value"));
                    None
                }
            }
        };
        if let (Some(en), Some(es)) = (value_in("en"), value_in("es")) {
            catalogue.insert(key.clone(), (en, es));
        }
    }
    assert!(
        problems.is_empty(),
        "{relative}:\n  {}",
        problems.join("\n  ")
    );
    catalogue
}

// ---------------------------------------------------------------------------------------------
// docs/error-codes.md

/// The codes of the table in docs/error-codes.md (its first column).
/// The codes of the FFI's table: the apps' errors (the CLI's own section, after it, names
/// codes no app meets).
fn error_codes() -> Vec<String> {
    let text = read(ERROR_CODES);
    let ffi = text.split("\n## ").next().unwrap_or_default();
    let codes: Vec<String> = ffi
        .lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split_once('`'))
        .map(|(code, _)| code.to_owned())
        .collect();
    assert!(
        codes.len() >= 20,
        "{ERROR_CODES}: expected its table of codes, found {codes:?}"
    );
    codes
}

// ---------------------------------------------------------------------------------------------
// String literals in Kotlin and Swift

#[derive(Clone, Copy, PartialEq, Eq)]
enum Lang {
    Kotlin,
    Swift,
}

/// A string literal in a source file.
#[derive(Debug)]
struct Literal {
    /// Its text, escapes resolved, each interpolation (`\(…)`, `${…}`, `$name`) as `{}`.
    text: String,
    interpolated: bool,
    line: usize,
    /// The code before it at its level (comments left out, earlier literals as `""`), trimmed.
    before: String,
}

/// Finds the string literals of Kotlin or Swift source, skipping comments (nested block
/// comments too) and Kotlin character literals; literals inside interpolations are found too.
struct Lexer {
    chars: Vec<char>,
    i: usize,
    line: usize,
    lang: Lang,
    found: Vec<Literal>,
}

impl Lexer {
    fn literals(source: &str, lang: Lang) -> Vec<Literal> {
        let mut lexer = Lexer {
            chars: source.chars().collect(),
            i: 0,
            line: 1,
            lang,
            found: Vec::new(),
        };
        lexer.code(None);
        lexer.found
    }

    fn at(&self, text: &str) -> bool {
        let t: Vec<char> = text.chars().collect();
        self.chars[self.i..].starts_with(&t)
    }

    fn bump(&mut self) -> Option<char> {
        let c = *self.chars.get(self.i)?;
        self.i += 1;
        if c == '\n' {
            self.line += 1;
        }
        Some(c)
    }

    /// Code up to the bracket that closes an interpolation (`close`), or to the end.
    fn code(&mut self, close: Option<(char, char)>) {
        let mut before = String::new();
        let mut depth = 0usize;
        while self.i < self.chars.len() {
            if self.at("//") {
                while self.chars.get(self.i).is_some_and(|c| *c != '\n') {
                    self.i += 1;
                }
            } else if self.at("/*") {
                self.block_comment();
            } else if self.at("\"") || (self.lang == Lang::Swift && self.at("#\"")) {
                let mut literal = self.string();
                literal.before = before.trim_end().to_owned();
                self.found.push(literal);
                before.push_str("\"\"");
            } else if self.lang == Lang::Kotlin && self.at("'") {
                self.bump();
                while let Some(c) = self.bump() {
                    if c == '\\' {
                        self.bump();
                    } else if c == '\'' {
                        break;
                    }
                }
                before.push_str("''");
            } else {
                let c = self.bump().unwrap_or_default();
                if let Some((open, closing)) = close {
                    if c == open {
                        depth += 1;
                    } else if c == closing {
                        if depth == 0 {
                            return;
                        }
                        depth -= 1;
                    }
                }
                before.push(c);
            }
        }
    }

    fn block_comment(&mut self) {
        let mut depth = 0usize;
        while self.i < self.chars.len() {
            if self.at("/*") {
                depth += 1;
                self.i += 2;
            } else if self.at("*/") {
                self.i += 2;
                depth -= 1;
                if depth == 0 {
                    return;
                }
            } else {
                self.bump();
            }
        }
    }

    /// A literal from its opening quote: `"…"`, `"""…"""`, or Swift's raw `#"…"#`.
    fn string(&mut self) -> Literal {
        let line = self.line;
        let mut hashes = 0;
        while self.at("#") {
            hashes += 1;
            self.i += 1;
        }
        let quotes = if self.at("\"\"\"") { 3 } else { 1 };
        self.i += quotes;
        let end: String = "\"".repeat(quotes) + &"#".repeat(hashes);
        // In a raw string, only `\#(` interpolates and escapes are written `\#n`.
        let escape: String = "\\".to_owned() + &"#".repeat(hashes);
        let mut text = String::new();
        let mut interpolated = false;
        while self.i < self.chars.len() {
            if self.at(&end) {
                self.i += end.chars().count();
                break;
            }
            if self.at(&escape) {
                self.i += escape.chars().count();
                match self.bump() {
                    Some('(') if self.lang == Lang::Swift => {
                        self.code(Some(('(', ')')));
                        text.push_str("{}");
                        interpolated = true;
                    }
                    Some('n') => text.push('\n'),
                    Some('t') => text.push('\t'),
                    Some('\n') => {} // Swift's line continuation in a multi-line literal
                    Some(c) => text.push(c),
                    None => {}
                }
                continue;
            }
            if self.lang == Lang::Kotlin && self.at("$") {
                let next = self.chars.get(self.i + 1).copied();
                if next == Some('{') {
                    self.i += 2;
                    self.code(Some(('{', '}')));
                    text.push_str("{}");
                    interpolated = true;
                    continue;
                }
                if next.is_some_and(|c| c.is_alphabetic() || c == '_') {
                    self.i += 1;
                    while self
                        .chars
                        .get(self.i)
                        .is_some_and(|c| c.is_alphanumeric() || *c == '_')
                    {
                        self.i += 1;
                    }
                    text.push_str("{}");
                    interpolated = true;
                    continue;
                }
            }
            if let Some(c) = self.bump() {
                text.push(c);
            }
        }
        Literal {
            text,
            interpolated,
            line,
            before: String::new(),
        }
    }
}

/// The name called just before a literal that is the call's first argument: `Text(` gives
/// `Text`, `.navigationTitle(` gives `navigationTitle`; None when the literal is not one.
fn callee(before: &str) -> Option<&str> {
    let head = before.strip_suffix('(')?.trim_end();
    let start = head
        .rfind(|c: char| !(c.is_alphanumeric() || c == '_'))
        .map_or(0, |at| at + 1);
    Some(&head[start..]).filter(|name| !name.is_empty())
}

/// `before` ends with the argument label `label:` (or Kotlin's `name =`).
fn ends_with_label(before: &str, label: &str) -> bool {
    before.strip_suffix(label).is_some_and(|head| {
        !head
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

/// SwiftUI views and modifiers whose string-literal first argument is a LocalizedStringKey.
const SWIFTUI_KEYED: &[&str] = &[
    "Text",
    "Button",
    "Label",
    "Toggle",
    "Section",
    "TextField",
    "SecureField",
    "LabeledContent",
    "Picker",
    "Stepper",
    "DatePicker",
    "Link",
    "Menu",
    "ShareLink",
    "LocalizedStringKey",
    "navigationTitle",
    "alert",
    "confirmationDialog",
    "accessibilityLabel",
    "accessibilityHint",
    "accessibilityValue",
    "help",
];

/// Where a Swift literal is looked up in the catalogue: SwiftUI's keyed arguments and
/// `String(localized:)`.
fn swift_key_position(before: &str) -> bool {
    ends_with_label(before, "localized:")
        || callee(before).is_some_and(|c| SWIFTUI_KEYED.contains(&c))
}

/// Where Compose or Android shows a Kotlin literal as it is.
fn kotlin_visible_position(before: &str) -> bool {
    const SHOWN: &[&str] = &[
        "Text",
        "confirmUser",
        "setTitle",
        "setSubtitle",
        "setDescription",
        "setNegativeButtonText",
        "setContentTitle",
        "setContentText",
        "setTicker",
        "makeText",
    ];
    callee(before).is_some_and(|c| SHOWN.contains(&c))
        || [
            "contentDescription =",
            "contentDescription=",
            "label =",
            "text =",
        ]
        .iter()
        .any(|label| ends_with_label(before, label))
}

/// Literals that are details for logs, never shown: the key-wrapping failures' reasons (the
/// user sees the catalogue's `key_store` sentence).
fn log_detail_position(before: &str, lang: Lang) -> bool {
    match lang {
        Lang::Swift => ends_with_label(before, "reason:"),
        Lang::Kotlin => before.ends_with("KeyWrapException.Failed("),
    }
}

/// A file of screens (`ui/`, `Views/`): there even one capitalised word ("Request") is a label.
fn is_screen(path: &Path) -> bool {
    path.components()
        .any(|c| c.as_os_str() == "ui" || c.as_os_str() == "Views")
}

/// Starts with a capital letter: on a screen, a word for a person.
fn capitalised(text: &str) -> bool {
    text.chars().next().is_some_and(char::is_uppercase)
}

/// Looks like words for a person: a capitalised sentence ("Add account"), or three words or
/// more. Identifiers, paths, keys, formats and single words are not.
fn looks_like_prose(text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    let gaps = chars
        .windows(3)
        .filter(|w| w[0].is_alphabetic() && w[1] == ' ' && w[2].is_alphabetic())
        .count();
    let capitalised = chars.first().is_some_and(|c| c.is_uppercase());
    (capitalised && gaps >= 1) || gaps >= 2
}

fn files_under(relative: &str, extension: &str) -> Vec<PathBuf> {
    fn walk(dir: &Path, extension: &str, found: &mut Vec<PathBuf>) {
        let entries = fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("a readable folder entry").path();
            if path.is_dir() {
                walk(&path, extension, found);
            } else if path.extension().is_some_and(|e| e == extension) {
                found.push(path);
            }
        }
    }
    let mut found = Vec::new();
    walk(&repo().join(relative), extension, &mut found);
    found.sort();
    assert!(!found.is_empty(), "no .{extension} file under {relative}");
    found
}

fn shown(path: &Path) -> String {
    path.strip_prefix(repo())
        .unwrap_or(path)
        .display()
        .to_string()
}

// ---------------------------------------------------------------------------------------------
// The checks

#[test]
fn android_catalogues_have_the_same_names_values_and_placeholders() {
    let en = android_catalogue(ANDROID_EN);
    let es = android_catalogue(ANDROID_ES);
    let mut problems = Vec::new();
    for name in en.keys().filter(|name| !es.contains_key(*name)) {
        problems.push(format!(
            "`{name}` is in {ANDROID_EN} but not in {ANDROID_ES}"
        ));
    }
    for name in es.keys().filter(|name| !en.contains_key(*name)) {
        problems.push(format!(
            "`{name}` is in {ANDROID_ES} but not in {ANDROID_EN}"
        ));
    }
    for (file, catalogue) in [(ANDROID_EN, &en), (ANDROID_ES, &es)] {
        for string in catalogue.values() {
            if string.value.trim().is_empty() {
                problems.push(format!(
                    "{file}:{}: `{}` is empty",
                    string.line, string.name
                ));
            }
            match placeholders(&string.value, false) {
                Ok(found) if found.len() > 1 && !found.iter().all(|p| p.contains('$')) => {
                    problems.push(format!(
                        "{file}:{}: `{}` has several placeholders: number them (%1$s, %2$s)",
                        string.line, string.name
                    ));
                }
                Ok(_) => {}
                Err(e) => problems.push(format!("{file}:{}: `{}`: {e}", string.line, string.name)),
            }
        }
    }
    for (name, english) in &en {
        let Some(spanish) = es.get(name) else {
            continue;
        };
        if let (Ok(a), Ok(b)) = (
            placeholders(&english.value, false),
            placeholders(&spanish.value, false),
        ) && !same_arguments(&a, &b)
        {
            problems.push(format!(
                "`{name}`: English has placeholders {a:?}, Spanish {b:?}"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn ios_catalogues_translate_every_key_with_the_same_placeholders() {
    for relative in [IOS_CATALOGUE, IOS_INFO_CATALOGUE] {
        let mut problems = Vec::new();
        for (key, (en, es)) in string_catalog(relative) {
            match (placeholders(&en, true), placeholders(&es, true)) {
                (Ok(a), Ok(b)) if !same_arguments(&a, &b) => problems.push(format!(
                    "`{key}`: English has placeholders {a:?}, Spanish {b:?}"
                )),
                (Ok(_), Ok(_)) => {}
                (Err(e), _) | (_, Err(e)) => problems.push(format!("`{key}`: {e}")),
            }
        }
        assert!(problems.is_empty(), "{relative}:\n{}", problems.join("\n"));
    }
}

#[test]
fn every_error_code_has_a_sentence_in_every_catalogue_and_in_each_apps_mapping() {
    let android_en = android_catalogue(ANDROID_EN);
    let android_es = android_catalogue(ANDROID_ES);
    let ios = string_catalog(IOS_CATALOGUE);
    let kotlin = read(ANDROID_ERRORS);
    let swift = read(IOS_ERRORS);
    let mut problems = Vec::new();
    for code in error_codes() {
        let android = format!("error_{code}");
        for (file, catalogue) in [(ANDROID_EN, &android_en), (ANDROID_ES, &android_es)] {
            if !catalogue.contains_key(&android) {
                problems.push(format!("{file} has no `{android}`"));
            }
        }
        let key = format!("error.{code}");
        if !ios.contains_key(&key) {
            problems.push(format!("{IOS_CATALOGUE} has no `{key}`"));
        }
        let kotlin_arm = format!("\"{code}\" -> R.string.{android}");
        if !kotlin.contains(&kotlin_arm) {
            problems.push(format!("{ANDROID_ERRORS} has no `{kotlin_arm}`"));
        }
        let swift_arm = format!("case \"{code}\": return String(localized: \"{key}\")");
        if !swift.contains(&swift_arm) {
            problems.push(format!("{IOS_ERRORS} has no `{swift_arm}`"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn kotlin_sources_show_no_literal_and_use_every_string() {
    let en = android_catalogue(ANDROID_EN);
    let mut problems = Vec::new();
    let mut used = BTreeSet::new();
    for path in files_under(ANDROID_SOURCES, "kt") {
        let source = fs::read_to_string(&path).expect("a readable Kotlin file");
        for literal in Lexer::literals(&source, Lang::Kotlin) {
            let at = format!("{}:{}", shown(&path), literal.line);
            if kotlin_visible_position(&literal.before) {
                problems.push(format!(
                    "{at}: \"{}\" is shown as it is: use a string resource",
                    literal.text
                ));
            } else if (looks_like_prose(&literal.text)
                || (is_screen(&path) && capitalised(&literal.text)))
                && !log_detail_position(&literal.before, Lang::Kotlin)
            {
                problems.push(format!(
                    "{at}: \"{}\" reads like English for a person: use a string resource",
                    literal.text
                ));
            }
        }
        for (at, _) in source.match_indices("R.string.") {
            let name: String = source[at + "R.string.".len()..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !en.contains_key(&name) {
                problems.push(format!(
                    "{}: R.string.{name} is not in {ANDROID_EN}",
                    shown(&path)
                ));
            }
            used.insert(name);
        }
    }
    let manifest = read(ANDROID_MANIFEST);
    for name in en.keys() {
        if !used.contains(name) && !manifest.contains(&format!("@string/{name}\"")) {
            problems.push(format!(
                "`{name}` ({ANDROID_EN}) is used neither in the Kotlin sources nor in the manifest"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn swift_sources_show_only_catalogue_keys_and_use_every_key() {
    let catalogue = string_catalog(IOS_CATALOGUE);
    let files = swift_check::swift_files_under(&repo().join(IOS_SOURCES)).expect("ios/App reads");
    assert!(files.len() >= 10, "the app's Swift files, found {files:?}");
    let mut problems = Vec::new();
    let mut used = BTreeSet::new();
    for path in &files {
        let source = fs::read_to_string(path).expect("a readable Swift file");
        for literal in Lexer::literals(&source, Lang::Swift) {
            let at = format!("{}:{}", shown(path), literal.line);
            let is_key = catalogue.contains_key(&literal.text) && !literal.interpolated;
            if is_key {
                used.insert(literal.text.clone());
            }
            if swift_key_position(&literal.before) {
                if literal.interpolated {
                    problems.push(format!(
                        "{at}: \"{}\" interpolates where SwiftUI looks up a key: use a key and formatted(…)",
                        literal.text
                    ));
                } else if !is_key {
                    problems.push(format!(
                        "{at}: \"{}\" is looked up in the catalogue but is not a key of {IOS_CATALOGUE}",
                        literal.text
                    ));
                }
            } else if !is_key
                && (looks_like_prose(&literal.text)
                    || (is_screen(path)
                        && capitalised(&literal.text)
                        && !ends_with_label(&literal.before, "verbatim:")))
                && !log_detail_position(&literal.before, Lang::Swift)
            {
                problems.push(format!(
                    "{at}: \"{}\" reads like English for a person: use a key of {IOS_CATALOGUE}",
                    literal.text
                ));
            }
        }
    }
    // The push's text is looked up by iOS itself, from the keys the server's APNs payload
    // names (`loc-key`, `title-loc-key`).
    let apns = read(APNS_PAYLOAD);
    for key in catalogue.keys().filter(|key| !used.contains(*key)) {
        if apns.contains(&format!("\"{key}\"")) {
            continue;
        }
        problems.push(format!(
            "`{key}` ({IOS_CATALOGUE}) is used in no Swift file"
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn info_plist_catalogue_holds_exactly_the_prompts_of_project_yml() {
    let catalogue = string_catalog(IOS_INFO_CATALOGUE);
    let project = read(IOS_PROJECT);
    let mut in_project = BTreeMap::new();
    for line in project.lines() {
        let line = line.trim();
        if let Some((key, value)) = line.split_once(": ")
            && key.starts_with("NS")
            && key.ends_with("UsageDescription")
        {
            in_project.insert(key.to_owned(), value.trim_matches('"').to_owned());
        }
    }
    assert!(
        !in_project.is_empty(),
        "{IOS_PROJECT}: expected its usage descriptions"
    );
    let english: BTreeMap<String, String> = catalogue
        .into_iter()
        .map(|(key, (en, _))| (key, en))
        .collect();
    assert_eq!(
        english, in_project,
        "{IOS_INFO_CATALOGUE}'s keys and English must be {IOS_PROJECT}'s usage descriptions"
    );
}

// ---------------------------------------------------------------------------------------------
// The readers themselves

#[test]
fn the_lexer_finds_literals_where_they_are_and_skips_comments() {
    let kotlin = "/* Text(\"no\") /* nested */ */ val a = 'x' // Text(\"no\")\n\
                  Text(\"Hi ${user.name} and $x\", label = \"l\")";
    let found = Lexer::literals(kotlin, Lang::Kotlin);
    let texts: Vec<_> = found.iter().map(|l| l.text.as_str()).collect();
    assert_eq!(texts, ["Hi {} and {}", "l"]);
    assert_eq!(found[0].line, 2);
    assert!(found[0].interpolated);
    assert!(kotlin_visible_position(&found[0].before));
    assert!(ends_with_label(&found[1].before, "label ="));

    let swift = "Button(\"a.key\") { model.message = \"Hi \\(name ?? \"x\")\" }\n\
                 Label(\"k\", systemImage: \"gear\") // Text(\"no\")\n\
                 String(localized: \"b.key\")";
    let found = Lexer::literals(swift, Lang::Swift);
    let texts: Vec<_> = found.iter().map(|l| l.text.as_str()).collect();
    assert_eq!(texts, ["a.key", "x", "Hi {}", "k", "gear", "b.key"]);
    let keyed: Vec<_> = found
        .iter()
        .filter(|l| swift_key_position(&l.before))
        .map(|l| l.text.as_str())
        .collect();
    assert_eq!(keyed, ["a.key", "k", "b.key"]);
}

#[test]
fn placeholders_are_read_as_each_platform_reads_them() {
    assert_eq!(
        placeholders("%1$s (%2$s), 100%%", false).unwrap(),
        ["%1$s", "%2$s"]
    );
    assert_eq!(
        placeholders("%lld s, %1$@ %@", true).unwrap(),
        ["%lld", "%1$@", "%@"]
    );
    // "50% off" would be `% o` (space flag, octal) to Java's Formatter: % alone is an error.
    assert_eq!(placeholders("50% off", false).unwrap(), ["% o"]);
    assert!(placeholders("all 100%", false).is_err());
    assert!(placeholders("100%!", true).is_err());
    let list = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert!(same_arguments(
        &list(&["%1$s", "%2$d"]),
        &list(&["%2$d", "%1$s"])
    ));
    assert!(!same_arguments(&list(&["%s", "%d"]), &list(&["%d", "%s"])));
    assert!(!same_arguments(&list(&["%1$s"]), &list(&["%1$d"])));
}

#[test]
fn the_strings_xml_reader_refuses_what_aapt2_would() {
    let ok = "<?xml version=\"1.0\"?>\n<resources>\n<!-- c -->\n\
              <string name=\"a\">It wasn\\'t &amp; \\\"so\\\"</string>\n</resources>\n";
    let read = parse_strings_xml(ok).unwrap();
    assert_eq!(read[0].name, "a");
    assert_eq!(read[0].value, "It wasn't & \"so\"");
    assert_eq!(read[0].line, 4);
    for bad in [
        "<resources><string name=\"a\">It wasn't</string></resources>",
        "<resources><string name=\"a\">say \"hi\"</string></resources>",
        "<resources><string name=\"a\">@hi</string></resources>",
        "<resources><plurals name=\"a\"></plurals></resources>",
        "<resources><string name=\"a\" translatable=\"false\">x</string></resources>",
        "<resources><string name=\"a\">x</string>",
    ] {
        assert!(parse_strings_xml(bad).is_err(), "accepted {bad}");
    }
}
