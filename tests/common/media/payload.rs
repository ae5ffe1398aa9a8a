//! Synthetic media whose every frame says who sent it and in what order, and can be
//! checked byte for byte on arrival.

use bytes::{BufMut, Bytes, BytesMut};

const VP8_KEY_FRAME: &[u8] = &[0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 16, 0, 16, 0];
const VP8_DELTA_FRAME: &[u8] = &[0x11, 0x02, 0x00];

/// A synthetic payload: a VP8 frame header (when `keyframe` is given), then `PLN`, the
/// publisher, the index, and filler derived from both, `len` bytes in all.
pub fn synthetic(publisher: u64, index: u32, len: usize, keyframe: Option<bool>) -> Bytes {
    let mut data = BytesMut::with_capacity(len);
    match keyframe {
        // A VP8 key frame: frame tag (P bit clear), start code, 16x16.
        Some(true) => data.put_slice(VP8_KEY_FRAME),
        Some(false) => data.put_slice(VP8_DELTA_FRAME),
        None => {}
    }
    data.put_slice(b"PLN");
    data.put_u64(publisher);
    data.put_u32(index);
    let filler = filler(publisher, index).take(len.saturating_sub(data.len()));
    data.extend(filler);
    data.freeze()
}

/// The bytes after the header: a sequence seeded by the publisher and the index.
fn filler(publisher: u64, index: u32) -> impl Iterator<Item = u8> {
    std::iter::successors(Some((publisher as u8) ^ (index as u8)), |byte| {
        Some(byte.wrapping_mul(31).wrapping_add(7))
    })
}

/// Reads a synthetic payload back: (publisher, index) if every byte is what was sent.
pub fn read_synthetic(data: &[u8]) -> Option<(u64, u32)> {
    let at = data.windows(3).position(|w| w == b"PLN")?;
    let intact_header = match at {
        10 => &data[..at] == VP8_KEY_FRAME,
        3 => &data[..at] == VP8_DELTA_FRAME,
        0 => true,
        _ => false,
    };
    let publisher = u64::from_be_bytes(data.get(at + 3..at + 11)?.try_into().ok()?);
    let index = u32::from_be_bytes(data.get(at + 11..at + 15)?.try_into().ok()?);
    let rest = &data[at + 15..];
    let intact = intact_header
        && rest
            .iter()
            .zip(filler(publisher, index))
            .all(|(got, want)| *got == want);
    intact.then_some((publisher, index))
}

/// Strips a VP8 RTP payload descriptor (RFC 7741), returning the frame bytes.
pub fn vp8_payload(payload: &[u8]) -> Option<&[u8]> {
    let first = *payload.first()?;
    let mut at = 1;
    if first & 0x80 != 0 {
        let ext = *payload.get(at)?;
        at += 1;
        if ext & 0x80 != 0 {
            at += if payload.get(at)? & 0x80 != 0 { 2 } else { 1 };
        }
        if ext & 0x40 != 0 {
            at += 1;
        }
        if ext & 0x30 != 0 {
            at += 1;
        }
    }
    payload.get(at..)
}
