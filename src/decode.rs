//! Encoded text that can hide a key: base64 (standard and URL-safe, with or
//! without padding), percent-encoding, and `\uXXXX` / `\xXX` / `\/` escapes.
//!
//! [`encoded_spans`] finds the spans of a blob that are worth decoding and
//! decodes them; the scanner runs the rules on the decoded text and reports a
//! key found there at the span's place in the blob. Only spans that can hold
//! a key are decoded (a minimum length, the encoding's alphabet, and decoded
//! text that is printable), so that a scan of ordinary source code pays one
//! cheap pass: base64 runs are found by probing every [`MIN_BASE64`]-th byte.

use std::ops::Range;

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::{alphabet, Engine};

/// How a span was encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Encoding {
    Base64,
    Percent,
    Escape,
}

impl Encoding {
    /// The name reports use (`"decoded": ["base64"]`).
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Base64 => "base64",
            Encoding::Percent => "percent",
            Encoding::Escape => "escape",
        }
    }
}

/// One decoded span of a blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// Where the encoded text is, in the blob that was searched.
    pub span: Range<usize>,
    pub encoding: Encoding,
    pub text: Vec<u8>,
}

/// Shortest base64 run decoded: 24 characters hold 18 bytes, less than the
/// shortest key worth finding inside an encoding plus its name.
pub const MIN_BASE64: usize = 24;

/// Shortest percent-encoded or escaped token decoded.
const MIN_TOKEN: usize = 16;

/// Longest span decoded: a base64 run of a few MiB is an image or a bundle;
/// past this, the span is left alone (its raw text was scanned anyway).
pub const MAX_SPAN: usize = 4 << 20;

fn is_base64_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_')
}

/// Every span of `data` worth decoding, decoded, in order of position.
pub fn encoded_spans(data: &[u8]) -> Vec<Decoded> {
    let mut out = Vec::new();
    base64_spans(data, &mut out);
    token_spans(data, &mut out);
    out.sort_by_key(|d| (d.span.start, d.span.end));
    out
}

fn base64_spans(data: &[u8], out: &mut Vec<Decoded>) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512bw") {
            // SAFETY: AVX-512 BW is present (checked just above).
            return unsafe { base64_spans_avx512(data, out) };
        }
        if std::is_x86_feature_detected!("avx2") {
            // SAFETY: AVX2 is present (checked just above).
            return unsafe { base64_spans_avx2(data, out) };
        }
    }
    base64_spans_with(data, out, base64_mask_scalar)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512bw")]
unsafe fn base64_spans_avx512(data: &[u8], out: &mut Vec<Decoded>) {
    base64_spans_with(data, out, |block| match block.try_into() {
        Ok(full) => base64_mask_avx512(full),
        Err(_) => base64_mask_scalar(block),
    })
}

/// [`base64_mask_scalar`] of 64 bytes, with one 64-byte vector.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512bw")]
#[inline]
fn base64_mask_avx512(block: &[u8; 64]) -> u64 {
    use std::arch::x86_64::*;
    // SAFETY: `block` holds 64 bytes; one unaligned load.
    let v = unsafe { _mm512_loadu_si512(block.as_ptr() as *const _) };
    let below = |v: __m512i, lo: u8, n: u8| {
        _mm512_cmplt_epu8_mask(
            _mm512_sub_epi8(v, _mm512_set1_epi8(lo as i8)),
            _mm512_set1_epi8(n as i8),
        )
    };
    let letter = below(_mm512_or_si512(v, _mm512_set1_epi8(0x20)), b'a', 26);
    let digit = below(v, b'0', 10);
    let eq = |c: u8| _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(c as i8));
    letter | digit | eq(b'+') | eq(b'/') | eq(b'-') | eq(b'_')
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn base64_spans_avx2(data: &[u8], out: &mut Vec<Decoded>) {
    base64_spans_with(data, out, |block| match block.try_into() {
        Ok(full) => base64_mask_avx2(full),
        Err(_) => base64_mask_scalar(block),
    })
}

/// Finds the runs of at least [`MIN_BASE64`] base64 bytes with `mask`
/// (bit `i` set when byte `i` of a block of up to 64 is a base64 byte) and
/// decodes those that hold text. Whole blocks without such a run cost one
/// mask.
#[inline(always)]
fn base64_spans_with(data: &[u8], out: &mut Vec<Decoded>, mask: impl Fn(&[u8]) -> u64) {
    let block_at = |at: usize| &data[at..data.len().min(at + 64)];
    let mut offset = 0;
    // Bits of the previous block; none before `offset` when it was reset.
    let mut prev: u64 = 0;
    while offset < data.len() {
        let cur = mask(block_at(offset));
        let ends = run_ends(prev, cur);
        if ends == 0 {
            prev = cur;
            offset += 64;
            continue;
        }
        // The first byte that ends MIN_BASE64 base64 bytes in a row: the
        // run started exactly MIN_BASE64 - 1 bytes before it (it would have
        // ended a full row earlier otherwise).
        let inside = offset + ends.trailing_zeros() as usize;
        let start = inside + 1 - MIN_BASE64;
        let mut end = inside + 1;
        loop {
            let block = block_at(end);
            let ones = (!mask(block)).trailing_zeros() as usize;
            end += ones.min(block.len());
            if ones < block.len() || end >= data.len() {
                break;
            }
        }
        let mut padded = end;
        while padded < data.len() && padded < end + 2 && data[padded] == b'=' {
            padded += 1;
        }
        if end - start <= MAX_SPAN {
            if let Some(text) = decode_base64(&data[start..end]) {
                out.push(Decoded {
                    span: start..padded,
                    encoding: Encoding::Base64,
                    text,
                });
            }
        }
        offset = padded;
        prev = 0;
    }
}

/// Bit `i` set when byte `i` of the current block ends MIN_BASE64 (24)
/// base64 bytes in a row, counting the previous block's last bytes (the
/// lowest such bit is exact; a row that crossed from `prev` is not repeated).
#[inline(always)]
fn run_ends(prev: u64, cur: u64) -> u64 {
    const _: () = assert!(MIN_BASE64 == 24);
    let r2 = cur & (cur << 1);
    let r4 = r2 & (r2 << 2);
    let r8 = r4 & (r4 << 4);
    let r16 = r8 & (r8 << 8);
    let mut r24 = r16 & (r8 << 16);
    // A row that began in `prev` (which held no full row) and goes on here.
    let carried = prev.leading_ones() as usize;
    if carried > 0 && carried < MIN_BASE64 {
        let need = MIN_BASE64 - carried;
        if cur.trailing_ones() as usize >= need {
            r24 |= 1 << (need - 1);
        }
    }
    r24
}

fn base64_mask_scalar(block: &[u8]) -> u64 {
    block
        .iter()
        .enumerate()
        .fold(0u64, |m, (i, &b)| m | (u64::from(is_base64_byte(b)) << i))
}

/// [`base64_mask_scalar`] of 64 bytes, with vector compares.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
fn base64_mask_avx2(block: &[u8; 64]) -> u64 {
    use std::arch::x86_64::*;
    // Signed compares: bytes of 0x80 and up are negative and fail every range.
    let between = |v: __m256i, lo: u8, hi: u8| {
        _mm256_and_si256(
            _mm256_cmpgt_epi8(v, _mm256_set1_epi8(lo as i8 - 1)),
            _mm256_cmpgt_epi8(_mm256_set1_epi8(hi as i8 + 1), v),
        )
    };
    let class = |v: __m256i| -> u32 {
        let folded = _mm256_or_si256(v, _mm256_set1_epi8(0x20));
        let letter = between(folded, b'a', b'z');
        let digit = between(v, b'0', b'9');
        let eq = |c: u8| _mm256_cmpeq_epi8(v, _mm256_set1_epi8(c as i8));
        let sign = _mm256_or_si256(
            _mm256_or_si256(eq(b'+'), eq(b'/')),
            _mm256_or_si256(eq(b'-'), eq(b'_')),
        );
        _mm256_movemask_epi8(_mm256_or_si256(_mm256_or_si256(letter, digit), sign)) as u32
    };
    // SAFETY: `block` holds 64 bytes; two unaligned loads of 32.
    let (lo, hi) = unsafe {
        (
            _mm256_loadu_si256(block.as_ptr() as *const __m256i),
            _mm256_loadu_si256(block.as_ptr().add(32) as *const __m256i),
        )
    };
    u64::from(class(lo)) | u64::from(class(hi)) << 32
}

const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::RequireNone)
    .with_decode_allow_trailing_bits(true);
const STANDARD_ENGINE: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);
const URL_SAFE_ENGINE: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT);

/// Value of each base64 character in either alphabet (`+`/`-` are 62,
/// `/`/`_` are 63); 0xff for any other byte.
const SEXTET: [u8; 256] = {
    let mut t = [0xffu8; 256];
    let mut i = 0;
    while i < 26 {
        t[b'A' as usize + i] = i as u8;
        t[b'a' as usize + i] = 26 + i as u8;
        i += 1;
    }
    let mut d = 0;
    while d < 10 {
        t[b'0' as usize + d] = 52 + d as u8;
        d += 1;
    }
    t[b'+' as usize] = 62;
    t[b'-' as usize] = 62;
    t[b'/' as usize] = 63;
    t[b'_' as usize] = 63;
    t
};

/// Characters decoded before the whole run is: 16 characters, 12 bytes.
const HEAD: usize = 16;
const _: () = assert!(HEAD <= MIN_BASE64 && HEAD.is_multiple_of(4));

/// True when the first [`HEAD`] characters of `run` decode to the start of
/// text: text bytes that are valid UTF-8 (or stop inside one character).
/// Random bytes pass one time in a few thousand, so most base64-shaped runs
/// of source code (identifiers, paths, digests) stop here, without an
/// allocation.
fn head_is_text(run: &[u8]) -> bool {
    let mut bytes = [0u8; HEAD / 4 * 3];
    for (quad, out) in run[..HEAD].chunks_exact(4).zip(bytes.chunks_exact_mut(3)) {
        let v = quad
            .iter()
            .fold(0u32, |acc, &c| acc << 6 | u32::from(SEXTET[c as usize]));
        out.copy_from_slice(&v.to_be_bytes()[1..]);
    }
    bytes.iter().all(|&b| text_byte(b))
        && match std::str::from_utf8(&bytes) {
            Ok(_) => true,
            Err(e) => e.error_len().is_none(),
        }
}

/// Decodes a base64 run (either alphabet, padding stripped) to printable
/// text, or `None` when it is not base64 of text.
fn decode_base64(run: &[u8]) -> Option<Vec<u8>> {
    // The head first: it reads 16 characters and turns away nearly every
    // run of ordinary source (the checks below read the whole run).
    if !head_is_text(run) {
        return None;
    }
    // Hex digests, identifiers in one case and plain words are base64-shaped
    // but never base64 of a key: real encodings mix cases and digits.
    let (mut upper, mut lower, mut digit, mut url_safe, mut standard) =
        (false, false, false, false, false);
    for &b in run {
        upper |= b.is_ascii_uppercase();
        lower |= b.is_ascii_lowercase();
        digit |= b.is_ascii_digit();
        url_safe |= b == b'-' || b == b'_';
        standard |= b == b'+' || b == b'/';
    }
    if !(upper && lower && digit) || (url_safe && standard) {
        return None;
    }
    // A trailing partial quantum of one character cannot be decoded.
    let usable = if run.len() % 4 == 1 {
        &run[..run.len() - 1]
    } else {
        run
    };
    let engine = if url_safe {
        &URL_SAFE_ENGINE
    } else {
        &STANDARD_ENGINE
    };
    let text = engine.decode(usable).ok()?;
    printable(&text).then_some(text)
}

/// Text a key could be in: printable ASCII and line breaks and tabs, or
/// UTF-8 (a JSON document with a non-ASCII name).
fn printable(bytes: &[u8]) -> bool {
    !bytes.is_empty() && bytes.iter().all(|&b| text_byte(b)) && std::str::from_utf8(bytes).is_ok()
}

fn text_byte(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | b'\r' | 0x20..=0x7e | 0x80..=0xff)
}

/// Bytes a percent-encoded or escaped token may hold: anything but
/// whitespace, quotes and the brackets that close an element or a literal.
fn is_token_byte(b: u8) -> bool {
    b > b' '
        && !matches!(
            b,
            b'"' | b'\''
                | b'`'
                | b'<'
                | b'>'
                | b'('
                | b')'
                | b'['
                | b']'
                | b'{'
                | b'}'
                | b','
                | b';'
        )
        && b != 0x7f
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn hex2(data: &[u8], at: usize) -> Option<u8> {
    Some(hex(*data.get(at)?)? << 4 | hex(*data.get(at + 1)?)?)
}

fn hex4(data: &[u8], at: usize) -> Option<u32> {
    let hi = hex2(data, at)? as u32;
    let lo = hex2(data, at + 2)? as u32;
    Some(hi << 8 | lo)
}

/// Percent-encoded and escaped tokens: found from their `%` and `\`.
fn token_spans(data: &[u8], out: &mut Vec<Decoded>) {
    let mut from = 0;
    while let Some(i) = memchr::memchr2(b'%', b'\\', &data[from..]).map(|i| from + i) {
        from = i + 1;
        let encoding = match data[i] {
            b'%' if hex2(data, i + 1).is_some() => Encoding::Percent,
            b'\\' => match data.get(i + 1) {
                Some(b'u') if hex4(data, i + 2).is_some() => Encoding::Escape,
                Some(b'x') if hex2(data, i + 2).is_some() => Encoding::Escape,
                Some(b'/') => Encoding::Escape,
                _ => continue,
            },
            _ => continue,
        };
        let mut start = i;
        while start > 0 && is_token_byte(data[start - 1]) {
            start -= 1;
        }
        let mut end = i + 1;
        while end < data.len() && is_token_byte(data[end]) {
            end += 1;
        }
        from = end.max(from);
        if end - start < MIN_TOKEN || end - start > MAX_SPAN {
            continue;
        }
        let token = &data[start..end];
        let text = match encoding {
            Encoding::Percent => percent_decode(token),
            _ => unescape(token),
        };
        if text.len() < token.len() && printable(&text) {
            out.push(Decoded {
                span: start..end,
                encoding,
                text,
            });
        }
    }
}

fn percent_decode(token: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(token.len());
    let mut i = 0;
    while i < token.len() {
        match (token[i], hex2(token, i + 1)) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b'+', _) => {
                // `+` is a space in form-encoded queries, but a key's `+`
                // is far more often left as is; keep it.
                out.push(b'+');
                i += 1;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

fn unescape(token: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(token.len());
    let mut i = 0;
    while i < token.len() {
        if token[i] == b'\\' {
            match token.get(i + 1) {
                Some(b'u') => {
                    if let Some(c) = hex4(token, i + 2).and_then(char::from_u32) {
                        let mut buf = [0u8; 4];
                        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                        i += 6;
                        continue;
                    }
                }
                Some(b'x') => {
                    if let Some(b) = hex2(token, i + 2) {
                        out.push(b);
                        i += 4;
                        continue;
                    }
                }
                Some(&c @ (b'/' | b'\\' | b'"' | b'\'')) => {
                    out.push(c);
                    i += 2;
                    continue;
                }
                _ => {}
            }
        }
        out.push(token[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

    fn only(data: &[u8]) -> Decoded {
        let spans = encoded_spans(data);
        assert_eq!(spans.len(), 1, "{spans:?}");
        spans.into_iter().next().unwrap()
    }

    #[test]
    fn base64_in_both_alphabets_with_and_without_padding() {
        let text = b"OPENAI_API_KEY=sk-proj-Ab3_Cd4-Ef5?Gh6~Ij7>>Kl8";
        for encoded in [STANDARD.encode(text), URL_SAFE_NO_PAD.encode(text)] {
            let data = format!("data:\n  key: {encoded}\n");
            let d = only(data.as_bytes());
            assert_eq!(d.encoding, Encoding::Base64);
            assert_eq!(d.text, text);
            assert_eq!(&data.as_bytes()[d.span.clone()], encoded.as_bytes());
        }
    }

    #[test]
    fn runs_at_the_edges_of_the_buffer_are_found() {
        let encoded = STANDARD.encode("user:ghp_Q8k2mX9pL4vR7tY1wE3uI6oP0aS5dF2g");
        assert_eq!(only(encoded.as_bytes()).span, 0..encoded.len());
        let shifted = format!("a {encoded}");
        assert_eq!(only(shifted.as_bytes()).span, 2..shifted.len());
    }

    #[test]
    fn ordinary_code_and_binary_base64_are_not_decoded() {
        let code = b"fn main() { let averyveryverylongidentifiername_here = 5; }\n\
            sha256 = 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n\
            CamelCaseIdentifierThatIsQuiteLong2 = OtherIdentifierName\n";
        assert!(encoded_spans(code).is_empty());
        let png = STANDARD.encode([
            0x89u8, b'P', b'N', b'G', 0, 1, 2, 3, 0xff, 0xfe, 0, 0, 9, 8, 7, 6, 5, 4,
        ]);
        assert!(encoded_spans(format!("img = \"{png}\"").as_bytes()).is_empty());
    }

    #[test]
    fn percent_encoding_and_escapes() {
        let d = only(b"url = \"https://api.example.com/v1?token=ab%2Bcd%2Fef%3D%3Dgh\"");
        assert_eq!(d.encoding, Encoding::Percent);
        assert_eq!(d.text, b"https://api.example.com/v1?token=ab+cd/ef==gh");
        let d = only(br#"{"key": "wJalrXUt\/nFEMI\u002fK7MDENG\x2fbPxR"}"#);
        assert_eq!(d.encoding, Encoding::Escape);
        assert_eq!(d.text, b"wJalrXUt/nFEMI/K7MDENG/bPxR");
    }

    #[test]
    fn short_tokens_and_lone_signs_are_left_alone() {
        assert!(encoded_spans(b"printf(\"%20s %d\\n\", x); 100% sure").is_empty());
        assert!(encoded_spans(b"path = C:\\xyz\\temp").is_empty());
    }

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn the_vector_mask_matches_the_scalar_one() {
        let mut block = [0u8; 64];
        for seed in 0..64u32 {
            for (i, b) in block.iter_mut().enumerate() {
                *b = (seed.wrapping_mul(2654435761).rotate_left(i as u32) >> 7) as u8 ^ i as u8;
            }
            for b in 0..=255u8 {
                block[(seed as usize + b as usize) % 64] = b;
                if std::is_x86_feature_detected!("avx2") {
                    // SAFETY: AVX2 is present.
                    let vector = unsafe { base64_mask_avx2(&block) };
                    assert_eq!(vector, base64_mask_scalar(&block), "{block:?}");
                }
                if std::is_x86_feature_detected!("avx512bw") {
                    // SAFETY: AVX-512 BW is present.
                    let vector = unsafe { base64_mask_avx512(&block) };
                    assert_eq!(vector, base64_mask_scalar(&block), "{block:?}");
                }
            }
        }
    }

    #[test]
    fn runs_are_found_across_block_edges() {
        let text = STANDARD.encode("token: ghp_Q8k2mX9pL4vR7tY1wE3uI6oP0aS5dF2g and more text");
        for at in 0..140 {
            for pad in [0, 1, 63, 64, 65] {
                let mut data = vec![b' '; at];
                data.extend_from_slice(text.as_bytes());
                data.extend(std::iter::repeat_n(b' ', pad));
                let mut vector = Vec::new();
                base64_spans(&data, &mut vector);
                let mut scalar = Vec::new();
                base64_spans_with(&data, &mut scalar, base64_mask_scalar);
                assert_eq!(vector, scalar);
                #[cfg(target_arch = "x86_64")]
                if std::is_x86_feature_detected!("avx2") {
                    let mut avx2 = Vec::new();
                    // SAFETY: AVX2 is present.
                    unsafe { base64_spans_avx2(&data, &mut avx2) };
                    assert_eq!(avx2, scalar);
                }
                assert_eq!(vector.len(), 1, "{at} {pad}");
                assert_eq!(vector[0].span, at..at + text.len(), "{at} {pad}");
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_spans_are_in_bounds(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
            for d in encoded_spans(&data) {
                proptest::prop_assert!(d.span.start < d.span.end && d.span.end <= data.len());
            }
        }

        #[test]
        fn base64_of_any_printable_text_is_decoded_back(text in "[ -~]{18,120}") {
            let encoded = STANDARD.encode(&text);
            let spans = encoded_spans(format!("x = \"{encoded}\"").as_bytes());
            // Runs that do not mix cases and digits are skipped by design.
            let mixed = encoded.bytes().any(|b| b.is_ascii_uppercase())
                && encoded.bytes().any(|b| b.is_ascii_lowercase())
                && encoded.bytes().any(|b| b.is_ascii_digit());
            if mixed && !encoded.contains(['-', '_']) {
                proptest::prop_assert!(spans.iter().any(|d| d.text == text.as_bytes()), "{:?}", spans);
            }
        }
    }
}
