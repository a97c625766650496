//! The SARIF 2.1.0 report, for GitHub code scanning and other SARIF viewers:
//! one run, the rules that have findings, one result per occurrence, and scan
//! errors as tool execution notifications.

use std::collections::HashMap;
use std::io::{self, Write};

use serde_json::{json, Map, Value};

use super::{container_label, decoded_note, first_web_reference, member_note, ReportContext};
use crate::finding::Occurrence;
use crate::rules::Rule;

pub const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
pub const SARIF_VERSION: &str = "2.1.0";
/// The key of our fingerprint in `result.partialFingerprints`.
pub const FINGERPRINT_KEY: &str = "tillScanFingerprint/v1";

const HOW_TO_FIX: &str = "Remove the key from the file and load it from the environment (or a secret \
manager) instead, and rotate it: it may already have leaked. If the match is a false positive, add a \
`till-scan:allow` comment on its line. To accept existing findings for now, add them to the baseline \
with `till-scan baseline`.";

/// A rule's name as an identifier-like SARIF `name`: "Acme API key" -> "AcmeAPIKey".
fn pascal_case(name: &str) -> String {
    name.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            let first = chars
                .next()
                .map(|c| c.to_uppercase().collect::<String>())
                .unwrap_or_default();
            first + chars.as_str()
        })
        .collect()
}

/// A path as a SARIF `uri`: forward slashes, percent-encoded where RFC 3986
/// requires it. Relative paths stay relative (viewers resolve them against
/// the repository root); absolute paths become `file://` URIs.
pub fn path_to_uri(path: &str) -> String {
    let path = path.replace('\\', "/");
    let path = path.strip_prefix("./").unwrap_or(&path);
    let bytes = path.as_bytes();
    let drive = bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':';
    let (prefix, rest) = if drive {
        // C:/dir/file -> file:///C:/dir/file
        ("file:///", path)
    } else if path.starts_with('/') {
        ("file://", path)
    } else {
        ("", path)
    };
    let mut out = String::with_capacity(prefix.len() + rest.len());
    out.push_str(prefix);
    for (i, &b) in rest.as_bytes().iter().enumerate() {
        let keep = b.is_ascii_alphanumeric()
            || b"-._~/!$&'()*+,;=@".contains(&b)
            // The drive letter's colon; elsewhere a colon could read as a scheme.
            || (drive && i == 1);
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn rule_descriptor(rule: &Rule) -> Value {
    let (id, name, provider) = (&rule.id, &rule.name, &rule.provider);
    let till_provider = rule.till_provider.as_deref();

    let mut markdown = format!(
        "A hardcoded {provider} credential ({name}) was found in the source.\n\n**How to fix:** {HOW_TO_FIX}\n"
    );
    if !rule.references.is_empty() {
        markdown.push_str("\n**References:**\n\n");
        for r in &rule.references {
            markdown.push_str(&format!("- <{r}>\n"));
        }
    }

    let mut d = Map::new();
    d.insert("id".into(), json!(id));
    d.insert("name".into(), json!(pascal_case(name)));
    d.insert("shortDescription".into(), json!({ "text": name }));
    d.insert(
        "fullDescription".into(),
        json!({ "text": format!("Detects a hardcoded {provider} credential ({name}), rule {id}.") }),
    );
    if let Some(uri) = first_web_reference(rule) {
        d.insert("helpUri".into(), json!(uri));
    }
    d.insert(
        "help".into(),
        json!({ "text": format!("{name} found. {HOW_TO_FIX}"), "markdown": markdown }),
    );
    d.insert(
        "defaultConfiguration".into(),
        json!({ "level": rule.severity.sarif_level() }),
    );
    let mut props = Map::new();
    props.insert("tags".into(), json!(["security", "secret"]));
    // What GitHub code scanning sorts and filters security alerts by.
    props.insert(
        "security-severity".into(),
        json!(rule.severity.security_severity()),
    );
    props.insert("severity".into(), json!(rule.severity.name()));
    props.insert("provider".into(), json!(provider));
    if let Some(t) = till_provider {
        props.insert("tillProvider".into(), json!(t));
    }
    d.insert("properties".into(), Value::Object(props));
    Value::Object(d)
}

/// The region of a result: the secret's lines and columns in a file; for a
/// secret inside an archive member, the archive's first line (the lines of
/// a member are not lines of the archive file, which is what code scanning
/// shows), with the member's own place in the message and properties.
fn region(l: &crate::finding::Location) -> Value {
    if !l.provenance.members().is_empty() {
        return json!({ "startLine": 1 });
    }
    json!({
        "startLine": l.line.max(1),
        "startColumn": l.column.max(1),
        "endLine": l.end_line.max(l.line).max(1),
        "endColumn": l.end_column.max(1),
    })
}

fn result_object(o: &Occurrence<'_>, rule_index: usize, redact: bool) -> Value {
    let (f, l) = (o.finding, o.location);
    let mut text = format!("{} found ({})", f.rule.name, f.shown(redact));
    if let Some(note) = member_note(&l.provenance) {
        text.push_str(&format!(", {note} at line {}, column {}", l.line, l.column));
    }
    if let Some(note) = decoded_note(l) {
        text.push_str(&format!(", {note}"));
    }
    let mut r = json!({
        "ruleId": f.rule.id,
        "ruleIndex": rule_index,
        "level": f.rule.severity.sarif_level(),
        "message": { "text": text },
        "locations": [{
            "physicalLocation": {
                "artifactLocation": { "uri": path_to_uri(&container_label(&l.provenance)) },
                "region": region(l),
            },
        }],
        "partialFingerprints": { FINGERPRINT_KEY: f.fingerprint },
    });
    if let Some(c) = l.provenance.commit() {
        r["properties"] = json!({
            "commit": c.id,
            "authorName": c.author_name,
            "authorEmail": c.author_email,
            "date": c.date,
            "commitSummary": c.summary,
        });
    }
    if !l.decoded.is_empty() {
        let names: Vec<&str> = l.decoded.iter().map(|e| e.name()).collect();
        if r.get("properties").is_none() {
            r["properties"] = json!({});
        }
        r["properties"]["decoded"] = json!(names);
    }
    if let Some(v) = &f.validation {
        if r.get("properties").is_none() {
            r["properties"] = json!({});
        }
        r["properties"]["validation"] = json!({
            "status": v.status.name(),
            "check": v.check,
            "reason": v.reason,
        });
        r["message"]["text"] = json!(format!(
            "{}, validation: {}",
            r["message"]["text"].as_str().unwrap_or(""),
            v.summary()
        ));
    }
    if !f.parts.is_empty() {
        // A multi-part finding: each part by name, redacted like a secret,
        // with its own region (the result's region spans them all).
        let parts: Vec<Value> = f
            .parts
            .iter()
            .zip(&l.parts)
            .map(|(p, at)| {
                json!({
                    "name": p.name,
                    "ruleId": p.rule_id,
                    "secret": p.secret.display(redact),
                    "region": {
                        "startLine": at.line.max(1),
                        "startColumn": at.column.max(1),
                        "endLine": at.end_line.max(at.line).max(1),
                        "endColumn": at.end_column.max(1),
                    },
                })
            })
            .collect();
        if r.get("properties").is_none() {
            r["properties"] = json!({});
        }
        r["properties"]["parts"] = json!(parts);
    }
    let members = l.provenance.members();
    if !members.is_empty() {
        if r.get("properties").is_none() {
            r["properties"] = json!({});
        }
        r["properties"]["memberPath"] = json!(members);
        r["properties"]["memberRegion"] = json!({
            "startLine": l.line.max(1),
            "startColumn": l.column.max(1),
            "endLine": l.end_line.max(l.line).max(1),
            "endColumn": l.end_column.max(1),
        });
    }
    r
}

/// The SARIF log as a JSON value.
pub fn to_value(ctx: &ReportContext<'_>) -> Value {
    let occurrences = ctx.result.occurrences();

    // Rules with findings, in order of first appearance.
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut rules = Vec::new();
    for o in &occurrences {
        let rule = &o.finding.rule;
        if !index.contains_key(rule.id.as_str()) {
            index.insert(&rule.id, rules.len());
            rules.push(rule_descriptor(rule));
        }
    }

    let results: Vec<Value> = occurrences
        .iter()
        .map(|o| result_object(o, index[o.finding.rule.id.as_str()], ctx.redact))
        .collect();

    let notifications: Vec<Value> = ctx
        .result
        .summary
        .errors
        .iter()
        .map(|e| {
            json!({
                "level": "warning",
                "message": { "text": format!("{}: {}", e.path, e.message) },
                "locations": [{
                    "physicalLocation": { "artifactLocation": { "uri": path_to_uri(&e.path) } },
                }],
            })
        })
        .collect();

    json!({
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": {
                "driver": {
                    "name": "till-scan",
                    "version": env!("CARGO_PKG_VERSION"),
                    "informationUri": "https://till.ac",
                    "rules": rules,
                },
            },
            "invocations": [{
                "executionSuccessful": true,
                "toolExecutionNotifications": notifications,
            }],
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    })
}

pub fn write(ctx: &ReportContext<'_>, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &to_value(ctx)).map_err(io::Error::from)?;
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::super::sample::{self, ACME_SECRET, OTHER_SECRET};
    use super::*;

    const SCHEMA: &str = include_str!("../../tests/fixtures/sarif-schema-2.1.0.json");

    fn render(redact: bool) -> Value {
        serde_json::from_str(&sample::render(write, &sample::result(), redact, false)).unwrap()
    }

    fn validator() -> jsonschema::Validator {
        let schema: Value = serde_json::from_str(SCHEMA).unwrap();
        assert_eq!(
            schema["title"],
            "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
        );
        jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .expect("the SARIF schema compiles")
    }

    fn errors(v: &jsonschema::Validator, doc: &Value) -> Vec<String> {
        v.iter_errors(doc)
            .map(|e| format!("{} at {}", e, e.instance_path))
            .collect()
    }

    #[test]
    fn output_is_valid_sarif_2_1_0() {
        let v = validator();
        for redact in [true, false] {
            let doc = render(redact);
            assert_eq!(errors(&v, &doc), Vec::<String>::new());
        }
        let empty: Value =
            serde_json::from_str(&sample::render(write, &sample::empty(), true, false)).unwrap();
        assert_eq!(errors(&v, &empty), Vec::<String>::new());
        assert_eq!(empty["runs"][0]["results"].as_array().unwrap().len(), 0);
    }

    #[test]
    fn a_multi_part_result_is_valid_sarif_with_its_parts_in_properties() {
        let doc: Value = serde_json::from_str(&sample::render(
            write,
            &sample::multi_part_result(),
            true,
            false,
        ))
        .unwrap();
        assert_eq!(errors(&validator(), &doc), Vec::<String>::new());
        let result = &doc["runs"][0]["results"][0];
        let parts = result["properties"]["parts"].as_array().unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0]["name"], "id");
        assert_eq!(parts[1]["ruleId"], "acme.secret");
        assert_eq!(parts[1]["region"]["startLine"], 5);
        assert_eq!(result["partialFingerprints"].as_object().unwrap().len(), 1);
    }

    #[test]
    fn the_schema_rejects_broken_documents() {
        let v = validator();
        let mut doc = render(true);
        doc["version"] = json!("9");
        assert!(!v.is_valid(&doc));

        let mut doc = render(true);
        doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
            json!(0);
        assert!(!v.is_valid(&doc));

        let mut doc = render(true);
        doc["runs"][0]["results"][0]["level"] = json!("fatal");
        assert!(!v.is_valid(&doc));

        let mut doc = render(true);
        doc["runs"][0]["tool"]["driver"]["unknownProperty"] = json!(1);
        assert!(!v.is_valid(&doc));
    }

    #[test]
    fn results_and_rules() {
        let doc = render(true);
        assert_eq!(doc["$schema"], SARIF_SCHEMA);
        assert_eq!(doc["version"], "2.1.0");
        let run = &doc["runs"][0];
        assert_eq!(run["columnKind"], "unicodeCodePoints");
        let driver = &run["tool"]["driver"];
        assert_eq!(driver["name"], "till-scan");
        assert_eq!(driver["informationUri"], "https://till.ac");

        // Only the rules with findings; "unused.key" is not listed.
        let rules = driver["rules"].as_array().unwrap();
        assert_eq!(rules.len(), 2);
        let acme = rules
            .iter()
            .position(|r| r["id"] == "acme.api-key")
            .unwrap();
        let other = rules.iter().position(|r| r["id"] == "other.token").unwrap();
        assert_eq!(rules[acme]["name"], "AcmeAPIKey");
        assert_eq!(rules[acme]["helpUri"], "https://acme.example/docs/keys");
        assert!(rules[other].get("helpUri").is_none());
        assert_eq!(rules[acme]["defaultConfiguration"]["level"], "error");
        assert_eq!(
            rules[acme]["properties"]["tags"],
            json!(["security", "secret"])
        );
        assert!(rules[acme]["help"]["text"]
            .as_str()
            .unwrap()
            .contains("till-scan:allow"));

        let results = run["results"].as_array().unwrap();
        assert_eq!(results.len(), 3);
        for r in results {
            let i = r["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[i]["id"], r["ruleId"]);
            assert_eq!(r["level"], "error");
            assert_eq!(
                r["partialFingerprints"][FINGERPRINT_KEY]
                    .as_str()
                    .unwrap()
                    .len(),
                32
            );
        }
        let first = &results[0];
        assert_eq!(
            first["message"]["text"],
            "Acme API key found (acme********)"
        );
        let loc = &first["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "app/main.py");
        assert_eq!(
            loc["region"],
            json!({"startLine": 3, "startColumn": 11, "endLine": 3, "endColumn": 32})
        );
        assert!(first.get("properties").is_none());

        let history = results
            .iter()
            .find(|r| r["ruleId"] == "other.token")
            .unwrap();
        assert_eq!(
            history["properties"]["commit"],
            "0123456789abcdef0123456789abcdef01234567"
        );
        assert_eq!(history["properties"]["authorEmail"], "ada@example.com");

        let notes = run["invocations"][0]["toolExecutionNotifications"]
            .as_array()
            .unwrap();
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0]["level"], "warning");
    }

    #[test]
    fn uris_are_encoded() {
        let doc = render(true);
        let uris: Vec<&str> = doc["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    .as_str()
                    .unwrap()
            })
            .collect();
        assert!(uris.contains(&"conf%20dir/we,ird%3A100%25.env"));
        assert_eq!(path_to_uri("dir\\sub\\a b.txt"), "dir/sub/a%20b.txt");
        assert_eq!(path_to_uri("./x/é#?.py"), "x/%C3%A9%23%3F.py");
        assert_eq!(path_to_uri("/home/u/a b"), "file:///home/u/a%20b");
        assert_eq!(path_to_uri("C:\\src\\a.py"), "file:///C:/src/a.py");
    }

    #[test]
    fn redacts_unless_asked_not_to() {
        let text = sample::render(write, &sample::result(), true, false);
        assert!(!text.contains(ACME_SECRET));
        assert!(!text.contains(OTHER_SECRET));
        let raw = sample::render(write, &sample::result(), false, false);
        assert!(raw.contains(&format!("Acme API key found ({ACME_SECRET})")));
        assert!(raw.contains(OTHER_SECRET));
    }

    #[test]
    fn pascal_case_names() {
        assert_eq!(pascal_case("Acme API key"), "AcmeAPIKey");
        assert_eq!(pascal_case("openai project-key (v2)"), "OpenaiProjectKeyV2");
    }
}
