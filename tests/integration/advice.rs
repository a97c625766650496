//! Issue 17, item 2: one fix message, right for the finding. Per provider
//! (where to revoke it; `till-scan rotate` only where Till proxies it), per
//! source (files, history, a blocked commit, a dry-run rotation), said once;
//! and the human report shows each secret's line, redacted.

use crate::support::keys::{AWS, AWS_SECRET, GROQ};
use crate::support::project::{Project, Run};

const STRIPE: &str = "sk_live_lqw9ldMn35fneNxHd913gOsmP2a7";
const POSTGRES: &str = "postgres://app_rw:HGxCGBcXoKrRZz@db-7.internal.corp:5432/orders";

fn assert_no_key(r: &Run) {
    for key in [STRIPE, GROQ, AWS_SECRET, "HGxCGBcXoKrRZz"] {
        assert!(
            !r.stdout.contains(key) && !r.stderr.contains(key),
            "{key} shown: {r}"
        );
    }
}

#[test]
fn files_get_a_revoke_link_per_provider_and_rotation_only_where_till_proxies() {
    let p = Project::new();
    p.write(
        "pay.py",
        &format!("import stripe\nstripe.api_key = \"{STRIPE}\"\n"),
    );
    p.write(".env", &format!("DATABASE_URL={POSTGRES}\n"));
    let r = p.run(&["dir", "."]);
    assert_eq!(r.code, 1, "{r}");
    assert_no_key(&r);
    assert!(r.stdout.contains("How to fix:"), "{r}");
    assert!(
        r.stdout
            .contains("- Stripe key in pay.py: revoke it at https://"),
        "{r}"
    );
    assert!(r.stdout.contains("key in .env: revoke it"), "{r}");
    // Neither is a Till provider, and no other provider is named.
    assert!(!r.stdout.contains("till-scan rotate"), "{r}");
    assert!(!r.stdout.contains("OPENAI"), "{r}");
    assert!(
        r.stdout
            .contains("`till-scan baseline`, then commit .till-scan-baseline.json"),
        "{r}"
    );
    // The source line, like grep, with the key redacted.
    assert!(
        r.stdout.contains("| stripe.api_key = \"sk_liv********\""),
        "{r}"
    );
    assert_eq!(r.stdout.matches("How to fix").count(), 1, "{r}");

    // A Groq key: Till proxies it, so rotation is offered, with Groq's page.
    p.write("llm.py", &format!("GROQ_API_KEY = '{GROQ}'\n"));
    let r = p.run(&["dir", "llm.py"]);
    assert!(
        r.stdout
            .contains("- Groq key in llm.py: revoke it at https://console.groq.com/keys"),
        "{r}"
    );
    assert!(r.stdout.contains("`till-scan rotate`"), "{r}");
}

#[test]
fn another_key_on_the_same_line_is_masked_even_without_redaction() {
    let p = Project::new();
    p.write("creds.ini", &format!("keys = {GROQ} {AWS} # both\n"));
    let r = p.run(&["dir", ".", "--no-redact"]);
    // Each finding's own line shows its own key (asked for) and masks the other.
    let groq_line = format!("| keys = {GROQ} ******** # both");
    assert!(r.stdout.contains(&groq_line), "{r}");
    // (60 bytes of context each side: the line's start is cut.)
    let aws_line = format!("| …= ******** {AWS} # both");
    assert!(r.stdout.contains(&aws_line), "{r}");
}

#[test]
fn history_findings_say_revoke_then_baseline_git() {
    let p = Project::new();
    p.git_init("repo");
    p.write("repo/pay.py", &format!("stripe.api_key = \"{STRIPE}\"\n"));
    p.git("repo", &["add", "-A"]);
    p.git_commit("repo", "add stripe");
    std::fs::remove_file(p.path("repo/pay.py")).unwrap();
    p.git("repo", &["add", "-A"]);
    p.git_commit("repo", "remove it");
    let r = p.run_in("repo", &["git", "."], b"");
    assert_eq!(r.code, 1, "{r}");
    assert_no_key(&r);
    assert!(
        r.stdout
            .contains("How to fix (these keys are in past commits):"),
        "{r}"
    );
    assert!(r.stdout.contains("Stripe key in pay.py (commit "), "{r}");
    assert!(
        r.stdout
            .contains("deleting it from the files leaves it in every clone"),
        "{r}"
    );
    assert!(
        r.stdout
            .contains("`till-scan baseline --git`, then commit .till-scan-baseline.json"),
        "{r}"
    );
    assert!(!r.stdout.contains("till-scan rotate"), "{r}");
    assert!(!r.stdout.contains("Remove the key from the file"), "{r}");
    // And the baseline it points at accepts them.
    let b = p.run_in("repo", &["baseline", "--git"], b"");
    assert_eq!(b.code, 0, "{b}");
    assert!(b.stderr.contains("(1 accepted secret)"), "{b}");
    assert!(b.stderr.contains("commit the file"), "{b}");
    let r = p.run_in("repo", &["git", "."], b"");
    assert_eq!(r.code, 0, "{r}");
}

#[test]
fn a_dry_run_rotation_says_when_the_real_run_would_refuse_a_dirty_tree() {
    let p = Project::new();
    p.git_init("repo");
    p.write("repo/llm.py", &format!("GROQ_API_KEY = '{GROQ}'\n"));
    p.git("repo", &["add", "-A"]);
    p.git_commit("repo", "key");
    p.write("repo/notes.txt", "work in progress\n");
    p.git("repo", &["add", "notes.txt"]);
    let r = p.run_in("repo", &["rotate", "--dry-run"], b"");
    assert_eq!(r.code, 0, "{r}");
    assert!(r.stdout.contains("Would rotate 1 key"), "{r}");
    assert!(
        r.stdout.contains(
            "The real run would stop here: the work tree has uncommitted changes (notes.txt)"
        ),
        "{r}"
    );
    let r = p.run_in("repo", &["rotate", "--dry-run", "--allow-dirty"], b"");
    assert!(!r.stdout.contains("would stop"), "{r}");
    assert_no_key(&r);
}
