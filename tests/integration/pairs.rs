//! Multi-part credentials (issue 14 item 3): a key ID and its secret key,
//! an account SID and its auth token, a tenant, client ID and client secret
//! are one finding with named parts and one fingerprint, in every report,
//! the baseline and the rotation plan; a lone half that is a secret on its
//! own is still reported under its own rule.

use crate::support::keys::{AWS as AWS_ID, AWS_SECRET};
use crate::support::project::{Project, Run};

fn aws_credentials() -> String {
    format!("[default]\naws_access_key_id = {AWS_ID}\naws_secret_access_key = {AWS_SECRET}\n")
}

fn scan(p: &Project, extra: &[&str]) -> Run {
    let mut args = vec!["dir", ".", "-f", "json"];
    args.extend_from_slice(extra);
    p.run(&args)
}

/// `(rule id, part names)` of every finding of a JSON report.
fn findings(r: &Run) -> Vec<(String, Vec<String>)> {
    let json = r.json();
    assert_eq!(json["version"], 5, "{r}");
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let parts = f
                .get("parts")
                .map(|p| {
                    p.as_array()
                        .unwrap()
                        .iter()
                        .map(|p| p["name"].as_str().unwrap().to_string())
                        .collect()
                })
                .unwrap_or_default();
            (f["rule_id"].as_str().unwrap().to_string(), parts)
        })
        .collect()
}

fn one(rule: &str, parts: &[&str]) -> Vec<(String, Vec<String>)> {
    vec![(
        rule.to_string(),
        parts.iter().map(|p| p.to_string()).collect(),
    )]
}

/// Every built-in multi-part rule: a file with all its parts is one finding
/// of that rule with its named parts, each redacted, and one fingerprint.
#[test]
fn each_multi_part_rule_reports_one_finding_with_named_parts() {
    let cases: [(&str, String, &[&str], &[&str]); 8] = [
        (
            "aws.access-key-pair",
            aws_credentials(),
            &["id", "secret"],
            &[AWS_ID, AWS_SECRET],
        ),
        (
            "twilio.account-credentials",
            "TWILIO_ACCOUNT_SID=ACdc2fb4276fa3e58c2436e24a25809a84\nTWILIO_AUTH_TOKEN=8b6e0375e0c9b2b53d9ae84d453bff2c\n".into(),
            &["account_sid", "auth_token"],
            &["ACdc2fb4276fa3e58c2436e24a25809a84", "8b6e0375e0c9b2b53d9ae84d453bff2c"],
        ),
        (
            "azure.entra-client-credentials",
            "{\n  \"AzureAd\": {\n    \"TenantId\": \"59402904-ba91-40bc-b6da-44fe119a9da5\",\n    \"ClientId\": \"fc74ef7e-9c42-47a9-8ca7-6c55b6a6d65d\",\n    \"ClientSecret\": \"Xk29Q~0RhqLdk9o1qIX0aYZXLayrBQ-eV3QAhNwU\"\n  }\n}\n".into(),
            &["tenant_id", "client_id", "client_secret"],
            &[
                "59402904-ba91-40bc-b6da-44fe119a9da5",
                "fc74ef7e-9c42-47a9-8ca7-6c55b6a6d65d",
                "Xk29Q~0RhqLdk9o1qIX0aYZXLayrBQ-eV3QAhNwU",
            ],
        ),
        (
            "algolia.admin-credentials",
            "ALGOLIA_APP_ID=39XNV2IQ7A\nALGOLIA_ADMIN_KEY=deeb251bed36b4c069a0cfb35ded010d\n".into(),
            &["app_id", "admin_key"],
            &["39XNV2IQ7A", "deeb251bed36b4c069a0cfb35ded010d"],
        ),
        (
            "cloudflare.global-api-key-with-email",
            "CLOUDFLARE_EMAIL=ops@fabrikam.io\nCLOUDFLARE_API_KEY=ab9cf811980468e777e38e9f6fbf6c21aa002\n".into(),
            &["email", "key"],
            &["ops@fabrikam.io", "ab9cf811980468e777e38e9f6fbf6c21aa002"],
        ),
        (
            "datadog.api-and-app-keys",
            "DD_API_KEY=47825fdc5f1dc64a19beebc1c9f5de43\nDD_APP_KEY=4fc83d41bb49b116245e757074540a5aca3847d2\n".into(),
            &["api_key", "app_key"],
            &["47825fdc5f1dc64a19beebc1c9f5de43", "4fc83d41bb49b116245e757074540a5aca3847d2"],
        ),
        (
            "plaid.api-credentials",
            "PLAID_CLIENT_ID=2d5fbd36b245d714bd350784\nPLAID_SECRET=7c4ee6be510dd88a902c87736d41a2\n".into(),
            &["client_id", "secret"],
            &["2d5fbd36b245d714bd350784", "7c4ee6be510dd88a902c87736d41a2"],
        ),
        (
            "okta.api-token-with-org",
            "OKTA_ORG_URL=https://o3smcpmm.okta.com\nOKTA_API_TOKEN=00S4V20wc8o8q_HuxnP0nTijA9ICqiB9TVw9FOFBj-\n".into(),
            &["org", "token"],
            &["o3smcpmm.okta.com", "00S4V20wc8o8q_HuxnP0nTijA9ICqiB9TVw9FOFBj-"],
        ),
    ];
    for (rule, text, names, values) in cases {
        let p = Project::new();
        p.write("config/creds.env", &text);
        let r = scan(&p, &[]);
        assert_eq!(r.code, 1, "{rule}: {r}");
        assert_eq!(findings(&r), one(rule, names), "{rule}: {r}");
        for v in values {
            assert!(!r.stdout.contains(v), "{rule}: {v} unredacted in {r}");
        }
        let json = r.json();
        let f = &json["findings"][0];
        assert_eq!(f["fingerprint"].as_str().unwrap().len(), 32);
        assert_eq!(json["summary"]["distinct_secrets"], 1);
        for (part, v) in f["parts"].as_array().unwrap().iter().zip(values) {
            let line = text[..text.find(v).unwrap()].matches('\n').count() + 1;
            assert_eq!(part["line"].as_u64(), Some(line as u64), "{rule}: {part}");
        }
        let raw = scan(&p, &["--no-redact"]);
        let raw_parts = raw.json()["findings"][0]["parts"].clone();
        for (part, v) in raw_parts.as_array().unwrap().iter().zip(values) {
            assert_eq!(part["secret"], *v, "{rule}");
        }
    }
}

#[test]
fn a_lone_aws_secret_key_is_still_reported_under_its_own_rule() {
    let p = Project::new();
    p.write(
        "deploy.sh",
        &format!("export AWS_SECRET_ACCESS_KEY=\"{AWS_SECRET}\"\n"),
    );
    let r = scan(&p, &[]);
    assert_eq!(r.code, 1, "{r}");
    assert_eq!(findings(&r), one("aws.secret-access-key", &[]));
    assert!(r.json()["findings"][0].get("parts").is_none(), "{r}");
    // A key ID alone is still reported too (as before); a Twilio Account
    // SID alone is an identifier and is not.
    p.write("deploy.sh", &format!("export AWS_ACCESS_KEY_ID={AWS_ID}\n"));
    assert_eq!(findings(&scan(&p, &[])), one("aws.access-key-id", &[]));
    p.write(
        "deploy.sh",
        "TWILIO_ACCOUNT_SID=ACdc2fb4276fa3e58c2436e24a25809a84\n",
    );
    let clean = scan(&p, &[]);
    assert_eq!(clean.code, 0, "{clean}");
}

#[test]
fn halves_far_apart_and_two_pairs_in_one_file() {
    let p = Project::new();
    let other_id = "ASIAHBMUAPTT2ZN5X2PD";
    let other_secret = "xxKhg5QjWV1mKaUyvBPs0jSO2Jkf08MMF1ulMMCw";
    p.write(
        "credentials",
        &format!(
            "{}\n[ci]\naws_secret_access_key = {other_secret}\naws_access_key_id = {other_id}\n",
            aws_credentials()
        ),
    );
    let r = scan(&p, &[]);
    let f = findings(&r);
    assert_eq!(f.len(), 2, "{r}");
    assert!(
        f.iter().all(|(rule, _)| rule == "aws.access-key-pair"),
        "{r}"
    );
    let raw = scan(&p, &["--no-redact"]).json();
    let pairs: Vec<(String, String)> = raw["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let parts = f["parts"].as_array().unwrap();
            (
                parts[0]["secret"].as_str().unwrap().to_string(),
                parts[1]["secret"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        pairs,
        [
            (AWS_ID.to_string(), AWS_SECRET.to_string()),
            (other_id.to_string(), other_secret.to_string())
        ]
    );
    // Pushed six lines apart, the halves are two findings of their own rules.
    p.write(
        "credentials",
        &format!(
            "aws_access_key_id = {AWS_ID}\n{}aws_secret_access_key = {AWS_SECRET}\n",
            "#\n".repeat(5)
        ),
    );
    let mut rules: Vec<String> = findings(&scan(&p, &[])).into_iter().map(|f| f.0).collect();
    rules.sort();
    assert_eq!(rules, ["aws.access-key-id", "aws.secret-access-key"]);
}

#[test]
fn every_format_shows_the_parts_by_name_redacted() {
    let p = Project::new();
    p.write("creds", &aws_credentials());
    let human = p.run(&["dir", ".", "--color", "never"]);
    assert!(human.stdout.contains("aws.access-key-pair"), "{human}");
    assert!(human.stdout.contains("id AKIA****"), "{human}");
    assert!(
        human.stdout.contains("id at 2:21, secret at 3:25"),
        "{human}"
    );
    assert!(human.stdout.contains("secret 4Qhoxh"), "{human}");
    for format in ["human", "sarif", "markdown", "junit", "github"] {
        let r = p.run(&["dir", ".", "-f", format]);
        assert_eq!(r.code, 1, "{format}: {r}");
        assert!(!r.stdout.contains(AWS_ID), "{format}: {r}");
        assert!(!r.stdout.contains(AWS_SECRET), "{format}: {r}");
        let raw = p.run(&["dir", ".", "-f", format, "--no-redact"]);
        assert!(raw.stdout.contains(AWS_ID), "{format}: {raw}");
    }
    let sarif = p.run(&["dir", ".", "-f", "sarif"]).json();
    let result = &sarif["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "aws.access-key-pair");
    assert_eq!(result["properties"]["parts"][0]["name"], "id");
    assert_eq!(result["properties"]["parts"][1]["name"], "secret");
    assert_eq!(result["properties"]["parts"][1]["region"]["startLine"], 3);
}

#[test]
fn a_baseline_of_the_pair_suppresses_it_and_a_new_pair_still_fails() {
    let p = Project::new();
    p.write("creds", &aws_credentials());
    let first = scan(&p, &[]);
    let fingerprint = first.json()["findings"][0]["fingerprint"].clone();
    let b = p.run(&["baseline", "."]);
    assert_eq!(b.code, 0, "{b}");
    let baseline: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.path(".till-scan-baseline.json")).unwrap())
            .unwrap();
    let entries = baseline["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{baseline}");
    assert_eq!(entries[0]["fingerprint"], fingerprint);
    assert_eq!(entries[0]["rule_id"], "aws.access-key-pair");
    let again = scan(&p, &[]);
    assert_eq!(again.code, 0, "{again}");
    assert_eq!(again.json()["summary"]["baselined"], 1);
    // The same key ID with another secret is another pair.
    p.write(
        "creds",
        &aws_credentials().replace(AWS_SECRET, "3XVy27dFanUrOSE62chn4xdeJg1Kza5KxxGWfvma"),
    );
    let other = scan(&p, &[]);
    assert_eq!(
        findings(&other),
        one("aws.access-key-pair", &["id", "secret"])
    );
}

#[test]
fn enabling_only_the_pair_rule_reports_pairs_and_no_lone_key_ids() {
    let p = Project::new();
    p.write(
        ".till-scan.toml",
        "[rules]\nenable = [\"aws.access-key-pair\"]\n",
    );
    p.write("creds", &aws_credentials());
    p.write("lone", &format!("aws_access_key_id = {AWS_ID}\n"));
    let r = scan(&p, &[]);
    assert_eq!(
        findings(&r),
        one("aws.access-key-pair", &["id", "secret"]),
        "{r}"
    );
}

#[test]
fn rules_check_proves_a_user_multi_part_rule_and_names_a_missing_part() {
    let p = Project::new();
    p.write(
        "rules/acme.toml",
        r#"
[[rules]]
id = "acme.key-id"
name = "Acme key ID"
provider = "Acme"
part_only = true
keywords = ["acmeid_"]
pattern = '(acmeid_[a-z0-9]{8})'
examples = ["acmeid_q8k2mx9p"]
negative_examples = ["acmeid_x"]

[[rules]]
id = "acme.key-pair"
name = "Acme key pair"
provider = "Acme"
parts = [{ name = "id", rule = "acme.key-id" }, { name = "secret", rule = "aws.secret-access-key" }]
within_lines = 1
examples = ["acmeid_q8k2mx9p\naws_secret_access_key = 4QhoxhLPAbQcEFUV2fsjGHb6HrlEOS47WgjKCu/0"]
negative_examples = ["acmeid_q8k2mx9p\n\n\naws_secret_access_key = 4QhoxhLPAbQcEFUV2fsjGHb6HrlEOS47WgjKCu/0"]
"#,
    );
    let r = p.run(&["rules", "check", "rules"]);
    assert_eq!(r.code, 0, "{r}");
    assert!(r.stdout.contains("2 passed, 0 failed"), "{r}");
    let missing = p.run(&["rules", "check", "rules", "--no-builtin-rules"]);
    assert_ne!(missing.code, 0, "{missing}");
    assert!(
        missing
            .stderr
            .contains("part `secret` names rule `aws.secret-access-key`, which is not loaded"),
        "{missing}"
    );
}

/// `(rule id, commit summary)` of every finding of a history scan.
fn history(p: &Project) -> Vec<(String, String)> {
    let r = p.run(&["git", "repo", "-f", "json"]);
    assert!(r.code == 0 || r.code == 1, "{r}");
    let mut out: Vec<(String, String)> = r.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["commit_summary"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn history_reports_a_pair_where_its_secret_was_added_and_not_when_it_moves() {
    let p = Project::new();
    p.git_init("repo");
    p.write("repo/creds", &format!("aws_access_key_id = {AWS_ID}\n"));
    p.git_commit("repo", "add key id");
    p.write("repo/creds", &aws_credentials());
    p.git_commit("repo", "add secret");
    // Moved apart by an edit: the same secrets, not new findings.
    p.write(
        "repo/creds",
        &aws_credentials().replace("aws_secret", &format!("{}aws_secret", "#\n".repeat(8))),
    );
    p.git_commit("repo", "move apart");
    assert_eq!(
        history(&p),
        [
            ("aws.access-key-id".to_string(), "add key id".to_string()),
            ("aws.access-key-pair".to_string(), "add secret".to_string()),
        ]
    );
}
