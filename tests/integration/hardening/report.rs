//! Hardening regressions: what reports may print and where they may go.

use crate::support::*;

use crate::support::keys::K1 as KEY;

#[test]
fn github_format_never_passes_escape_sequences_to_the_log() {
    let p = Project::new();
    // A file name and a commit message carrying terminal escapes and a
    // forged workflow command.
    let name = "evil\x1b[2Jname\x07.env";
    p.git_init("r");
    p.write(&format!("r/{name}"), &format!("GROQ_API_KEY={KEY}\n"));
    p.git_commit("r", "msg \x1b]0;pwned\x07\n::error::forged");
    for args in [&["git", "-f", "github"][..], &["dir", "-f", "github"][..]] {
        let run = p.run_in_within("r", args, b"", std::time::Duration::from_secs(60));
        assert_eq!(run.code, 1, "{args:?}: {run}");
        assert!(
            !run.stdout.contains('\x1b') && !run.stdout.contains('\x07'),
            "{args:?}: {run:?}",
            run = run.stdout
        );
        assert!(run.stdout.contains("\\u{1b}"), "{}", run.stdout);
        // Each workflow command is one line: nothing in a field starts a new one.
        for line in run.stdout.lines() {
            assert!(
                line.starts_with("::error ")
                    || line.starts_with("::warning ")
                    || line.starts_with("till-scan: "),
                "{line:?}"
            );
        }
    }
}

#[test]
fn output_never_replaces_a_file_that_is_not_a_report() {
    let p = Project::new();
    let source = format!("import os\nGROQ_API_KEY = \"{KEY}\"\n");
    p.write("app.py", &source);
    for args in [
        &["dir", "-o", "app.py"][..],
        &["dir", "--also-write", "json=app.py"][..],
        &["stdin", "-o", "app.py"][..],
    ] {
        let run = p.run(args);
        assert_eq!(run.code, 2, "{args:?}: {run}");
        assert!(
            run.stderr.contains("refusing") && run.stderr.contains("app.py"),
            "{run}"
        );
        assert_eq!(std::fs::read_to_string(p.path("app.py")).unwrap(), source);
    }
    // A report of ours is replaced, in every format, run after run.
    for format in ["human", "json", "sarif", "junit", "github", "markdown"] {
        let out = format!("report.{format}");
        for _ in 0..2 {
            let run = p.run(&["dir", "app.py", "-f", format, "-o", &out]);
            assert_eq!(run.code, 1, "{format}: {run}");
        }
    }
    let run = p.run(&["dir", "report.json", "-f", "human", "-o", "clean.txt"]);
    assert_eq!(run.code, 0, "{run}");
    let run = p.run(&["dir", "report.json", "-f", "human", "-o", "clean.txt"]);
    assert_eq!(run.code, 0, "{run}");
}
