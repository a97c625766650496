//! Text that came from a server, made safe to print. Till and GitHub answer
//! errors with strings the rotation shows the user (error codes and messages,
//! plain-text bodies, serde's complaints about a body), and a server may echo
//! whatever it was sent: an upstream key, the admin key, the GitHub token.
//! Every such string goes through [`Secrets::clean`]: the run's own secrets
//! are removed, then anything that looks like a key, and only then is the
//! text cut to a printable length (cutting first can leave most of a key
//! that no longer matches in full).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

/// How much of a server's text an error shows, in characters.
pub const MAX_SHOWN: usize = 200;

/// How much of a record's field (an id, a path) a table shows, in
/// characters.
pub const MAX_FIELD: usize = 300;

/// How much of a body is looked at at all: an error never shows more than
/// [`MAX_SHOWN`] characters, so the rest would only cost time.
const MAX_INPUT: usize = 16 * 1024;

const REDACTED: &str = "[redacted]";

/// A token sharing this many characters in a row with a known secret is
/// taken for (a piece of) it.
const WINDOW: usize = 8;

/// Prefixes of well-known key formats; a token that starts with one and has
/// at least [`WINDOW`] more characters is masked.
const KEY_PREFIXES: [&str; 24] = [
    "sk-",
    "sk_",
    "rk_",
    "pk_",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "gsk_",
    "till_sk_",
    "till_admin_",
    "xai-",
    "pplx-",
    "fw_",
    "hf_",
    "r8_",
    "glpat-",
    "xoxb-",
    "xoxp-",
    "AKIA",
    "ASIA",
    "AIza",
];

/// The secrets one rotation knows (upstream keys, the admin key, the GitHub
/// token, the scoped keys minted so far), shared by the clients that talk to
/// servers so that each can scrub what it is answered. Cloning shares the set.
#[derive(Clone, Default)]
pub struct Secrets(Arc<Mutex<Held>>);

#[derive(Default)]
struct Held {
    /// Keys the user holds: upstream keys, the admin key, the token.
    theirs: Vec<String>,
    /// Scoped keys minted in this run.
    minted: Vec<String>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secrets({} held)", self.list().len())
    }
}

impl Secrets {
    pub fn new() -> Secrets {
        Secrets::default()
    }

    /// Remembers a secret of the user's (blank ones are ignored).
    pub fn add(&self, secret: &str) {
        self.push(secret, |h| &mut h.theirs);
    }

    /// Remembers a scoped key minted in this run.
    pub fn add_minted(&self, scoped: &str) {
        self.push(scoped, |h| &mut h.minted);
    }

    fn push(&self, secret: &str, list: impl Fn(&mut Held) -> &mut Vec<String>) {
        let secret = secret.trim();
        if secret.is_empty() {
            return;
        }
        let mut held = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let list = list(&mut held);
        if !list.iter().any(|s| s == secret) {
            list.push(secret.to_string());
        }
    }

    /// Every secret, the minted ones included.
    fn list(&self) -> Vec<String> {
        let held = self.0.lock().unwrap_or_else(|e| e.into_inner());
        held.theirs.iter().chain(&held.minted).cloned().collect()
    }

    /// Text from a server -> one line that is safe to print: see
    /// [`server_text`].
    pub fn clean(&self, text: &str) -> String {
        server_text(text, &self.list(), MAX_SHOWN)
    }

    /// Whether `text` holds one of the user's secrets or a piece of one
    /// (minted keys do not count: a key's id may well be a part of its
    /// scoped key).
    pub fn holds_theirs(&self, text: &str) -> bool {
        let list = self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .theirs
            .clone();
        let windows = windows_of(&list);
        replace_known(text, &list) != text || holds_piece(text, &windows)
    }

    /// A field of a server's record shown in a table (an id, a path, a
    /// date): the known secrets, tokens holding a piece of one and tokens in
    /// a known key format are masked, control characters become spaces, and
    /// the text is cut to [`MAX_FIELD`] characters. Unlike
    /// [`Secrets::clean`], a long random-looking token is kept: ids are
    /// such tokens.
    pub fn clean_field(&self, text: &str) -> String {
        let text = &text[..floor_char_boundary(text, MAX_INPUT)];
        let list = self.list();
        let windows = windows_of(&list);
        let masked = mask_tokens(&replace_known(text, &list), |t| {
            holds_piece(t, &windows) || has_key_prefix(t)
        });
        let mut shown: String = masked
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .take(MAX_FIELD)
            .collect();
        if masked.chars().nth(MAX_FIELD).is_some() {
            shown.push('…');
        }
        shown
    }

    /// Removes the known secrets, and tokens holding a piece of one, from a
    /// message of our own (which may quote a server): nothing else is
    /// masked, and nothing is cut or reflowed.
    pub fn scrub_known(&self, text: &str) -> String {
        let list = self.list();
        let windows = windows_of(&list);
        mask_tokens(&replace_known(text, &list), |t| holds_piece(t, &windows))
    }
}

/// Text from a server -> one printable line: every secret in `secrets` and
/// every token that looks like a key is replaced by `[redacted]`, control
/// characters and runs of white space become one space, and the result is
/// cut to `max_chars` characters. Scrubbing comes first.
pub fn server_text(text: &str, secrets: &[String], max_chars: usize) -> String {
    let text = &text[..floor_char_boundary(text, MAX_INPUT)];
    let windows = windows_of(secrets);
    let masked = mask_tokens(&replace_known(text, secrets), |t| {
        holds_piece(t, &windows) || looks_like_key(t)
    });
    let one_line = masked
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if one_line.is_empty() {
        return "(empty answer)".to_string();
    }
    let mut cut: String = one_line.chars().take(max_chars).collect();
    if cut.len() < one_line.len() {
        cut.push('…');
    }
    cut
}

/// Why a body is not the JSON expected, without quoting the body: serde's
/// own message names the offending value (`invalid type: string "sk-…"`), so
/// only its category, position, the field it was in (when that is one of
/// `fields`, names the caller knows, found in `body` when given) and what
/// was expected are kept.
pub fn json_error(e: &serde_json::Error, body: Option<&str>, fields: &[&str]) -> String {
    use serde_json::error::Category;
    let at = format!("line {}, column {}", e.line(), e.column());
    match e.classify() {
        Category::Io => "the answer could not be read".to_string(),
        Category::Eof if body.is_some_and(|b| b.trim().is_empty()) => {
            "the answer is empty".to_string()
        }
        Category::Eof => format!("the answer is cut short ({at})"),
        Category::Syntax => format!("the answer is not JSON ({at})"),
        Category::Data => {
            let message = e.to_string();
            let field =
                body.and_then(|b| field_before(b, offset_of(b, e.line(), e.column()), fields));
            let what = if let Some(name) = message
                .strip_prefix("missing field `")
                .and_then(|rest| rest.split('`').next())
                .filter(|name| fields.contains(name))
            {
                format!("field `{name}` is missing")
            } else {
                // `expected …` names our own types, never the server's data.
                let expected = message
                    .rsplit_once(", expected ")
                    .map(|(_, tail)| tail)
                    .map(|tail| tail.rsplit_once(" at line ").map_or(tail, |(t, _)| t))
                    .filter(|t| t.len() <= 60 && !t.contains('"'));
                let kind = if message.starts_with("invalid type") {
                    "wrong type"
                } else {
                    "unexpected value"
                };
                let mut what = match field {
                    Some(f) => format!("field `{f}`: {kind}"),
                    None => kind.to_string(),
                };
                if let Some(expected) = expected {
                    what.push_str(&format!(", expected {expected}"));
                }
                what
            };
            format!("the answer is not the expected JSON ({what}; {at})")
        }
    }
}

fn replace_known(text: &str, secrets: &[String]) -> String {
    let mut sorted: Vec<&String> = secrets.iter().filter(|s| s.len() >= 4).collect();
    // Longest first: a secret that contains another is removed whole.
    sorted.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let mut out = text.to_string();
    for s in sorted {
        if out.contains(s.as_str()) {
            out = out.replace(s.as_str(), REDACTED);
        }
    }
    out
}

fn windows_of(secrets: &[String]) -> HashSet<&[u8]> {
    secrets
        .iter()
        .flat_map(|s| s.as_bytes().windows(WINDOW))
        .collect()
}

/// Characters keys are made of (base64, base64url, and the separators of
/// common formats).
fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-_.+/=~".contains(c)
}

/// Replaces every token (a run of [`is_token_char`]s) for which `secret`
/// holds with `[redacted]`; every other character stays as it is.
fn mask_tokens(text: &str, secret: impl Fn(&str) -> bool) -> String {
    let mut masked = String::with_capacity(text.len());
    let mut token = String::new();
    let flush = |token: &mut String, masked: &mut String| {
        if !token.is_empty() {
            masked.push_str(if secret(token) { REDACTED } else { token });
            token.clear();
        }
    };
    for c in text.chars() {
        if is_token_char(c) {
            token.push(c);
        } else {
            flush(&mut token, &mut masked);
            masked.push(c);
        }
    }
    flush(&mut token, &mut masked);
    masked
}

/// Whether `token` shares [`WINDOW`] characters in a row with a secret.
fn holds_piece(token: &str, windows: &HashSet<&[u8]>) -> bool {
    let bytes = token.as_bytes();
    bytes.len() >= WINDOW && bytes.windows(WINDOW).any(|w| windows.contains(w))
}

/// Whether `token` starts with a known key format's prefix and goes on for
/// at least [`WINDOW`] characters.
fn has_key_prefix(token: &str) -> bool {
    // Trailing sentence punctuation is not part of a key.
    let core = token.trim_end_matches(['.', '=', '/']);
    KEY_PREFIXES
        .iter()
        .any(|p| core.starts_with(p) && core.len() >= p.len() + WINDOW)
}

/// A known key format, or long and random-looking.
fn looks_like_key(token: &str) -> bool {
    if has_key_prefix(token) {
        return true;
    }
    let core = token.trim_end_matches(['.', '=', '/']);
    // Long and random-looking: upper and lower case letters and digits.
    core.len() >= 24
        && core.bytes().any(|b| b.is_ascii_uppercase())
        && core.bytes().any(|b| b.is_ascii_lowercase())
        && core.bytes().any(|b| b.is_ascii_digit())
}

fn floor_char_boundary(text: &str, max: usize) -> usize {
    if text.len() <= max {
        return text.len();
    }
    let mut i = max;
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The byte offset of serde_json's 1-based line and column (which points at
/// or just after the offending value).
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let mut offset = 0;
    for (n, l) in text.split_inclusive('\n').enumerate() {
        if n + 1 == line {
            return (offset + column).min(text.len());
        }
        offset += l.len();
    }
    text.len()
}

/// The last member name of `fields` (as `"name":`) before `offset`.
fn field_before<'a>(text: &str, offset: usize, fields: &[&'a str]) -> Option<&'a str> {
    let before = &text[..floor_char_boundary(text, offset)];
    fields
        .iter()
        .filter_map(|f| {
            let quoted = format!("\"{f}\"");
            let mut best = None;
            let mut from = 0;
            while let Some(i) = before[from..].find(&quoted) {
                let at = from + i;
                let after = before[at + quoted.len()..].trim_start();
                if after.starts_with(':') {
                    best = Some(at);
                }
                from = at + quoted.len();
            }
            best.map(|at| (at, *f))
        })
        .max_by_key(|(at, _)| *at)
        .map(|(_, f)| f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_keep_ids_and_paths_but_mask_keys() {
        let secrets = Secrets::new();
        secrets.add("till_admin_0123456789abcdef");
        // A long random-looking id and path stay; `clean` would mask them.
        let id = "key_2Jx9fK3mQ8vR7tY1wE4zAb";
        assert_eq!(secrets.clean_field(id), id);
        assert_eq!(secrets.clean(id), REDACTED);
        let path = "src/Settings2024Production/Config.py";
        assert_eq!(secrets.clean_field(path), path);
        assert_eq!(
            secrets.clean_field("a till_admin_0123456789abcdef b\nc"),
            format!("a {REDACTED} b c")
        );
        assert_eq!(
            secrets.clean_field("till_sk_abcdef0123.4567890abcdef"),
            REDACTED
        );
        let long = "x".repeat(MAX_FIELD + 5);
        assert_eq!(secrets.clean_field(&long).chars().count(), MAX_FIELD + 1);
    }

    const KEY: &str = "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";

    /// No run of 8 characters of `secret` is in `text`.
    fn no_piece_of(secret: &str, text: &str) -> bool {
        secret
            .as_bytes()
            .windows(WINDOW)
            .all(|w| !text.contains(std::str::from_utf8(w).unwrap()))
    }

    #[test]
    fn known_secrets_are_removed_before_the_cut() {
        let body = format!("upstream key {KEY} was rejected");
        let shown = server_text(&body, &[KEY.to_string()], 40);
        assert_eq!(shown, "upstream key [redacted] was rejected");
        // The cut would fall inside the key: scrubbing first leaves none of it.
        let body = format!("{}{KEY}", "x ".repeat(40));
        let shown = server_text(&body, &[KEY.to_string()], MAX_SHOWN);
        assert!(no_piece_of(KEY, &shown), "{shown}");
    }

    #[test]
    fn pieces_of_known_secrets_and_key_shapes_are_masked() {
        let known = [KEY.to_string()];
        for text in [
            &KEY[..30],
            &KEY[20..60],
            "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
            "github_pat_11ABCDEFG0123456789_abcdefghij",
            "gsk_2TqzACMNeetmUoRHUCUVWGdyb3FYp9tQ",
            "till_admin_9fK2mQ7xR4tY8wE1",
            "AKIAVQJXXVBOTHD2WTFL",
            "Zm9vYmFyQmF6MTIzNDU2Nzg5MGFiY2RlZg==",
        ] {
            let shown = server_text(&format!("bad: '{text}'."), &known, MAX_SHOWN);
            assert_eq!(shown, "bad: '[redacted]'.", "{text}");
        }
        // Ordinary words, ids, shas and paths stay readable.
        let plain = "key key_12 not found at /repos/acme/app/pulls (sha 4b825dc642cb6eb9a060e54bf8d69288fbee4904)";
        assert_eq!(server_text(plain, &known, MAX_SHOWN), plain);
    }

    #[test]
    fn our_messages_keep_their_shape_and_lose_the_secrets() {
        let secrets = Secrets::new();
        secrets.add(KEY);
        let text = format!(
            "rotation failed:\n  Till key key_1 could not be revoked ({}…): revoke it yourself",
            &KEY[..40]
        );
        assert_eq!(
            secrets.scrub_known(&text),
            "rotation failed:\n  Till key key_1 could not be revoked ([redacted]…): revoke it yourself"
        );
        // Key-shaped tokens of our own (ids, branch names) are left alone.
        let ours = "branch till-scan/rotate-5f1c09ab, commit 3e9d0c1a7b22, key key_8Qx2Ab9ZzQ1x2Y3zAbCdEfGh";
        assert_eq!(secrets.scrub_known(ours), ours);
    }

    #[test]
    fn server_text_is_one_bounded_line() {
        assert_eq!(server_text(" \n\t", &[], 10), "(empty answer)");
        assert_eq!(server_text("a\r\nb\x1b[31m c", &[], 10), "a b [31m c");
        assert_eq!(server_text("abcdefghijkl", &[], 5), "abcde…");
        let huge = "é".repeat(MAX_INPUT);
        assert!(server_text(&huge, &[], 10).ends_with('…'));
    }

    #[test]
    fn serde_errors_never_quote_the_value() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Key {
            id: String,
            #[serde(rename = "maxActivations")]
            max: u64,
        }
        let fields = ["id", "maxActivations"];
        let body = format!(r#"{{"id": "k", "maxActivations": "{KEY}"}}"#);
        let e = serde_json::from_str::<Key>(&body).unwrap_err();
        let shown = json_error(&e, Some(&body), &fields);
        assert!(no_piece_of(KEY, &shown), "{shown}");
        assert!(
            shown.contains("field `maxActivations`: wrong type, expected u64"),
            "{shown}"
        );
        let body = r#"{"maxActivations": 3}"#;
        let e = serde_json::from_str::<Key>(body).unwrap_err();
        assert!(json_error(&e, Some(body), &fields).contains("field `id` is missing"));
        let body = format!("<html>{KEY}");
        let e = serde_json::from_str::<Key>(&body).unwrap_err();
        assert_eq!(
            json_error(&e, Some(&body), &fields),
            "the answer is not JSON (line 1, column 1)"
        );
        let e = serde_json::from_str::<Key>("").unwrap_err();
        assert_eq!(json_error(&e, Some(""), &fields), "the answer is empty");
    }
}
