//! What a blob's first bytes say it holds: 8-bit text (UTF-8, Latin-1, ...),
//! UTF-16 (with or without a byte-order mark) or binary. UTF-16 is
//! transcoded to UTF-8 before matching, so a key in a file saved by a Windows
//! editor or PowerShell (`Out-File` writes UTF-16 LE with a BOM) is found.
//!
//! Sniffing looks only at the first [`BINARY_SNIFF_LEN`] bytes, like the NUL
//! check it replaces; a caller that reads in steps can sniff the first step
//! and skip a binary file without reading the rest.

use std::borrow::Cow;

/// How many leading bytes are sniffed to tell text from binary.
pub const BINARY_SNIFF_LEN: usize = 8192;

/// Without a byte-order mark, this share of the sniffed UTF-16 code units
/// (in tenths) must be printable ASCII or whitespace, e.g. `k\0e\0y\0`.
const MIN_ASCII_TENTHS: usize = 9;

/// Fewer code units than this are too little to call BOM-less UTF-16.
const MIN_UNITS: usize = 4;

/// The encoding of a blob, judged from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Text {
    /// No NUL in the sniffed bytes: scanned as is (UTF-8 or any 8-bit text).
    Bytes,
    /// UTF-16 little-endian; `bom` when it starts with `FF FE`.
    Utf16Le { bom: bool },
    /// UTF-16 big-endian; `bom` when it starts with `FE FF`.
    Utf16Be { bom: bool },
    /// NULs that are not UTF-16: not scanned.
    Binary,
}

impl Text {
    /// Judges `data` from its first [`BINARY_SNIFF_LEN`] bytes (a prefix of
    /// the blob is enough).
    pub fn sniff(data: &[u8]) -> Text {
        let window = &data[..data.len().min(BINARY_SNIFF_LEN)];
        if let Some(rest) = window.strip_prefix(b"\xFF\xFE") {
            return utf16_with_bom(rest, u16::from_le_bytes, Text::Utf16Le { bom: true });
        }
        if let Some(rest) = window.strip_prefix(b"\xFE\xFF") {
            return utf16_with_bom(rest, u16::from_be_bytes, Text::Utf16Be { bom: true });
        }
        if memchr::memchr(0, window).is_none() {
            return Text::Bytes;
        }
        if mostly_ascii(window, u16::from_le_bytes) {
            Text::Utf16Le { bom: false }
        } else if mostly_ascii(window, u16::from_be_bytes) {
            Text::Utf16Be { bom: false }
        } else {
            Text::Binary
        }
    }
}

/// After a byte-order mark, text has no U+0000: a NUL code unit means the
/// mark was chance (or UTF-32, which is not supported) and the blob binary.
fn utf16_with_bom(rest: &[u8], unit: fn([u8; 2]) -> u16, text: Text) -> Text {
    if units(rest, unit).any(|u| u == 0) {
        Text::Binary
    } else {
        text
    }
}

/// True when nearly all code units are printable ASCII or whitespace and
/// none is U+0000: what UTF-16 source code, config and logs look like.
/// Binary data with NULs at every other byte (16-bit integers) rarely has
/// printable bytes in between.
fn mostly_ascii(window: &[u8], unit: fn([u8; 2]) -> u16) -> bool {
    let mut total = 0;
    let mut ascii = 0;
    for u in units(window, unit) {
        if u == 0 {
            return false;
        }
        total += 1;
        if matches!(u, 0x20..=0x7E | 0x09 | 0x0A | 0x0C | 0x0D) {
            ascii += 1;
        }
    }
    total >= MIN_UNITS && ascii * 10 >= total * MIN_ASCII_TENTHS
}

fn units(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> impl Iterator<Item = u16> + '_ {
    bytes.chunks_exact(2).map(move |p| unit([p[0], p[1]]))
}

/// The bytes to match in `data`: `data` itself for 8-bit text, UTF-8
/// transcoded from UTF-16 (without the byte-order mark), or `None` for a
/// binary blob. Transcoding is lossy: an unpaired surrogate or a trailing odd
/// byte becomes U+FFFD. Lines are the same as in the UTF-16 text, and columns
/// (counted in characters) too, outside the astral planes.
pub fn decode_text(data: &[u8]) -> Option<Cow<'_, [u8]>> {
    decode_as(Text::sniff(data), data)
}

/// [`decode_text`] with the encoding already sniffed (e.g. from a prefix).
pub fn decode_as(text: Text, data: &[u8]) -> Option<Cow<'_, [u8]>> {
    match text {
        Text::Bytes => Some(Cow::Borrowed(data)),
        Text::Binary => None,
        Text::Utf16Le { bom } => Some(Cow::Owned(transcode(data, bom, u16::from_le_bytes))),
        Text::Utf16Be { bom } => Some(Cow::Owned(transcode(data, bom, u16::from_be_bytes))),
    }
}

fn transcode(data: &[u8], bom: bool, unit: fn([u8; 2]) -> u16) -> Vec<u8> {
    let body = if bom {
        &data[2.min(data.len())..]
    } else {
        data
    };
    let mut out = String::with_capacity(body.len() / 2 + 8);
    out.extend(
        char::decode_utf16(units(body, unit)).map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER)),
    );
    if body.len() % 2 == 1 {
        out.push(char::REPLACEMENT_CHARACTER);
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn le(s: &str, bom: bool) -> Vec<u8> {
        let mut out = if bom { vec![0xFF, 0xFE] } else { Vec::new() };
        out.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
        out
    }

    fn be(s: &str, bom: bool) -> Vec<u8> {
        let mut out = if bom { vec![0xFE, 0xFF] } else { Vec::new() };
        out.extend(s.encode_utf16().flat_map(u16::to_be_bytes));
        out
    }

    const SAMPLE: &str = "# config\r\nGROQ_API_KEY=gsk_example\r\nname = \"café\"\r\n";

    #[test]
    fn text_without_nul_is_scanned_as_is() {
        assert_eq!(Text::sniff(b"plain = 1\n"), Text::Bytes);
        assert_eq!(Text::sniff(b"caf\xe9\n"), Text::Bytes);
        assert_eq!(Text::sniff(b""), Text::Bytes);
        assert!(matches!(decode_text(b"abc"), Some(Cow::Borrowed(b"abc"))));
    }

    #[test]
    fn utf16_with_and_without_bom_is_transcoded() {
        for (data, text) in [
            (le(SAMPLE, true), Text::Utf16Le { bom: true }),
            (le(SAMPLE, false), Text::Utf16Le { bom: false }),
            (be(SAMPLE, true), Text::Utf16Be { bom: true }),
            (be(SAMPLE, false), Text::Utf16Be { bom: false }),
        ] {
            assert_eq!(Text::sniff(&data), text);
            assert_eq!(decode_text(&data).unwrap().as_ref(), SAMPLE.as_bytes());
        }
    }

    #[test]
    fn binary_with_nuls_stays_binary() {
        assert_eq!(Text::sniff(b"\x7fELF\x02\x01\x01\0\0\0\0\0"), Text::Binary);
        assert_eq!(Text::sniff(b"PK\x03\x04\x14\0\0\0\x08\0"), Text::Binary);
        // 16-bit integers: NULs every other byte, but not printable between.
        let ints: Vec<u8> = (1u16..200).flat_map(u16::to_le_bytes).collect();
        assert_eq!(Text::sniff(&ints), Text::Binary);
        // A BOM followed by NUL code units (UTF-32 LE, or chance) is binary.
        assert_eq!(Text::sniff(b"\xFF\xFE\0\0a\0\0\0"), Text::Binary);
        assert!(decode_text(b"a\0").is_none());
    }

    #[test]
    fn odd_length_and_unpaired_surrogates_decode_lossily() {
        let mut data = le("key = 1", true);
        data.push(b'x');
        assert_eq!(
            decode_text(&data).unwrap().as_ref(),
            "key = 1\u{FFFD}".as_bytes()
        );
        let lone = [0xFF, 0xFE, 0x00, 0xD8, b'a', 0];
        assert_eq!(decode_text(&lone).unwrap().as_ref(), "\u{FFFD}a".as_bytes());
        assert_eq!(decode_text(b"\xFF\xFE").unwrap().as_ref(), b"");
        assert_eq!(
            decode_text(b"\xFE\xFFx").unwrap().as_ref(),
            "\u{FFFD}".as_bytes()
        );
    }

    proptest! {
        #[test]
        fn any_bytes_decode_without_panic(data in proptest::collection::vec(any::<u8>(), 0..600)) {
            match decode_text(&data) {
                None => prop_assert!(memchr::memchr(0, &data).is_some()),
                Some(Cow::Borrowed(b)) => prop_assert_eq!(b, &data[..]),
                Some(Cow::Owned(o)) => prop_assert!(std::str::from_utf8(&o).is_ok()),
            }
        }

        #[test]
        fn utf16ish_code_units_decode_to_valid_utf8(
            units in proptest::collection::vec(
                prop_oneof![0x20u16..0x7F, Just(0x0Au16), 0xD800u16..0xE000, any::<u16>()],
                0..300,
            ),
            big_endian in any::<bool>(),
            bom in any::<bool>(),
            odd in any::<bool>(),
        ) {
            let mut data = Vec::new();
            let mark: u16 = 0xFEFF;
            let to = |u: u16| if big_endian { u.to_be_bytes() } else { u.to_le_bytes() };
            if bom {
                data.extend(to(mark));
            }
            data.extend(units.iter().flat_map(|&u| to(u)));
            if odd {
                data.push(b'z');
            }
            if let Some(Cow::Owned(o)) = decode_text(&data) {
                prop_assert!(std::str::from_utf8(&o).is_ok());
            }
        }

        #[test]
        fn ascii_text_round_trips_through_utf16(
            s in "[ -~\t\n]{4,200}",
            big_endian in any::<bool>(),
            bom in any::<bool>(),
        ) {
            let data = if big_endian { be(&s, bom) } else { le(&s, bom) };
            let decoded = decode_text(&data).expect("text");
            prop_assert_eq!(decoded.as_ref(), s.as_bytes());
        }

        #[test]
        fn unicode_text_with_bom_round_trips(s in "\\PC{0,100}", big_endian in any::<bool>()) {
            prop_assume!(!s.contains('\0'));
            let data = if big_endian { be(&s, true) } else { le(&s, true) };
            let decoded = decode_text(&data).expect("text");
            prop_assert_eq!(decoded.as_ref(), s.as_bytes());
        }
    }
}
