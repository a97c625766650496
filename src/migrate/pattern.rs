//! A gitleaks rule's Go regex as a till-scan pattern: exactly one capture
//! group, the secret (gitleaks' `secretGroup`, else its first group, else
//! the whole match); keywords from the regex's literal prefixes when the
//! rule lists none; and an example string generated from the regex, for the
//! rule file `migrate` writes (every till-scan rule proves examples).

use regex_syntax::hir::literal::{ExtractKind, Extractor};
use regex_syntax::hir::{Class, Hir, HirKind};

/// Go's RE2 syntax that Rust's `regex` reads differently or not at all, by
/// what the message should say.
const UNSUPPORTED: &[(&str, &str)] = &[
    ("(?=", "lookahead"),
    ("(?!", "negative lookahead"),
    ("(?<=", "lookbehind"),
    ("(?<!", "negative lookbehind"),
    ("\\Q", "\\Q...\\E quoting"),
];

fn parser() -> regex_syntax::Parser {
    regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
}

/// Where each capturing group opens: `(start, len)` of its opener (`(`,
/// `(?P<name>` or `(?<name>`).
fn capture_openers(pattern: &str) -> Vec<(usize, usize)> {
    let b = pattern.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut class_depth = 0usize;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 1,
            b'[' if class_depth == 0 => {
                class_depth = 1;
                // `[]...]` and `[^]...]`: a leading `]` is a literal.
                if b.get(i + 1) == Some(&b'^') {
                    i += 1;
                }
                if b.get(i + 1) == Some(&b']') {
                    i += 1;
                }
            }
            b'[' if b.get(i + 1) == Some(&b':') => {
                // `[:alpha:]` inside a class.
                if let Some(end) = pattern[i..].find(":]") {
                    i += end + 1;
                }
            }
            b'[' => class_depth += 1,
            b']' if class_depth > 0 => class_depth -= 1,
            b'(' if class_depth == 0 => {
                let rest = &pattern[i + 1..];
                if !rest.starts_with('?') {
                    out.push((i, 1));
                } else if let Some(name) = rest.strip_prefix("?P<").or_else(|| {
                    rest.strip_prefix("?<")
                        .filter(|r| !r.starts_with(['=', '!']))
                }) {
                    let prefix = rest.len() - name.len();
                    if let Some(end) = name.find('>') {
                        out.push((i, 1 + prefix + end + 1));
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// The till-scan pattern of a gitleaks `regex` with `secret_group` (0:
/// the first group, else the whole match), or why there is none.
pub fn convert(regex: &str, secret_group: usize) -> Result<String, String> {
    if let Some((_, what)) = UNSUPPORTED.iter().find(|(s, _)| regex.contains(s)) {
        return Err(format!(
            "regex uses {what}, which Rust's regex engine lacks"
        ));
    }
    parser().parse(regex).map_err(|e| {
        format!(
            "regex does not compile in Rust: {}",
            first_line(&e.to_string())
        )
    })?;
    let openers = capture_openers(regex);
    let keep = match (secret_group, openers.len()) {
        (0, 0) => None,
        (0, _) => Some(0),
        (g, n) if g <= n => Some(g - 1),
        (g, n) => return Err(format!("secretGroup {g}, but the regex has {n} groups")),
    };
    let mut out = String::with_capacity(regex.len() + 8);
    let mut at = 0;
    for (i, &(start, len)) in openers.iter().enumerate() {
        out.push_str(&regex[at..start]);
        out.push_str(if Some(i) == keep { "(" } else { "(?:" });
        at = start + len;
    }
    out.push_str(&regex[at..]);
    if keep.is_none() {
        out = format!("({out})");
    }
    let hir = parser().parse(&out).map_err(|e| {
        format!(
            "regex does not compile in Rust: {}",
            first_line(&e.to_string())
        )
    })?;
    if hir.properties().explicit_captures_len() != 1 {
        return Err("could not narrow the regex to one capture group".into());
    }
    regex::bytes::Regex::new(&out).map_err(|e| {
        format!(
            "regex does not compile in Rust: {}",
            first_line(&e.to_string())
        )
    })?;
    Ok(out)
}

fn first_line(s: &str) -> String {
    s.lines()
        .rfind(|l| !l.trim().is_empty())
        .unwrap_or(s)
        .trim()
        .to_string()
}

/// Keywords for a rule that lists none: the literals every match starts
/// (or else ends) with, lower-cased, when there are a few of 2+ bytes.
pub fn literal_keywords(pattern: &str) -> Option<Vec<String>> {
    let hir = parser().parse(pattern).ok()?;
    for kind in [ExtractKind::Prefix, ExtractKind::Suffix] {
        let mut ex = Extractor::new();
        // A class of more than a few bytes ends a literal rather than
        // multiplying it.
        ex.kind(kind).limit_class(4).limit_total(64);
        let seq = ex.extract(&hir);
        let Some(lits) = seq.literals() else {
            continue;
        };
        let mut words: Vec<String> = lits
            .iter()
            .map(|l| String::from_utf8_lossy(l.as_bytes()).to_ascii_lowercase())
            .collect();
        words.sort();
        words.dedup();
        if !words.is_empty() && words.len() <= 16 && words.iter().all(|w| w.trim().len() >= 2) {
            return Some(words);
        }
    }
    None
}

/// A string the pattern matches, built from its syntax: literals as they
/// are, classes by a varied pick of their members (so entropy and the
/// placeholder filter pass), repetitions a little past their minimum.
pub fn example(pattern: &str) -> Option<String> {
    let hir = parser().parse(pattern).ok()?;
    let mut out = Vec::new();
    let mut seed = 0x2545_f491_u32;
    generate(&hir, &mut out, &mut seed)?;
    String::from_utf8(out).ok()
}

fn next(seed: &mut u32) -> u32 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 17;
    *seed ^= *seed << 5;
    *seed
}

fn generate(hir: &Hir, out: &mut Vec<u8>, seed: &mut u32) -> Option<()> {
    if out.len() > 4096 {
        return None;
    }
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => {}
        HirKind::Literal(l) => out.extend_from_slice(&l.0),
        HirKind::Class(class) => {
            let members: Vec<u8> = match class {
                Class::Bytes(c) => c.iter().flat_map(|r| r.start()..=r.end()).collect(),
                Class::Unicode(c) => c
                    .iter()
                    .flat_map(|r| (r.start() as u32)..=(r.end() as u32).min(0x7f))
                    .filter_map(|c| u8::try_from(c).ok())
                    .collect(),
            };
            // Letters and digits first (a class such as `.` or `\S` would
            // otherwise give quotes and brackets), then other visible
            // characters, then a space (`\s`).
            let pick = |keep: fn(&u8) -> bool| -> Vec<u8> {
                members.iter().copied().filter(keep).collect()
            };
            let mut pool = pick(u8::is_ascii_alphanumeric);
            if pool.is_empty() {
                pool = pick(u8::is_ascii_graphic);
            }
            if pool.is_empty() {
                pool = pick(|b| *b == b' ');
            }
            if pool.is_empty() {
                pool = members.iter().copied().take(1).collect();
            }
            if pool.is_empty() {
                return None;
            }
            out.push(pool[next(seed) as usize % pool.len()]);
        }
        HirKind::Repetition(r) => {
            let least = r.min.max(1).min(r.max.unwrap_or(u32::MAX));
            // Text a secret is made of gets length (entropy checks);
            // spaces, quotes and separators the fewest that will do.
            let secret_like = match r.sub.kind() {
                HirKind::Class(Class::Bytes(c)) => c
                    .iter()
                    .any(|r| (r.start()..=r.end()).any(|b| b.is_ascii_alphanumeric())),
                HirKind::Class(Class::Unicode(c)) => c
                    .iter()
                    .any(|r| (r.start()..=r.end()).any(|ch| ch.is_ascii_alphanumeric())),
                _ => false,
            };
            let times = if secret_like && r.max.is_none_or(|m| m >= 16) {
                r.min.max(16)
            } else {
                least
            };
            for _ in 0..times {
                generate(&r.sub, out, seed)?;
            }
        }
        HirKind::Capture(c) => generate(&c.sub, out, seed)?,
        HirKind::Concat(items) => {
            for h in items {
                generate(h, out, seed)?;
            }
        }
        HirKind::Alternation(items) => generate(items.first()?, out, seed)?,
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_group_is_the_only_capture() {
        assert_eq!(
            convert(r"(?i)(acme)(_|-)key\s*=\s*([a-z0-9]{32})", 3).unwrap(),
            r"(?i)(?:acme)(?:_|-)key\s*=\s*([a-z0-9]{32})"
        );
        assert_eq!(convert(r"ab(c)(d)", 0).unwrap(), r"ab(c)(?:d)");
        assert_eq!(convert(r"xy[0-9]{4}", 0).unwrap(), r"(xy[0-9]{4})");
        assert_eq!(convert(r"(?P<k>k)[(]x(?<v>v)", 2).unwrap(), r"(?:k)[(]x(v)");
        assert_eq!(convert(r"[]()]+(a)", 1).unwrap(), r"[]()]+(a)");
        assert!(convert(r"a(?=b)", 0).unwrap_err().contains("lookahead"));
        assert!(convert(r"(a)", 2).unwrap_err().contains("secretGroup 2"));
        assert!(convert(r"a(b", 0).unwrap_err().contains("does not compile"));
    }

    #[test]
    fn keywords_come_from_literal_prefixes() {
        assert_eq!(
            literal_keywords(r"(tok_[a-z]{8})").unwrap(),
            vec!["tok_".to_string()]
        );
        assert_eq!(
            literal_keywords(r"((?:ab|cd)_[0-9]{4})").unwrap(),
            vec!["ab_".to_string(), "cd_".to_string()]
        );
        assert!(literal_keywords(r"([a-z]{8})").is_none());
    }

    #[test]
    fn examples_match_their_pattern() {
        for p in [
            r"(?i)(?:acme)(?:_|-)key\s*=\s*([a-z0-9]{32})",
            r"(tok_[A-Za-z0-9]{20,40})\b",
            r#"acme[_-]?secret["']?\s*[:=]\s*["']?([0-9a-f]{40})"#,
        ] {
            let e = example(p).unwrap();
            assert!(regex::Regex::new(p).unwrap().is_match(&e), "{p}: {e}");
        }
    }
}
