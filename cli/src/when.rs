//! Times on the command line: Unix seconds (`1234567890`) or an RFC 3339 date and time
//! (`2009-02-13T23:31:30Z`, `2009-02-14T00:31:30+01:00`), as `--time` takes them.

/// Parses `--time`: Unix seconds, or RFC 3339 with `T` (or a space) between date and time,
/// optional fractional seconds (dropped), and `Z` or a `±HH:MM` offset. Times before 1970
/// are refused.
pub fn parse_time(text: &str) -> Result<u64, String> {
    let text = text.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text
            .parse()
            .map_err(|_| "Unix seconds out of range".to_owned());
    }
    rfc3339(text).ok_or_else(|| {
        "must be Unix seconds or an RFC 3339 time such as 2009-02-13T23:31:30Z".to_owned()
    })
}

/// `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)` as Unix seconds; `None` when malformed, out of
/// range, or before 1970.
fn rfc3339(text: &str) -> Option<u64> {
    let bytes = text.as_bytes();
    if bytes.len() < 20 {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let punctuation = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    if punctuation.iter().any(|&(at, c)| bytes[at] != c) || !matches!(bytes[10], b'T' | b't' | b' ')
    {
        return None;
    }
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    // RFC 3339 allows a leap second (60); it counts as the last second of its minute.
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = &text[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        rest = &fraction[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let zone = rest.get(1..)?;
            if zone.len() != 5 || zone.as_bytes()[2] != b':' {
                return None;
            }
            let hours: i64 = digits_only(zone.get(0..2)?)?;
            let minutes: i64 = digits_only(zone.get(3..5)?)?;
            if hours > 23 || minutes > 59 {
                return None;
            }
            sign * (hours * 3600 + minutes * 60)
        }
    };
    let seconds =
        days_since_epoch(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second.min(59)
            - offset;
    u64::try_from(seconds).ok()
}

fn digits_only(text: &str) -> Option<i64> {
    text.bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| text.parse().ok())?
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to the given proleptic Gregorian date (negative before it). Years
/// are 0..=9999 here, so counting whole years and months is cheap enough.
fn days_since_epoch(year: i64, month: i64, day: i64) -> i64 {
    // Leap days before `year` since year 0, by the Gregorian rule.
    let leaps_before = |y: i64| {
        let y = y - 1;
        y / 4 - y / 100 + y / 400
    };
    let years = (year - 1970) * 365 + leaps_before(year) - leaps_before(1970);
    let months: i64 = (1..month).map(|m| days_in_month(year, m)).sum();
    years + months + day - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_seconds_and_rfc3339_agree() {
        let cases = [
            ("59", 59),
            ("1970-01-01T00:00:59Z", 59),
            ("2009-02-13T23:31:30Z", 1_234_567_890),
            ("2009-02-13 23:31:30z", 1_234_567_890),
            ("2009-02-14T00:31:30+01:00", 1_234_567_890),
            ("2009-02-13T18:31:30.999-05:00", 1_234_567_890),
            ("2005-03-18T01:58:29Z", 1_111_111_109),
            ("2033-05-18T03:33:20Z", 2_000_000_000),
            ("2603-10-11T11:33:20Z", 20_000_000_000),
            ("2000-02-29T00:00:00Z", 951_782_400),
            ("2016-12-31T23:59:60Z", 1_483_228_799),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_time(text), Ok(expected), "{text}");
        }
    }

    #[test]
    fn malformed_and_pre_1970_times_are_refused() {
        for text in [
            "",
            "-5",
            "2009-02-13",
            "2009-02-13T23:31:30",
            "2009-02-13T23:31:30+0100",
            "2009-02-30T00:00:00Z",
            "2001-02-29T00:00:00Z",
            "2009-13-01T00:00:00Z",
            "2009-02-13T24:00:00Z",
            "2009-02-13T23:31:30.Z",
            "1969-12-31T23:59:59Z",
            "1970-01-01T00:30:00+01:00",
            "2009-02-13X23:31:30Z",
            "２009-02-13T23:31:30Z",
        ] {
            assert!(parse_time(text).is_err(), "{text:?} accepted");
        }
    }
}
