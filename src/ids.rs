//! Unguessable identifiers and tokens.

use data_encoding::BASE64URL_NOPAD;

/// Random bytes in a room id: 128 bits.
pub const ROOM_ID_BYTES: usize = 16;

/// `bytes` bytes from the operating system's secure random source, base64url-encoded
/// without padding (safe in URLs and file names).
pub fn random_url_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("the operating system's random source is available");
    BASE64URL_NOPAD.encode(&buf)
}

/// Whether `text` is exactly what [`random_url_token`] makes for `bytes` bytes.
pub fn is_url_token(text: &str, bytes: usize) -> bool {
    text.len() == BASE64URL_NOPAD.encode_len(bytes)
        && BASE64URL_NOPAD
            .decode(text.as_bytes())
            .is_ok_and(|decoded| decoded.len() == bytes && BASE64URL_NOPAD.encode(&decoded) == text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_url_safe_and_distinct() {
        let a = random_url_token(ROOM_ID_BYTES);
        let b = random_url_token(ROOM_ID_BYTES);
        assert_ne!(a, b);
        assert_eq!(a.len(), 22);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert!(is_url_token(&a, ROOM_ID_BYTES));
    }

    #[test]
    fn malformed_tokens_are_refused() {
        for text in [
            "",
            "abc",
            "../../etc/passwd",
            "AAAAAAAAAAAAAAAAAAAAA=",
            "AAAAAAAAAAAAAAAAAAAAA/",
        ] {
            assert!(!is_url_token(text, ROOM_ID_BYTES), "{text:?} accepted");
        }
        // 22 characters whose last one carries bits beyond the 128: not canonical.
        assert!(!is_url_token("AAAAAAAAAAAAAAAAAAAAAB", ROOM_ID_BYTES));
    }
}
