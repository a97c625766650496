//! Rule patterns: the `{{name}}` templates they may use, and how a pattern
//! is compiled (bytes, ASCII classes, size limits) the way the matcher runs it.

// The pieces of `{{near}}`, as macros so that `concat!` can join them into
// one `&'static str`.

/// The rest of the identifier that holds the provider word:
/// `mistral_api_key`, `MISTRAL.API.KEY`, `MistralClient`, `mistral-key`.
macro_rules! ident_rest {
    () => {
        r#"[\w.\-(]{0,40}?"#
    };
}

/// What may close a name before its separator: quotes (also JSON-escaped,
/// `\"`, as in notebook cells), `]` (`os.environ["X"]`, `[section]`), `)`.
macro_rules! closers {
    () => {
        r#"(?:\\?["'`]|[\]\)]){0,2}"#
    };
}

/// One step down a structure to the field that holds the value:
/// - a nested YAML / JSON / TOML / INI level (`mistral:\n  api_key:`,
///   `"mistral": {"apiKey":`, `[mistral]\napi_key =`), possibly past up to
///   three sibling lines (`model: …`) when the field is named like a secret;
/// - a Kubernetes `env:` entry (`- name: MISTRAL_API_KEY\n  value: …`).
macro_rules! hop {
    () => {
        concat!(
            r#"(?:(?:\\?["'`])?[ \t]*(?:\]|[:=][ \t]*\{?|\{)[ \t]*(?:\r?\n[ \t]*(?:-[ \t]*)?)?"#,
            r#"(?:[ \t]*[\w.\-"']+[ \t]*[:=][^\r\n]*\r?\n[ \t]*){0,3}?"#,
            r#"(?:<|\\?["'])?[\w.\-]{0,40}?"#,
            closers!(),
            r#"|[ \t]*\r?\n[ \t]*value"#,
            r#")"#
        )
    };
}

/// The separator between a name and its value: assignments (`=`, `:`, `=>`,
/// `:=`, `?=`, `+=`, `||=`, `??=`, typed ones such as `: &str =` and
/// `string =`), list and tuple commas (SQL, `define('X', …)`), `>` of an XML
/// element, whitespace (`#define X "…"`, `ENV X …`, `key="X" value="…"`), the
/// first argument of a call (`MistralClient("…")`), a bearer token later on
/// the same line (`api.mistral.ai … Authorization: Bearer …`), and a URL query
/// parameter after the provider's host (`mistral.ai/v1/x?api_key=…`).
macro_rules! separator {
    () => {
        concat!(
            r#"(?:"#,
            r#"[ \t]*(?:(?::[ \t]*&?(?:'static[ \t]+)?|[ \t]+)[A-Za-z][\w:<>\[\]]*[ \t]*)?"#,
            r#"(?:=>|:=|[?+|!]=|\?\?=|\|\|=|[=:,>])[ \t]*(?:\r?\n[ \t]*)?"#,
            r#"|[ \t]+(?:value[ \t]*=[ \t]*)?"#,
            r#"|\([ \t]*"#,
            r#"|[^\r\n]*?\b(?:bearer|token)[ \t]+"#,
            r#"|[\w.\-/]*?\?(?:[\w\-]+=[^&\s"'<>]*&){0,4}"#,
            r#"[\w\-]*?(?:key|token|secret|auth|access)[\w\-]*?="#,
            r#")"#
        )
    };
}

/// How a value opens: a quote (also `\"`), a wrapper call
/// (`SecretStr("…")`), a `Bearer ` scheme.
macro_rules! value_open {
    () => {
        r#"(?:\\?["'`])?(?:[\w.]{1,30}\(\\?["'`]?)?(?:bearer[ \t]+)?"#
    };
}

/// Regex fragments that rule patterns may use as `{{name}}`, so that every
/// "provider name near a value" rule recognises the same assignment shapes.
pub const TEMPLATES: &[(&str, &str)] = &[
    // From a provider word (already matched) to the first character of its
    // value, in every shape people store a key in: assignments in any
    // language, .env, INI and .properties, YAML/JSON/TOML (one level down),
    // XML attributes and elements, `#define`, SQL tuples, Makefile variables,
    // shell exports, keyword and positional arguments, HTTP headers, URL
    // query parameters, notebook cells (JSON-escaped), Kubernetes `env:`.
    (
        "near",
        concat!(
            ident_rest!(),
            r#"(?:"#,
            hop!(),
            r#")?"#,
            closers!(),
            separator!(),
            value_open!()
        ),
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
    compile_hir(&parse_pattern(pattern)?)
}

/// Parses a rule pattern with the settings [`compile_pattern`] uses, for
/// callers that read the pattern's structure and compile it too (one parse
/// instead of two: a `{{near}}` pattern takes about as long to parse as to
/// compile).
pub fn parse_pattern(pattern: &str) -> Result<regex_syntax::hir::Hir, String> {
    regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(pattern)
        .map_err(|e| e.to_string())
}

/// [`compile_pattern`] of a parsed pattern.
pub fn compile_hir(hir: &regex_syntax::hir::Hir) -> Result<regex_automata::meta::Regex, String> {
    builder(regex_automata::nfa::thompson::WhichCaptures::All)
        .build_from_hir(hir)
        .map_err(|e| build_error(&e))
}

/// Like [`compile_pattern`], for a regex only ever asked where a match ends
/// (no capture groups).
pub fn compile_test(pattern: &str) -> Result<regex_automata::meta::Regex, String> {
    builder(regex_automata::nfa::thompson::WhichCaptures::Implicit)
        .build(pattern)
        .map_err(|e| build_error(&e))
}

fn builder(
    captures: regex_automata::nfa::thompson::WhichCaptures,
) -> regex_automata::meta::Builder {
    use regex_automata::{meta, util::syntax, MatchKind};
    // The settings of `regex::bytes::RegexBuilder` with `unicode(false)` and
    // a 64 MiB size limit; meta regexes let each worker keep its own caches.
    // No literal prefilter: a rule searches only windows around a keyword
    // hit, where a prefilter finds nothing the keyword pass has not, and
    // building one costs more than the rest of a small regex (`(?i)mistral`
    // has 128 case variants to put in a Teddy searcher).
    let mut builder = meta::Builder::new();
    builder
        .syntax(syntax::Config::new().unicode(false).utf8(false))
        .configure(
            meta::Config::new()
                .match_kind(MatchKind::LeftmostFirst)
                .utf8_empty(false)
                .auto_prefilter(false)
                .nfa_size_limit(Some(64 << 20))
                .hybrid_cache_capacity(2 << 20)
                .which_captures(captures),
        );
    builder
}

fn build_error(e: &regex_automata::meta::BuildError) -> String {
    match (e.syntax_error(), e.size_limit()) {
        (Some(syntax), _) => syntax.to_string(),
        (None, Some(limit)) => format!("compiled regex exceeds the size limit of {limit} bytes"),
        (None, None) => e.to_string(),
    }
}

/// True when an allowlist regex matches the empty string at the start of
/// any text, so that it matches (and allows) every secret. `^$` matches the
/// empty string too but nothing else, and is left alone.
pub fn matches_everything(re: &regex::bytes::Regex) -> bool {
    re.is_match(b"") && re.is_match(b"sk-Proj_0/9+Z=.x")
}
