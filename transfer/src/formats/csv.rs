//! A small RFC 4180 CSV reader: comma-separated fields, double-quoted fields that may hold
//! commas, line breaks and doubled quotes, LF or CRLF record ends.

use zeroize::Zeroizing;

use super::limits;
use crate::error::ImportError;

/// One record, with the line of the file it starts on (counted from 1). Fields are wiped on
/// drop: a password manager's export holds passwords.
pub(crate) struct Record {
    pub line: usize,
    pub fields: Vec<Zeroizing<String>>,
}

/// Splits `text` into records. Blank lines are skipped. A quoted field that is never closed
/// is [`ImportError::Damaged`], as is a quote in the middle of an unquoted field; a record of
/// more than [`limits::MAX_FIELDS`] fields, or more than [`limits::MAX_ENTRIES`] records
/// after the header, is [`ImportError::TooMany`], refused as the field or record past the
/// bound is met (sixteen million commas cost nothing).
///
/// Each field is found as a slice of `text` first and copied once into a buffer of its final
/// size: a field grown character by character would reallocate and leave copies behind.
pub(crate) fn records(text: &str) -> Result<Vec<Record>, ImportError> {
    let bytes = text.as_bytes();
    let mut records = Vec::new();
    let mut fields = Vec::new();
    let mut line = 1;
    let mut record_line = 1;
    // Where the current field starts, and the inside of its quotes once they are closed.
    let mut start = 0;
    let mut quoted: Option<(usize, usize)> = None;
    // Whether any field of the record was quoted: `""` alone is a record, not a blank line.
    let mut record_quoted = false;
    let mut i = 0;
    // Every byte looked at is ASCII, so each slice taken falls on a character boundary.
    while let Some(&byte) = bytes.get(i) {
        match byte {
            b'"' if i == start && quoted.is_none() => {
                let Some((end, breaks)) = closing_quote(bytes, i + 1) else {
                    return Err(ImportError::damaged(format!(
                        "CSV line {record_line}: a quoted field is never closed"
                    )));
                };
                line += breaks;
                quoted = Some((i + 1, end));
                record_quoted = true;
                i = end + 1;
                continue;
            }
            b'"' => {
                return Err(ImportError::damaged(format!(
                    "CSV line {line}: a quote inside an unquoted field"
                )));
            }
            b',' => {
                push_field(&mut fields, field(text, start, i, quoted.take()))?;
                start = i + 1;
            }
            b'\r' if bytes.get(i + 1) == Some(&b'\n') => {}
            b'\n' => {
                // A CRLF's CR is not part of an unquoted field.
                let end = if i > start && bytes[i - 1] == b'\r' {
                    i - 1
                } else {
                    i
                };
                push_field(&mut fields, field(text, start, end, quoted.take()))?;
                let record = std::mem::take(&mut fields);
                push_record(&mut records, record_line, record, record_quoted)?;
                record_quoted = false;
                line += 1;
                record_line = line;
                start = i + 1;
            }
            _ if quoted.is_some() => {
                return Err(ImportError::damaged(format!(
                    "CSV line {line}: text after a closing quote"
                )));
            }
            _ => {}
        }
        i += 1;
    }
    push_field(&mut fields, field(text, start, bytes.len(), quoted))?;
    push_record(&mut records, record_line, fields, record_quoted)?;
    Ok(records)
}

/// The closing quote of a quoted field whose text starts at `from` (a doubled `""` is a
/// quote inside it), with the line breaks it spans; `None` when it is never closed.
fn closing_quote(bytes: &[u8], from: usize) -> Option<(usize, usize)> {
    let mut breaks = 0;
    let mut i = from;
    while let Some(&byte) = bytes.get(i) {
        match byte {
            b'"' if bytes.get(i + 1) == Some(&b'"') => i += 1,
            b'"' => return Some((i, breaks)),
            b'\n' => breaks += 1,
            _ => {}
        }
        i += 1;
    }
    None
}

/// One field's text: `text[start..end]`, or the inside of its quotes with `""` made `"`,
/// in a buffer allocated once at a size it never outgrows.
fn field(
    text: &str,
    start: usize,
    end: usize,
    quoted: Option<(usize, usize)>,
) -> Zeroizing<String> {
    let raw = match quoted {
        Some((from, to)) => &text[from..to],
        None => &text[start..end],
    };
    let mut out = Zeroizing::new(String::with_capacity(raw.len()));
    let mut rest = raw;
    if quoted.is_some() {
        while let Some(at) = rest.find("\"\"") {
            out.push_str(&rest[..at + 1]);
            rest = &rest[at + 2..];
        }
    }
    out.push_str(rest);
    out
}

/// Adds a field to its record, unless the record is full.
fn push_field(
    fields: &mut Vec<Zeroizing<String>>,
    field: Zeroizing<String>,
) -> Result<(), ImportError> {
    if fields.len() == limits::MAX_FIELDS {
        return Err(ImportError::TooMany {
            what: "fields in a CSV record",
            limit: limits::MAX_FIELDS,
        });
    }
    fields.push(field);
    Ok(())
}

/// Keeps the record unless it is a blank line (one empty, unquoted field); past the header
/// and [`limits::MAX_ENTRIES`] rows, refuses the file.
fn push_record(
    records: &mut Vec<Record>,
    line: usize,
    fields: Vec<Zeroizing<String>>,
    quoted: bool,
) -> Result<(), ImportError> {
    let blank = !quoted && matches!(fields.as_slice(), [only] if only.is_empty());
    if blank {
        return Ok(());
    }
    if records.len() > limits::MAX_ENTRIES {
        return Err(ImportError::TooMany {
            what: "CSV records",
            limit: limits::MAX_ENTRIES,
        });
    }
    records.push(Record { line, fields });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(text: &str) -> Vec<(usize, Vec<String>)> {
        records(text)
            .unwrap()
            .into_iter()
            .map(|r| (r.line, r.fields.iter().map(|f| f.to_string()).collect()))
            .collect()
    }

    fn owned(line: usize, fields: &[&str]) -> (usize, Vec<String>) {
        (line, fields.iter().map(|f| f.to_string()).collect())
    }

    #[test]
    fn reads_quotes_commas_and_line_breaks() {
        let text = "a,b,c\r\n\"x, y\",\"he said \"\"hi\"\"\",\"two\nlines\"\n\n,,last\n";
        assert_eq!(
            fields(text),
            vec![
                owned(1, &["a", "b", "c"]),
                owned(2, &["x, y", "he said \"hi\"", "two\nlines"]),
                owned(5, &["", "", "last"]),
            ]
        );
    }

    #[test]
    fn an_empty_quoted_field_is_kept() {
        assert_eq!(fields("\"\"\n"), vec![owned(1, &[""])]);
        assert_eq!(fields("a,\"\""), vec![owned(1, &["a", ""])]);
    }

    #[test]
    fn fields_are_copied_once_at_their_final_size() {
        let long = "x".repeat(1000);
        let text = format!("{long},\"{long}\"\"{long}\"\r\n");
        let records = records(&text).unwrap();
        for field in &records[0].fields {
            assert!(field.len() >= 1000);
            assert!(field.capacity() <= field.len() + 1, "{}", field.capacity());
        }
    }

    #[test]
    fn refuses_broken_quoting() {
        for bad in ["\"open", "a,\"b\"c", "ab\"c"] {
            assert!(
                matches!(records(bad), Err(ImportError::Damaged { .. })),
                "{bad}"
            );
        }
    }
}
