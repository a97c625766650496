//! Checks on a captured secret that a regex cannot express: entropy, the
//! placeholders that documentation and templates are full of, and checksums.

use base64::Engine;

use crate::rules::Validator;

/// Shannon entropy of `bytes`, in bits per byte.
pub fn shannon_entropy(bytes: &[u8]) -> f64 {
    if bytes.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in bytes {
        counts[b as usize] += 1;
    }
    let len = bytes.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / len;
            -p * p.log2()
        })
        .sum()
}

/// Substrings (lower case) that mark a value as a placeholder, not a key.
const PLACEHOLDER_WORDS: &[&str] = &[
    "xxxx",
    "****",
    "...",
    "…",
    "<",
    ">",
    "${",
    "{{",
    "%(",
    "example",
    "placeholder",
    "your_",
    "your-",
    "yourkey",
    "your.key",
    "redacted",
    "dummy",
    "changeme",
    "sample",
    "fake",
];

/// Values that vendors publish in their own documentation and that are
/// therefore copied into countless tutorials, tests and READMEs. They are
/// matched as substrings, case-sensitively (AWS's documentation pair carries
/// `EXAMPLE` and is caught by [`PLACEHOLDER_WORDS`]).
const DOCUMENTATION_VALUES: &[&str] = &[
    // Stripe's API reference and quick starts (test mode).
    "4eC39HqLyjWDarjtT1zdp7dc",
    "TYooMQauvdEDq54NiTphI7jx",
    "BQokikJOvBiI2HlWgH4olfQ2",
    "26PHem9AhJZvU623DfE1x4sd",
    // Slack's token documentation.
    "pdFZKVeTuE8sk7oOcBrzbqgy",
    // GitHub's documentation of personal access tokens.
    "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
    // The token jwt.io shows by default (its signature).
    "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
];

/// Runs that betray a made-up value.
const SEQUENCES: &[&str] = &["abcdefgh", "12345678", "23456789", "987654321", "qwertyui"];

/// Longest run of one repeated byte that still looks random.
const MAX_REPEAT_RUN: usize = 5;

/// Placeholder words checked in long secrets (key blocks): only those that
/// random base64 of a few KiB will not contain by chance.
const LONG_PLACEHOLDER_WORDS: &[&str] = &[
    "...",
    "…",
    "<",
    ">",
    "${",
    "{{",
    "example",
    "placeholder",
    "redacted",
];

/// Secrets longer than this (PEM and other key blocks) get only the
/// [`LONG_PLACEHOLDER_WORDS`] check: a few KiB of random base64 contain short
/// words and repeated runs (`AAAAAAAA` in every OpenSSH header) by chance.
const LONG_SECRET: usize = 200;

/// True when `secret` looks like a documentation or template value.
pub fn is_placeholder(secret: &[u8]) -> bool {
    if DOCUMENTATION_VALUES
        .iter()
        .any(|v| memchr::memmem::find(secret, v.as_bytes()).is_some())
    {
        return true;
    }
    let lower = secret.to_ascii_lowercase();
    let contains = |needle: &str| memchr::memmem::find(&lower, needle.as_bytes()).is_some();
    if secret.len() > LONG_SECRET {
        return LONG_PLACEHOLDER_WORDS.iter().any(|w| contains(w));
    }
    if PLACEHOLDER_WORDS.iter().any(|w| contains(w)) || SEQUENCES.iter().any(|w| contains(w)) {
        return true;
    }
    let mut run = 1;
    for pair in secret.windows(2) {
        if pair[0] == pair[1] {
            run += 1;
            if run > MAX_REPEAT_RUN {
                return true;
            }
        } else {
            run = 1;
        }
    }
    false
}

/// Runs a rule's validator on a captured secret.
pub fn validate(validator: Validator, secret: &[u8]) -> bool {
    match validator {
        Validator::Base62Crc32 => base62_crc32_ok(secret),
        Validator::Jwt => jwt_ok(secret),
    }
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Encodes `n` in base62, left-padded with `0` to `width` characters.
pub fn base62(mut n: u32, width: usize) -> String {
    let mut digits = Vec::with_capacity(width);
    while n > 0 {
        digits.push(BASE62[(n % 62) as usize]);
        n /= 62;
    }
    while digits.len() < width {
        digits.push(b'0');
    }
    digits.reverse();
    String::from_utf8(digits).unwrap_or_default()
}

/// GitHub/npm tokens: `prefix_` + random part + 6-char base62 CRC32 of the random part.
fn base62_crc32_ok(token: &[u8]) -> bool {
    let Some(us) = token.iter().position(|&b| b == b'_') else {
        return false;
    };
    let body = &token[us + 1..];
    if body.len() <= 6 {
        return false;
    }
    let (random, checksum) = body.split_at(body.len() - 6);
    base62(crc32fast::hash(random), 6).as_bytes() == checksum
}

/// A JWT: three base64url parts; header and payload are JSON objects, header has `alg`.
fn jwt_ok(token: &[u8]) -> bool {
    let mut parts = token.split(|&b| b == b'.');
    let (Some(header), Some(payload), Some(_sig)) = (parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let decode = |part: &[u8]| -> Option<serde_json::Map<String, serde_json::Value>> {
        let trimmed: Vec<u8> = part.iter().copied().filter(|&b| b != b'=').collect();
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(trimmed)
            .ok()?;
        match serde_json::from_slice(&bytes).ok()? {
            serde_json::Value::Object(map) => Some(map),
            _ => None,
        }
    };
    match (decode(header), decode(payload)) {
        (Some(h), Some(_)) => h.contains_key("alg"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_of_uniform_and_constant_strings() {
        assert_eq!(shannon_entropy(b"aaaa"), 0.0);
        assert!((shannon_entropy(b"abcd") - 2.0).abs() < 1e-9);
        assert!(shannon_entropy(b"Q8k2mX9pL4vR7tY1wE3uI6oP0aS5dF2g") > 4.5);
    }

    #[test]
    fn placeholders_are_recognised() {
        for p in [
            "sk-xxxxxxxxxxxxxxxxxxxx",
            "YOUR_API_KEY",
            "<token>",
            "${OPENAI_API_KEY}",
            "AKIAIOSFODNN7EXAMPLE",
            "sk-proj-aaaaaaaaaaaaaaaa",
            "ghp_abcdefghijklmnop",
            "****************",
            "sk-...",
            "{{ secrets.KEY }}",
            "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
            "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy",
        ] {
            assert!(is_placeholder(p.as_bytes()), "{p}");
        }
    }

    #[test]
    fn long_key_blocks_only_fail_on_unambiguous_placeholders() {
        let mut block =
            "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtz".to_string();
        block.push_str(&"Q8k2mX9pL4vR7tYfake1wE3uI6oP0aS5dF2gxxxx".repeat(6));
        assert!(!is_placeholder(block.as_bytes()));
        block.push_str("...");
        assert!(is_placeholder(block.as_bytes()));
    }

    #[test]
    fn random_keys_are_not_placeholders() {
        for k in [
            "Q8k2mX9pL4vR7tY1wE3uI6oP0aS5dF2g",
            "sk-proj-Zq81LmN0pWx3Tt7vYb2c",
            "AKIAZ7Q3M5TL2WXKD4HP", // till-scan:allow (test data)
        ] {
            assert!(!is_placeholder(k.as_bytes()), "{k}");
        }
    }

    #[test]
    fn base62_crc32_accepts_valid_and_rejects_tampered_tokens() {
        let random = "zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ";
        let token = format!(
            "ghp_{random}{}",
            base62(crc32fast::hash(random.as_bytes()), 6)
        );
        assert!(validate(Validator::Base62Crc32, token.as_bytes()));
        let mut tampered = token.clone().into_bytes();
        tampered[6] = if tampered[6] == b'a' { b'b' } else { b'a' };
        assert!(!validate(Validator::Base62Crc32, &tampered));
        assert!(!validate(Validator::Base62Crc32, b"ghp_short"));
    }

    #[test]
    fn jwt_needs_json_header_with_alg() {
        let good = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"; // till-scan:allow (test data)
        assert!(validate(Validator::Jwt, good.as_bytes()));
        assert!(!validate(Validator::Jwt, b"eyJub3Rqc29u.eyJhIjoxfQ.sig"));
        assert!(!validate(Validator::Jwt, b"eyJhIjoxfQ.eyJhIjoxfQ"));
    }
}
