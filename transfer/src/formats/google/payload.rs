//! Google Authenticator's `MigrationPayload` message, decoded into raw fields and encoded
//! from accounts. Field numbers from the app's migration.proto:
//!
//! ```text
//! MigrationPayload { repeated OtpParameters otp_parameters = 1; int32 version = 2;
//!                    int32 batch_size = 3; int32 batch_index = 4; int32 batch_id = 5; }
//! OtpParameters { bytes secret = 1; string name = 2; string issuer = 3;
//!                 Algorithm algorithm = 4;   // 0 unspecified, 1 SHA1, 2 SHA256, 3 SHA512, 4 MD5
//!                 DigitCount digits = 5;     // 0 unspecified, 1 six, 2 eight
//!                 OtpType type = 6;          // 0 unspecified, 1 HOTP, 2 TOTP
//!                 int64 counter = 7; }
//! ```

use zeroize::Zeroizing;

use super::proto::{ProtoError, Reader, Value, Writer};

/// The payload's version field as the app writes it.
pub const PAYLOAD_VERSION: u64 = 1;

/// One account's fields as the payload carries them, not yet checked.
pub struct RawOtp<'a> {
    pub secret: &'a [u8],
    pub name: &'a [u8],
    pub issuer: &'a [u8],
    pub algorithm: u64,
    pub digits: u64,
    pub kind: u64,
    pub counter: u64,
}

/// A payload's place in its export and how many accounts it holds, read without decoding
/// them, so that a forged export is refused before its accounts cost anything.
pub struct Header {
    pub otps: usize,
    pub batch_size: u64,
    pub batch_index: u64,
    pub batch_id: u64,
}

/// Reads a `MigrationPayload`'s header fields and counts its accounts; unknown fields are
/// skipped, and the accounts' own fields are not read.
pub fn header(message: &[u8]) -> Result<Header, ProtoError> {
    walk(message, |_| Ok(()))
}

/// Decodes a `MigrationPayload`'s accounts (its place in the export is [`header`]'s);
/// unknown fields are skipped.
pub fn decode_otps(message: &[u8]) -> Result<Vec<RawOtp<'_>>, ProtoError> {
    let mut otps = Vec::new();
    walk(message, |otp| {
        otps.push(decode_otp(otp)?);
        Ok(())
    })?;
    Ok(otps)
}

/// Reads the payload's fields once: the header's into the returned [`Header`], each
/// account's bytes handed to `on_otp`.
fn walk<'a>(
    message: &'a [u8],
    mut on_otp: impl FnMut(&'a [u8]) -> Result<(), ProtoError>,
) -> Result<Header, ProtoError> {
    let mut header = Header {
        otps: 0,
        batch_size: 0,
        batch_index: 0,
        batch_id: 0,
    };
    let mut reader = Reader::new(message);
    while let Some(field) = reader.next_field() {
        match field? {
            (1, Value::Bytes(otp)) => {
                header.otps += 1;
                on_otp(otp)?;
            }
            (3, Value::Varint(n)) => header.batch_size = n,
            (4, Value::Varint(n)) => header.batch_index = n,
            (5, Value::Varint(n)) => header.batch_id = n,
            _ => {}
        }
    }
    Ok(header)
}

fn decode_otp(message: &[u8]) -> Result<RawOtp<'_>, ProtoError> {
    let mut otp = RawOtp {
        secret: &[],
        name: &[],
        issuer: &[],
        algorithm: 0,
        digits: 0,
        kind: 0,
        counter: 0,
    };
    let mut reader = Reader::new(message);
    while let Some(field) = reader.next_field() {
        match field? {
            (1, Value::Bytes(bytes)) => otp.secret = bytes,
            (2, Value::Bytes(bytes)) => otp.name = bytes,
            (3, Value::Bytes(bytes)) => otp.issuer = bytes,
            (4, Value::Varint(n)) => otp.algorithm = n,
            (5, Value::Varint(n)) => otp.digits = n,
            (6, Value::Varint(n)) => otp.kind = n,
            (7, Value::Varint(n)) => otp.counter = n,
            _ => {}
        }
    }
    Ok(otp)
}

/// One account's fields, already mapped to the payload's numbering.
pub struct OtpFields<'a> {
    pub secret: &'a [u8],
    pub name: &'a str,
    pub issuer: &'a str,
    pub algorithm: u64,
    pub digits: u64,
    pub kind: u64,
    pub counter: u64,
}

/// Where a payload sits in its export.
#[derive(Debug, Clone, Copy)]
pub struct BatchInfo {
    pub size: u64,
    pub index: u64,
    pub id: u64,
}

/// Encodes a payload holding `otps` (the bytes hold secrets, hence zeroizing).
pub fn encode(otps: &[OtpFields<'_>], batch: BatchInfo) -> Zeroizing<Vec<u8>> {
    // Reserved up front so that no reallocation leaves a copy of a secret behind.
    let sized = |f: &OtpFields<'_>| f.secret.len() + f.name.len() + f.issuer.len() + 64;
    let mut out = Zeroizing::new(Vec::with_capacity(
        otps.iter().map(sized).sum::<usize>() + 64,
    ));
    let mut otp = Zeroizing::new(Vec::with_capacity(
        otps.iter().map(sized).max().unwrap_or(0),
    ));
    for fields in otps {
        otp.clear();
        encode_otp(&mut otp, fields);
        Writer::new(&mut out).bytes_field(1, &otp);
    }
    let mut writer = Writer::new(&mut out);
    writer.varint_field(2, PAYLOAD_VERSION);
    writer.varint_field(3, batch.size);
    writer.varint_field(4, batch.index);
    writer.varint_field(5, batch.id);
    out
}

fn encode_otp(out: &mut Vec<u8>, fields: &OtpFields<'_>) {
    let mut writer = Writer::new(out);
    writer.bytes_field(1, fields.secret);
    writer.bytes_field(2, fields.name.as_bytes());
    if !fields.issuer.is_empty() {
        writer.bytes_field(3, fields.issuer.as_bytes());
    }
    writer.varint_field(4, fields.algorithm);
    writer.varint_field(5, fields.digits);
    writer.varint_field(6, fields.kind);
    if fields.counter != 0 {
        writer.varint_field(7, fields.counter);
    }
}
