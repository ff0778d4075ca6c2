//! The few pieces of the protobuf wire format that migration payloads use: varints and
//! length-delimited fields, read with bounds on every length, and unknown fields of every
//! wire type skipped. (Wire format: protobuf.dev/programming-guides/encoding.)

/// Why a protobuf message could not be read. Never carries the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtoError {
    /// The message ends inside a field.
    Truncated,
    /// A varint longer than 10 bytes or above 2^64.
    VarintOverflow,
    /// A wire type protobuf does not define (6 or 7), or a field number of 0.
    BadTag,
    /// Groups nested deeper than [`MAX_GROUP_DEPTH`], or an end-group with no start.
    BadGroup,
}

/// The deepest nesting of (deprecated) groups skipped before the message is refused.
pub const MAX_GROUP_DEPTH: usize = 32;

/// A field's value as the wire carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value<'a> {
    /// Wire type 0.
    Varint(u64),
    /// Wire type 2: bytes, a string or an embedded message.
    Bytes(&'a [u8]),
    /// Wire types 1, 5 and groups (3): read and skipped, their content unused here.
    Other,
}

/// Reads the fields of one message in order.
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over `message`.
    pub fn new(message: &'a [u8]) -> Self {
        Self { rest: message }
    }

    /// The next field number and value; `None` at the end of the message.
    pub fn next_field(&mut self) -> Option<Result<(u32, Value<'a>), ProtoError>> {
        if self.rest.is_empty() {
            return None;
        }
        Some(self.field())
    }

    fn field(&mut self) -> Result<(u32, Value<'a>), ProtoError> {
        let (number, wire_type) = self.tag()?;
        let value = match wire_type {
            0 => Value::Varint(self.varint()?),
            1 => {
                self.take(8)?;
                Value::Other
            }
            2 => {
                let len = self.varint()?;
                Value::Bytes(self.take(usize::try_from(len).map_err(|_| ProtoError::Truncated)?)?)
            }
            3 => {
                self.skip_group(number)?;
                Value::Other
            }
            5 => {
                self.take(4)?;
                Value::Other
            }
            // An end-group (4) here has no start; 6 and 7 are not wire types.
            4 => return Err(ProtoError::BadGroup),
            _ => return Err(ProtoError::BadTag),
        };
        Ok((number, value))
    }

    fn tag(&mut self) -> Result<(u32, u8), ProtoError> {
        let tag = self.varint()?;
        let number = u32::try_from(tag >> 3).map_err(|_| ProtoError::BadTag)?;
        if number == 0 {
            return Err(ProtoError::BadTag);
        }
        Ok((number, (tag & 7) as u8))
    }

    /// Skips to the end-group matching the start-group of field `number` just read,
    /// iteratively, so a hostile nesting costs no stack.
    fn skip_group(&mut self, number: u32) -> Result<(), ProtoError> {
        let mut open = vec![number];
        while let Some(&innermost) = open.last() {
            let (field, wire_type) = self.tag()?;
            match wire_type {
                0 => {
                    self.varint()?;
                }
                1 => {
                    self.take(8)?;
                }
                2 => {
                    let len = self.varint()?;
                    self.take(usize::try_from(len).map_err(|_| ProtoError::Truncated)?)?;
                }
                3 if open.len() < MAX_GROUP_DEPTH => open.push(field),
                4 if field == innermost => {
                    open.pop();
                }
                5 => {
                    self.take(4)?;
                }
                3 | 4 => return Err(ProtoError::BadGroup),
                _ => return Err(ProtoError::BadTag),
            }
        }
        Ok(())
    }

    fn varint(&mut self) -> Result<u64, ProtoError> {
        let mut value = 0u64;
        for (i, &byte) in self.rest.iter().enumerate().take(10) {
            let bits = u64::from(byte & 0x7f);
            // The tenth byte may only carry the 64th bit.
            if i == 9 && bits > 1 {
                return Err(ProtoError::VarintOverflow);
            }
            value |= bits << (7 * i);
            if byte & 0x80 == 0 {
                self.rest = &self.rest[i + 1..];
                return Ok(value);
            }
        }
        if self.rest.len() >= 10 {
            Err(ProtoError::VarintOverflow)
        } else {
            Err(ProtoError::Truncated)
        }
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8], ProtoError> {
        if len > self.rest.len() {
            return Err(ProtoError::Truncated);
        }
        let (taken, rest) = self.rest.split_at(len);
        self.rest = rest;
        Ok(taken)
    }
}

/// Appends fields to a message.
pub struct Writer<'a> {
    out: &'a mut Vec<u8>,
}

impl<'a> Writer<'a> {
    /// A writer appending to `out`.
    pub fn new(out: &'a mut Vec<u8>) -> Self {
        Self { out }
    }

    /// Field `number` as a varint (wire type 0).
    pub fn varint_field(&mut self, number: u32, value: u64) {
        self.varint(u64::from(number) << 3);
        self.varint(value);
    }

    /// Field `number` as length-delimited bytes (wire type 2).
    pub fn bytes_field(&mut self, number: u32, bytes: &[u8]) {
        self.varint((u64::from(number) << 3) | 2);
        self.varint(bytes.len() as u64);
        self.out.extend_from_slice(bytes);
    }

    fn varint(&mut self, mut value: u64) {
        while value >= 0x80 {
            self.out.push((value as u8) | 0x80);
            value >>= 7;
        }
        self.out.push(value as u8);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(message: &[u8]) -> Result<Vec<(u32, Value<'_>)>, ProtoError> {
        let mut reader = Reader::new(message);
        let mut out = Vec::new();
        while let Some(field) = reader.next_field() {
            out.push(field?);
        }
        Ok(out)
    }

    #[test]
    fn varints_round_trip_at_their_edges() {
        for value in [
            0,
            1,
            127,
            128,
            300,
            u64::from(u32::MAX),
            u64::MAX - 1,
            u64::MAX,
        ] {
            let mut out = Vec::new();
            Writer::new(&mut out).varint_field(7, value);
            assert_eq!(fields(&out), Ok(vec![(7, Value::Varint(value))]), "{value}");
        }
    }

    #[test]
    fn the_protobuf_guides_example_decodes() {
        // protobuf.dev encoding guide: field 1 = 150 is 08 96 01; field 2 = "testing".
        let message = [
            0x08, 0x96, 0x01, 0x12, 0x07, b't', b'e', b's', b't', b'i', b'n', b'g',
        ];
        assert_eq!(
            fields(&message),
            Ok(vec![(1, Value::Varint(150)), (2, Value::Bytes(b"testing"))])
        );
    }

    #[test]
    fn unknown_wire_types_are_skipped() {
        let mut message = vec![0x09]; // field 1, fixed64
        message.extend_from_slice(&[1; 8]);
        message.push(0x15); // field 2, fixed32
        message.extend_from_slice(&[2; 4]);
        message.extend_from_slice(&[0x1b, 0x08, 0x01, 0x23, 0x24, 0x1c]); // nested groups
        message.extend_from_slice(&[0x28, 0x05]);
        assert_eq!(
            fields(&message),
            Ok(vec![
                (1, Value::Other),
                (2, Value::Other),
                (3, Value::Other),
                (5, Value::Varint(5)),
            ])
        );
    }

    #[test]
    fn malformed_messages_are_errors() {
        let cases: [(&[u8], ProtoError); 8] = [
            (&[0x08], ProtoError::Truncated),
            (&[0x08, 0x80], ProtoError::Truncated),
            (&[0x12, 0x05, 1, 2], ProtoError::Truncated),
            (&[0x12, 0xff, 0xff, 0xff, 0xff, 0x0f], ProtoError::Truncated),
            (
                &[
                    0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02,
                ],
                ProtoError::VarintOverflow,
            ),
            (&[0x0e], ProtoError::BadTag),
            (&[0x00, 0x00], ProtoError::BadTag),
            (&[0x0c], ProtoError::BadGroup),
        ];
        for (message, error) in cases {
            assert_eq!(fields(message), Err(error), "{message:02x?}");
        }
        // An unclosed group, and one nested past the bound.
        assert_eq!(fields(&[0x0b, 0x08, 0x01]), Err(ProtoError::Truncated));
        let deep = vec![0x0b; MAX_GROUP_DEPTH + 1];
        assert_eq!(fields(&deep), Err(ProtoError::BadGroup));
        // A group closed by another field's end-group.
        assert_eq!(fields(&[0x0b, 0x14]), Err(ProtoError::BadGroup));
    }
}
