//! Rule patterns: the `{{name}}` templates they may use, and how a pattern
//! is compiled (bytes, ASCII classes, size limits) the way the matcher runs it.

/// Regex fragments that rule patterns may use as `{{name}}`, so that every
/// "provider name near a value" rule recognises the same assignment shapes.
pub const TEMPLATES: &[(&str, &str)] = &[
    // From a provider word (already matched) to the first character of its value:
    // the rest of an identifier (`mistral_api_key`, `MISTRAL.KEY`), one nested
    // YAML level (`mistral:\n  api_key:`), then an assignment in any of the
    // shapes of .env, YAML, JSON, XML attributes and elements, `#define`, SQL
    // tuples, shell exports, keyword arguments and code assignments.
    (
        "near",
        r#"[\w.\-(]{0,40}?(?::[ \t]*\r?\n[ \t]+[\w.\-]{0,40}?)?(?:["'`\]\)]{0,2}[ \t]*(?:=>|:=|\|\|=|\?\?=|[=:,>])[ \t]*(?:\r?\n[ \t]*)?(?:["'`]|[\w.]{1,30}\(["'`]?)?|["'`]?[ \t]+(?:value[ \t]*=[ \t]*)?["'`]?)"#,
    ),
];

/// Replaces `{{name}}` with the template of that name.
pub fn expand_templates(pattern: &str) -> Result<String, String> {
    let mut out = String::with_capacity(pattern.len() + 128);
    let mut rest = pattern;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| "unclosed `{{` in pattern".to_string())?;
        let name = after[..end].trim();
        let body = TEMPLATES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, b)| *b)
            .ok_or_else(|| {
                let known: Vec<_> = TEMPLATES.iter().map(|(n, _)| *n).collect();
                format!(
                    "unknown template `{{{{{name}}}}}` (known: {})",
                    known.join(", ")
                )
            })?;
        out.push_str("(?:");
        out.push_str(body);
        out.push(')');
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Compiles a rule pattern the way the matcher runs it: on bytes, with
/// ASCII-only classes (`\w`, `(?i)`): secrets are ASCII, and Unicode tables
/// would cost a hundredfold in compile time and memory.
pub fn compile_pattern(pattern: &str) -> Result<regex_automata::meta::Regex, String> {
    compile_with(pattern, regex_automata::nfa::thompson::WhichCaptures::All)
}

/// Like [`compile_pattern`], for a regex only ever asked where a match ends
/// (no capture groups).
pub fn compile_test(pattern: &str) -> Result<regex_automata::meta::Regex, String> {
    compile_with(
        pattern,
        regex_automata::nfa::thompson::WhichCaptures::Implicit,
    )
}

fn compile_with(
    pattern: &str,
    captures: regex_automata::nfa::thompson::WhichCaptures,
) -> Result<regex_automata::meta::Regex, String> {
    use regex_automata::{meta, util::syntax, MatchKind};
    // The settings of `regex::bytes::RegexBuilder` with `unicode(false)` and
    // a 64 MiB size limit; meta regexes let each worker keep its own caches.
    meta::Builder::new()
        .syntax(syntax::Config::new().unicode(false).utf8(false))
        .configure(
            meta::Config::new()
                .match_kind(MatchKind::LeftmostFirst)
                .utf8_empty(false)
                .nfa_size_limit(Some(64 << 20))
                .hybrid_cache_capacity(2 << 20)
                .which_captures(captures),
        )
        .build(pattern)
        .map_err(|e| match (e.syntax_error(), e.size_limit()) {
            (Some(syntax), _) => syntax.to_string(),
            (None, Some(limit)) => {
                format!("compiled regex exceeds the size limit of {limit} bytes")
            }
            (None, None) => e.to_string(),
        })
}

/// True when an allowlist regex matches the empty string at the start of
/// any text, so that it matches (and allows) every secret. `^$` matches the
/// empty string too but nothing else, and is left alone.
pub fn matches_everything(re: &regex::bytes::Regex) -> bool {
    re.is_match(b"") && re.is_match(b"sk-Proj_0/9+Z=.x")
}
