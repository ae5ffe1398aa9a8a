//! The primitive encodings of docs/protocol.md: LEB128 integers, booleans, length-prefixed
//! bytes and strings, hashes, lists and options.

use super::DecodeError;

/// Appends encoded fields to a buffer.
#[derive(Debug, Default)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    pub fn new(message_type: u8) -> Self {
        Self {
            buf: vec![message_type],
        }
    }

    pub fn finish(self) -> Vec<u8> {
        self.buf
    }

    pub fn uint(&mut self, mut value: u64) -> &mut Self {
        loop {
            let byte = (value & 0x7f) as u8;
            value >>= 7;
            if value == 0 {
                self.buf.push(byte);
                return self;
            }
            self.buf.push(byte | 0x80);
        }
    }

    pub fn bool(&mut self, value: bool) -> &mut Self {
        self.buf.push(u8::from(value));
        self
    }

    pub fn bytes(&mut self, value: &[u8]) -> &mut Self {
        self.uint(value.len() as u64);
        self.buf.extend_from_slice(value);
        self
    }

    pub fn string(&mut self, value: &str) -> &mut Self {
        self.bytes(value.as_bytes())
    }

    pub fn hash(&mut self, value: &[u8; 32]) -> &mut Self {
        self.buf.extend_from_slice(value);
        self
    }

    pub fn list<T>(&mut self, items: &[T], mut each: impl FnMut(&mut Self, &T)) -> &mut Self {
        self.uint(items.len() as u64);
        for item in items {
            each(self, item);
        }
        self
    }

    pub fn option<T>(&mut self, value: Option<&T>, each: impl FnOnce(&mut Self, &T)) -> &mut Self {
        self.bool(value.is_some());
        if let Some(value) = value {
            each(self, value);
        }
        self
    }
}

/// Reads fields from a message, refusing anything out of shape.
#[derive(Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn take(&mut self, len: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        if len > self.remaining() {
            return Err(DecodeError::Truncated(what));
        }
        let slice = &self.buf[self.pos..self.pos + len];
        self.pos += len;
        Ok(slice)
    }

    pub fn byte(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        Ok(self.take(1, what)?[0])
    }

    pub fn uint(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        let mut value: u64 = 0;
        for index in 0..10 {
            let byte = self.byte(what)?;
            let bits = u64::from(byte & 0x7f);
            if index == 9 && bits > 1 {
                return Err(DecodeError::Overflow(what));
            }
            value |= bits << (7 * index);
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(DecodeError::Overflow(what))
    }

    /// A `uint` that must fit a `u32` (counts, ids, small enums).
    pub fn small(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        u32::try_from(self.uint(what)?).map_err(|_| DecodeError::Overflow(what))
    }

    pub fn bool(&mut self, what: &'static str) -> Result<bool, DecodeError> {
        match self.byte(what)? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(DecodeError::Invalid(what)),
        }
    }

    pub fn bytes(&mut self, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let len = self.uint(what)?;
        let len = usize::try_from(len).map_err(|_| DecodeError::Truncated(what))?;
        self.take(len, what)
    }

    pub fn string(&mut self, what: &'static str, max_bytes: usize) -> Result<String, DecodeError> {
        let bytes = self.bytes(what)?;
        if bytes.len() > max_bytes {
            return Err(DecodeError::TooLong(what));
        }
        std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|_| DecodeError::Invalid(what))
    }

    pub fn hash(&mut self, what: &'static str) -> Result<[u8; 32], DecodeError> {
        Ok(self.take(32, what)?.try_into().expect("took 32 bytes"))
    }

    /// A list of at most `max` items, each read by `item`. A count larger than the bytes
    /// left is refused before anything is allocated.
    pub fn list<T>(
        &mut self,
        what: &'static str,
        max: usize,
        mut item: impl FnMut(&mut Self) -> Result<T, DecodeError>,
    ) -> Result<Vec<T>, DecodeError> {
        let count = self.uint(what)?;
        if count > self.remaining() as u64 {
            return Err(DecodeError::Truncated(what));
        }
        if count > max as u64 {
            return Err(DecodeError::TooLong(what));
        }
        let mut items = Vec::with_capacity(count as usize);
        for _ in 0..count {
            items.push(item(self)?);
        }
        Ok(items)
    }

    pub fn option<T>(
        &mut self,
        what: &'static str,
        item: impl FnOnce(&mut Self) -> Result<T, DecodeError>,
    ) -> Result<Option<T>, DecodeError> {
        if self.bool(what)? {
            item(self).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Succeeds only if every byte has been read.
    pub fn end(&self) -> Result<(), DecodeError> {
        if self.remaining() == 0 {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uints_round_trip_at_every_length() {
        for value in [0, 1, 127, 128, 300, 16_383, 16_384, u64::from(u32::MAX), u64::MAX] {
            let mut writer = Writer::new(0);
            writer.uint(value);
            let bytes = writer.finish();
            let mut reader = Reader::new(&bytes[1..]);
            assert_eq!(reader.uint("value").unwrap(), value);
            reader.end().unwrap();
        }
    }

    #[test]
    fn overlong_and_overflowing_uints_are_refused() {
        let eleven = [0x80u8; 10]
            .iter()
            .chain([0x00].iter())
            .copied()
            .collect::<Vec<_>>();
        assert!(Reader::new(&eleven).uint("x").is_err());
        let overflow = [0xffu8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02];
        assert!(Reader::new(&overflow).uint("x").is_err());
        assert!(Reader::new(&[0x80]).uint("x").is_err(), "truncated");
    }

    #[test]
    fn lists_cannot_claim_more_items_than_bytes() {
        let mut writer = Writer::new(0);
        writer.uint(1_000_000);
        let bytes = writer.finish();
        let err = Reader::new(&bytes[1..])
            .list("items", usize::MAX, |r| r.byte("item"))
            .unwrap_err();
        assert_eq!(err, DecodeError::Truncated("items"));
    }
}
