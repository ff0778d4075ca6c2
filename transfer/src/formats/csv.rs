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
pub(crate) fn records(text: &str) -> Result<Vec<Record>, ImportError> {
    let mut records = Vec::new();
    let mut fields = Vec::new();
    let mut field = Zeroizing::new(String::new());
    let mut line = 1;
    let mut record_line = 1;
    let mut chars = text.chars().peekable();
    // Whether the current field began with a quote, and whether we are inside the quotes.
    let mut quoted = false;
    let mut in_quotes = false;
    // Whether any field of the record was quoted: `""` alone is a record, not a blank line.
    let mut record_quoted = false;
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                '\n' => {
                    line += 1;
                    field.push(c);
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() && !quoted => {
                quoted = true;
                in_quotes = true;
                record_quoted = true;
            }
            '"' => {
                return Err(ImportError::damaged(format!(
                    "CSV line {line}: a quote inside an unquoted field"
                )));
            }
            ',' => {
                push_field(&mut fields, std::mem::take(&mut field))?;
                quoted = false;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                push_field(&mut fields, std::mem::take(&mut field))?;
                quoted = false;
                let record = std::mem::take(&mut fields);
                push_record(&mut records, record_line, record, record_quoted)?;
                record_quoted = false;
                line += 1;
                record_line = line;
            }
            _ if quoted => {
                return Err(ImportError::damaged(format!(
                    "CSV line {line}: text after a closing quote"
                )));
            }
            _ => field.push(c),
        }
    }
    if in_quotes {
        return Err(ImportError::damaged(format!(
            "CSV line {record_line}: a quoted field is never closed"
        )));
    }
    push_field(&mut fields, field)?;
    push_record(&mut records, record_line, fields, record_quoted)?;
    Ok(records)
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
    fn refuses_broken_quoting() {
        for bad in ["\"open", "a,\"b\"c", "ab\"c"] {
            assert!(
                matches!(records(bad), Err(ImportError::Damaged { .. })),
                "{bad}"
            );
        }
    }
}
