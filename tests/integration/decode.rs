//! Keys hidden in encodings (issue 14 item 1): Kubernetes `Secret` data,
//! Docker config `auth`, HTTP Basic headers, URL-encoded queries and JSON
//! escapes are decoded to `--max-decode-depth` and reported at the encoded
//! text, saying how they were decoded.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::support::keys::{GROQ, OPENAI};
use crate::support::project::{Project, Run};

/// A GitHub classic token with a valid checksum (synthetic).
const GITHUB: &str = "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";

fn scan(p: &Project, extra: &[&str]) -> Run {
    let mut args = vec!["dir", ".", "-f", "json"];
    args.extend_from_slice(extra);
    p.run(&args)
}

fn decoded_findings(r: &Run) -> Vec<(String, u64, Vec<String>)> {
    let json = r.json();
    assert_eq!(json["version"], 5, "{r}");
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let decoded = f["decoded"].as_array().unwrap();
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                decoded
                    .iter()
                    .map(|d| d.as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect()
}

#[test]
fn a_kubernetes_secret_holding_a_base64_key_is_found_at_its_data_line() {
    let p = Project::new();
    p.write(
        "k8s/openai.yaml",
        &format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: openai\ntype: Opaque\ndata:\n  OPENAI_API_KEY: {}\n",
            STANDARD.encode(OPENAI)
        ),
    );
    let r = scan(&p, &[]);
    assert_eq!(r.code, 1, "{r}");
    assert_eq!(
        decoded_findings(&r),
        vec![("openai.project-key".into(), 7, vec!["base64".into()])]
    );
    let human = p.run(&["dir", ".", "--color", "never"]);
    assert!(human.stdout.contains("decoded from base64"), "{human}");
    let sarif = p.run(&["dir", ".", "-f", "sarif"]);
    let result = &sarif.json()["runs"][0]["results"][0];
    assert_eq!(result["properties"]["decoded"][0], "base64", "{sarif}");
    assert!(result["message"]["text"]
        .as_str()
        .unwrap()
        .contains("decoded from base64"));
    let markdown = p.run(&["dir", ".", "-f", "markdown"]);
    assert!(
        markdown.stdout.contains("decoded from base64"),
        "{markdown}"
    );
    // Off, the same file is clean.
    let off = scan(&p, &["--max-decode-depth", "0"]);
    assert_eq!(off.code, 0, "{off}");
}

#[test]
fn a_docker_config_inside_a_secret_is_decoded_two_levels_deep() {
    let p = Project::new();
    let auth = STANDARD.encode(format!("octocat:{GITHUB}"));
    let config = format!("{{\"auths\": {{\"ghcr.io\": {{\"auth\": \"{auth}\"}}}}}}");
    p.write(
        "pull-secret.yaml",
        &format!(
            "kind: Secret\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: {}\n",
            STANDARD.encode(&config)
        ),
    );
    let r = scan(&p, &[]);
    assert_eq!(r.code, 1, "{r}");
    let found = decoded_findings(&r);
    assert!(
        found.contains(&(
            "github.personal-access-token".into(),
            4,
            vec!["base64".into(), "base64".into()]
        )),
        "{found:?}"
    );
    // One level finds the Docker config's credentials but not the token in them.
    let one = decoded_findings(&scan(&p, &["--max-decode-depth", "1"]));
    assert!(
        one.iter().all(|f| f.0 != "github.personal-access-token"),
        "{one:?}"
    );
    // The plain config.json: its `auth` is one level down.
    let q = Project::new();
    q.write(".docker/config.json", &config);
    let found = decoded_findings(&scan(&q, &["--no-ignore"]));
    assert!(
        found.contains(&(
            "github.personal-access-token".into(),
            1,
            vec!["base64".into()]
        )),
        "{found:?}"
    );
}

#[test]
fn basic_auth_headers_url_encoding_and_json_escapes() {
    let p = Project::new();
    let basic = STANDARD.encode(format!("api:{GROQ}"));
    p.write(
        "curl.sh",
        &format!("curl -H 'Authorization: Basic {basic}' https://api.example.com\n"),
    );
    let escaped = GROQ.replace('_', "%5F");
    p.write(
        "hook.txt",
        &format!("https://example.com/hook?next=%2Fv1&groq_token={escaped}\n"),
    );
    let unicode = GROQ.replace('_', "\\u005f");
    p.write(
        "settings.json",
        &format!("{{\n  \"llm\": \"{unicode}\"\n}}\n"),
    );
    let r = scan(&p, &[]);
    assert_eq!(r.code, 1, "{r}");
    let json = r.json();
    let mut by_path: Vec<(String, Vec<String>)> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        // The Basic header is also a credential of its own (its rule reports
        // the encoded text); the Groq key inside it is what this test is about.
        .filter(|f| f["rule_id"] == "groq.api-key")
        .map(|f| {
            (
                f["path"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("./")
                    .to_string(),
                f["decoded"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|d| d.as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect();
    by_path.sort();
    assert_eq!(
        by_path,
        vec![
            ("curl.sh".into(), vec!["base64".into()]),
            ("hook.txt".into(), vec!["percent".into()]),
            ("settings.json".into(), vec!["escape".into()]),
        ],
        "{r}"
    );
    // One key in three places: one finding of it.
    let groq: std::collections::BTreeSet<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == "groq.api-key")
        .map(|f| f["fingerprint"].as_str().unwrap())
        .collect();
    assert_eq!(groq.len(), 1, "{r}");
}

#[test]
fn a_plain_key_is_reported_once_and_as_plain() {
    let p = Project::new();
    p.write("app.env", &format!("GROQ_API_KEY={GROQ}\n"));
    let found = decoded_findings(&scan(&p, &[]));
    assert_eq!(found, vec![("groq.api-key".into(), 1, vec![])]);
}

#[test]
fn a_bad_decode_depth_is_a_clear_error() {
    let p = Project::new();
    let r = p.run(&["dir", ".", "--max-decode-depth", "deep"]);
    assert_eq!(r.code, 2, "{r}");
    assert!(r.stderr.contains("--max-decode-depth"), "{r}");
    p.write(".till-scan.toml", "max_decode_depth = -1\n");
    let r = p.run(&["dir", "."]);
    assert_eq!(r.code, 2, "{r}");
    assert!(r.stderr.contains("max_decode_depth"), "{r}");
}
