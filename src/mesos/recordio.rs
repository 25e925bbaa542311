//! RecordIO, the framing of Mesos's v1 streaming responses: each record is its length in
//! ASCII decimal, a newline, then exactly that many bytes (`12\n{"type":"x"}`).
//!
//! The decoder is incremental: HTTP chunks split records anywhere (inside the length, between
//! the length and its newline, inside the payload), so it buffers and yields whole records.

/// Records larger than this are treated as a corrupt stream (Mesos offers are kilobytes).
pub const MAX_RECORD_LEN: usize = 64 * 1024 * 1024;
/// A length header longer than this many bytes without a newline is corrupt.
const MAX_HEADER_LEN: usize = 20;

/// Why a stream could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordIoError {
    #[error("invalid RecordIO length header {header:?}")]
    BadHeader { header: String },
    #[error("RecordIO record of {len} bytes exceeds the {max}-byte limit")]
    TooLarge { len: usize, max: usize },
}

/// Incremental RecordIO decoder.
#[derive(Debug, Default)]
pub struct RecordIoDecoder {
    buf: Vec<u8>,
    /// Length of the record being read, once its header was parsed.
    pending: Option<usize>,
}

impl RecordIoDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds a chunk and returns every record it completes, in order.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<Vec<Vec<u8>>, RecordIoError> {
        self.buf.extend_from_slice(chunk);
        let mut out = Vec::new();
        let mut start = 0;
        loop {
            match self.pending {
                None => {
                    let rest = &self.buf[start..];
                    let Some(nl) = rest.iter().position(|&b| b == b'\n') else {
                        if rest.len() > MAX_HEADER_LEN || !rest.iter().all(u8::is_ascii_digit) {
                            return Err(bad_header(rest));
                        }
                        break;
                    };
                    let header = &rest[..nl];
                    if header.is_empty()
                        || header.len() > MAX_HEADER_LEN
                        || !header.iter().all(u8::is_ascii_digit)
                    {
                        return Err(bad_header(header));
                    }
                    // Digits only and at most 20 of them: parse into u128 cannot fail.
                    let len: u128 = std::str::from_utf8(header).unwrap().parse().unwrap();
                    if len > MAX_RECORD_LEN as u128 {
                        return Err(RecordIoError::TooLarge {
                            len: usize::try_from(len).unwrap_or(usize::MAX),
                            max: MAX_RECORD_LEN,
                        });
                    }
                    self.pending = Some(len as usize);
                    start += nl + 1;
                }
                Some(len) => {
                    if self.buf.len() - start < len {
                        break;
                    }
                    out.push(self.buf[start..start + len].to_vec());
                    start += len;
                    self.pending = None;
                }
            }
        }
        self.buf.drain(..start);
        Ok(out)
    }

    /// Whether the decoder holds a partial record (a stream that ends here was cut).
    pub fn has_partial(&self) -> bool {
        self.pending.is_some() || !self.buf.is_empty()
    }
}

fn bad_header(h: &[u8]) -> RecordIoError {
    let shown = &h[..h.len().min(32)];
    RecordIoError::BadHeader {
        header: String::from_utf8_lossy(shown).into_owned(),
    }
}

/// Encodes one record (for tests and fakes).
pub fn encode(record: &[u8]) -> Vec<u8> {
    let mut out = format!("{}\n", record.len()).into_bytes();
    out.extend_from_slice(record);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream() -> Vec<u8> {
        let mut s = encode(br#"{"type":"SUBSCRIBED"}"#);
        s.extend(encode(b""));
        s.extend(encode(br#"{"type":"HEARTBEAT"}"#));
        s
    }

    fn expected() -> Vec<Vec<u8>> {
        vec![
            br#"{"type":"SUBSCRIBED"}"#.to_vec(),
            b"".to_vec(),
            br#"{"type":"HEARTBEAT"}"#.to_vec(),
        ]
    }

    #[test]
    fn whole_stream_in_one_chunk() {
        let mut d = RecordIoDecoder::new();
        assert_eq!(d.feed(&stream()).unwrap(), expected());
        assert!(!d.has_partial());
    }

    #[test]
    fn every_split_point_and_byte_by_byte() {
        let s = stream();
        for cut in 0..=s.len() {
            let mut d = RecordIoDecoder::new();
            let mut got = d.feed(&s[..cut]).unwrap();
            got.extend(d.feed(&s[cut..]).unwrap());
            assert_eq!(got, expected(), "split at {cut}");
        }
        let mut d = RecordIoDecoder::new();
        let mut got = Vec::new();
        for b in &s {
            got.extend(d.feed(std::slice::from_ref(b)).unwrap());
        }
        assert_eq!(got, expected());
    }

    #[test]
    fn partial_record_is_reported() {
        let mut d = RecordIoDecoder::new();
        assert!(d.feed(b"10\n{\"ty").unwrap().is_empty());
        assert!(d.has_partial());
    }

    #[test]
    fn corrupt_headers_fail() {
        let mut d = RecordIoDecoder::new();
        assert_eq!(
            d.feed(b"{\"type\":\"x\"}\n").unwrap_err(),
            RecordIoError::BadHeader {
                header: "{\"type\":\"x\"}".into()
            }
        );
        let mut d = RecordIoDecoder::new();
        assert!(matches!(
            d.feed(b"12a"),
            Err(RecordIoError::BadHeader { .. })
        ));
        let mut d = RecordIoDecoder::new();
        assert!(matches!(
            d.feed(b"99999999999\n"),
            Err(RecordIoError::TooLarge { .. })
        ));
        let mut d = RecordIoDecoder::new();
        assert!(matches!(
            d.feed(b"\n"),
            Err(RecordIoError::BadHeader { .. })
        ));
    }
}
