//! Embeds every `rules/<group>/*.toml` file in the binary, in path order, so
//! the built-in rules go through the same loader as user rules. The group
//! folder is part of the embedded name (`cloud/aws.toml`), which is how
//! `rules list --group` knows where a rule sits in the catalogue.
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
    let mut out = String::from("&[\n");
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let name = f.strip_prefix(&root).unwrap().to_string_lossy();
        out.push_str(&format!(
            "    ({name:?}, include_str!({:?})),\n",
            f.display().to_string()
        ));
    }
    out.push(']');
    fs::write(
        Path::new(&env::var("OUT_DIR").unwrap()).join("builtin_rules.rs"),
        out,
    )
    .unwrap();
}
