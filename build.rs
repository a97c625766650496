//! Embeds every `rules/<group>/*.toml` file in the binary, in path order, so
//! the built-in rules go through the same loader as user rules. The group
//! folder is part of the embedded name (`cloud/aws.toml`), which is how
//! `rules list --group` knows where a rule sits in the catalogue.
//!
//! A second copy of each file, with its `examples` and `negative_examples`
//! emptied (line numbers kept), is what scans load: those arrays are more
//! than half of the rule text, only `rules check` and the tests read them,
//! and parsing them took half of a commit hook's start-up.
use std::{env, fs, path::Path};

fn main() {
    println!("cargo:rerun-if-changed=rules");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    let mut files = Vec::new();
    for entry in fs::read_dir(&root).expect("rules/ directory").flatten() {
        let group = entry.path();
        // `rules/tools/` holds scripts, not rules.
        if !group.is_dir() || entry.file_name() == "tools" {
            continue;
        }
        println!("cargo:rerun-if-changed={}", group.display());
        for file in fs::read_dir(&group)
            .expect("rule group directory")
            .flatten()
        {
            let path = file.path();
            if path.extension().is_some_and(|x| x == "toml") {
                files.push(path);
            }
        }
    }
    files.sort();
    let out_dir = Path::new(&env::var("OUT_DIR").unwrap()).to_path_buf();
    let mut out = String::from("&[\n");
    let mut scan = String::from("&[\n");
    for (i, f) in files.iter().enumerate() {
        println!("cargo:rerun-if-changed={}", f.display());
        let name = f.strip_prefix(&root).unwrap().to_string_lossy();
        out.push_str(&format!(
            "    ({name:?}, include_str!({:?})),\n",
            f.display().to_string()
        ));
        let text = fs::read_to_string(f).expect("rule file");
        let stripped = out_dir.join(format!("scan_rules_{i}.toml"));
        fs::write(&stripped, without_examples(&name, &text)).unwrap();
        scan.push_str(&format!(
            "    ({name:?}, include_str!({:?})),\n",
            stripped.display().to_string()
        ));
    }
    out.push(']');
    scan.push(']');
    fs::write(out_dir.join("builtin_rules.rs"), out).unwrap();
    fs::write(out_dir.join("builtin_scan_rules.rs"), scan).unwrap();
}

/// `text` with the value of every rule's `examples` and
/// `negative_examples` replaced by `[]` and as many newlines as it spanned,
/// so that every other line keeps its number. A file that does not parse is
/// left whole: the loader reports it (and the test suite fails on it).
fn without_examples(name: &str, text: &str) -> String {
    use toml::de::{DeTable, DeValue};
    let Ok(doc) = DeTable::parse(text) else {
        return text.to_string();
    };
    let mut spans = Vec::new();
    if let Some(rules) = doc.get_ref().get("rules") {
        if let DeValue::Array(rules) = rules.get_ref() {
            for rule in rules.iter() {
                if let DeValue::Table(rule) = rule.get_ref() {
                    for (key, value) in rule.iter() {
                        let key: &str = key.get_ref();
                        if key == "examples" || key == "negative_examples" {
                            spans.push(value.span());
                        }
                    }
                }
            }
        }
    }
    spans.sort_by_key(|s| s.start);
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for span in spans {
        let value = &text[span.clone()];
        assert!(
            value.starts_with('[') && value.ends_with(']'),
            "{name}: `examples` value at byte {} is not an array",
            span.start
        );
        out.push_str(&text[at..span.start]);
        out.push_str("[]");
        out.extend(std::iter::repeat_n('\n', value.matches('\n').count()));
        at = span.end;
    }
    out.push_str(&text[at..]);
    out
}
