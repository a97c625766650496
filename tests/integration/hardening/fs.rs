//! Hardening regressions: fs (issue 11 items 3, 6, 7 and 13): special files,
//! streams named on the command line, size limits, UTF-16, symbolic link
//! loops and a closed standard input. Anything that once hung runs with a
//! time limit.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::support::*;

/// A synthetic key in the shape of the built-in `groq.api-key` rule.
const KEY: &str = "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";

const LIMIT: Duration = Duration::from_secs(30);

fn line() -> String {
    format!("# settings\nGROQ_API_KEY={KEY}\n")
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(status.success(), "mkfifo {}", path.display());
}

fn run(p: &Project, args: &[&str], input: &[u8]) -> Run {
    p.run_in_within(".", args, input, LIMIT)
}

/// Runs `script` with bash, `$0` being the till-scan binary, in the project.
fn bash(p: &Project, script: &str) -> Run {
    let mut c = Command::new("bash");
    c.args(["-c", script, bin()])
        .current_dir(p.path("."))
        .env("NO_COLOR", "1");
    isolate(&mut c, p);
    run_within(c, b"", LIMIT)
}

fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

// ------------------------------------------------------------ item 3 and 6

#[test]
fn issue_11_named_fifo_is_read_as_a_stream() {
    let p = Project::new();
    let fifo = p.path("pipe");
    mkfifo(&fifo);
    let text = line();
    let writer = std::thread::spawn(move || std::fs::write(fifo, text));
    let r = run(&p, &["dir", "pipe", "--format", "json"], b"");
    writer.join().unwrap().expect("write to the FIFO");
    assert_eq!(r.code, 1, "{r}");
    let f = &r.json()["findings"][0];
    assert_eq!(f["path"], "pipe", "{r}");
    assert_eq!(f["line"], 2, "{r}");
}

#[test]
fn issue_11_fifo_found_in_a_directory_is_skipped_never_opened() {
    // No writer: opening it would block forever.
    let p = Project::new();
    p.write("src/app.env", &line());
    mkfifo(&p.path("src/pipe"));
    let r = run(&p, &["dir", "src", "--format", "json", "-v"], b"");
    assert_eq!(r.code, 1, "{r}");
    let skipped = r.json()["summary"]["skipped"].to_string();
    assert!(
        skipped.contains("src/pipe") && skipped.contains("FIFO"),
        "{r}"
    );
}

#[test]
fn issue_11_named_devices_are_refused_with_a_note_and_exit_2() {
    // /dev/zero would be read forever; /dev/null is refused by the same rule.
    let p = Project::new();
    p.write("src/app.env", &line());
    for device in ["/dev/zero", "/dev/null"] {
        let r = run(&p, &["dir", device, "src"], b"");
        assert_eq!(r.code, 2, "{r}");
        assert!(
            r.stderr.contains(device) && r.stderr.contains("character device"),
            "{r}"
        );
        // The other path is still scanned.
        assert!(r.stdout.contains("src/app.env"), "{r}");
    }
}

#[test]
fn issue_11_process_substitution_is_scanned() {
    let p = Project::new();
    p.write("app.env", &line());
    let r = bash(&p, r#"exec "$0" dir <(cat app.env) --format json"#);
    assert_eq!(r.code, 1, "{r}");
    assert_eq!(r.json()["findings"][0]["line"], 2, "{r}");
}

#[test]
fn issue_11_dev_stdin_named_is_read() {
    let p = Project::new();
    let r = run(
        &p,
        &["dir", "/dev/stdin", "--format", "json"],
        line().as_bytes(),
    );
    assert_eq!(r.code, 1, "{r}");
    assert_eq!(r.json()["findings"][0]["path"], "/dev/stdin", "{r}");
}

#[test]
fn issue_11_thread_count_is_capped() {
    let p = Project::new();
    p.write("src/app.env", &line());
    let r = run(&p, &["dir", "src", "-j", "8000", "-v"], b"");
    assert_eq!(r.code, 1, "{r}");
    assert!(r.stderr.contains("-j 8000 capped at"), "{r}");
}

#[test]
fn issue_11_stdin_over_the_size_limit_is_an_error() {
    let p = Project::new();
    let mut input = line().into_bytes();
    input.extend(std::iter::repeat_n(b'x', 4096));
    let r = run(
        &p,
        &["stdin", "--max-file-size", "2K", "--format", "json"],
        &input,
    );
    assert_eq!(r.code, 2, "{r}");
    assert!(r.stderr.contains("size limit of 2048 bytes"), "{r}");
    assert_eq!(r.json()["findings"].as_array().unwrap().len(), 0, "{r}");
    // At the limit exactly it is scanned.
    let r = run(
        &p,
        &["stdin", "--max-file-size", &input.len().to_string()],
        &input,
    );
    assert_eq!(r.code, 1, "{r}");
}

#[test]
fn issue_11_file_over_the_limit_is_not_read_whole() {
    // 2 GiB (sparse): reading it whole would take far longer than the limit.
    let p = Project::new();
    p.write("src/app.env", &line());
    let big = std::fs::File::create(p.path("src/huge.log")).unwrap();
    big.set_len(2 << 30).unwrap();
    let size = (2u64 << 30).to_string();
    let limit = Duration::from_secs(20);
    // Found in a walk: skipped with its size, the rest scanned.
    let r = p.run_in_within(
        ".",
        &["dir", "src", "--max-file-size", "1M", "--format", "json"],
        b"",
        limit,
    );
    assert_eq!(r.code, 1, "{r}");
    let skipped = r.json()["summary"]["skipped"].to_string();
    assert!(
        skipped.contains("huge.log") && skipped.contains(&size),
        "{r}"
    );
    // Named: an error naming it, exit 2.
    let r = p.run_in_within(
        ".",
        &["dir", "src/huge.log", "--max-file-size", "1M"],
        b"",
        limit,
    );
    assert_eq!(r.code, 2, "{r}");
    assert!(
        r.stderr.contains("src/huge.log") && r.stderr.contains(&size),
        "{r}"
    );
}

#[test]
fn issue_11_proc_files_reporting_size_zero_are_scanned() {
    let p = Project::new();
    let r = run(&p, &["dir", "/proc/self/status", "--format", "json"], b"");
    assert_eq!(r.code, 0, "{r}");
    let summary = &r.json()["summary"];
    assert_eq!(summary["files_scanned"], 1, "{r}");
    assert!(summary["bytes_scanned"].as_u64().unwrap() > 0, "{r}");
}

#[test]
fn issue_11_unreadable_named_file_is_an_error() {
    let p = Project::new();
    p.write("src/app.env", &line());
    // Opens, but reading it fails (EIO at address 0), even as root.
    let r = run(&p, &["dir", "/proc/self/mem", "src"], b"");
    assert_eq!(r.code, 2, "{r}");
    assert!(
        r.stderr.contains("/proc/self/mem") && r.stderr.contains("cannot read"),
        "{r}"
    );
    assert!(r.stdout.contains("src/app.env"), "{r}");
    // A dangling symbolic link named on the command line.
    std::os::unix::fs::symlink("nowhere", p.path("dangling")).unwrap();
    let r = run(&p, &["dir", "dangling"], b"");
    assert_eq!(r.code, 2, "{r}");
    assert!(r.stderr.contains("dangling: broken symbolic link"), "{r}");
    // Permission denied (root reads anything, so only checked as a user).
    if !running_as_root() {
        use std::os::unix::fs::PermissionsExt;
        p.write("secret.env", &line());
        let path = p.path("secret.env");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
        let r = run(&p, &["dir", "secret.env"], b"");
        assert_eq!(r.code, 2, "{r}");
        assert!(r.stderr.contains("secret.env: cannot read"), "{r}");
    }
}

// ------------------------------------------------------------------ item 7

fn utf16(text: &str, big_endian: bool, bom: bool) -> Vec<u8> {
    let unit = |u: u16| {
        if big_endian {
            u.to_be_bytes()
        } else {
            u.to_le_bytes()
        }
    };
    let mut out = Vec::new();
    if bom {
        out.extend(unit(0xFEFF));
    }
    out.extend(text.encode_utf16().flat_map(unit));
    out
}

#[test]
fn issue_11_utf16_files_are_transcoded_and_scanned() {
    let p = Project::new();
    let text = format!("# réglages\r\nGROQ_API_KEY={KEY}\r\n");
    p.write_bytes("src/le-bom.ps1", &utf16(&text, false, true));
    p.write_bytes("src/be-bom.txt", &utf16(&text, true, true));
    p.write_bytes("src/le.reg", &utf16(&text, false, false));
    let r = run(&p, &["dir", "src", "--format", "json"], b"");
    assert_eq!(r.code, 1, "{r}");
    let json = r.json();
    let findings = json["findings"].as_array().unwrap();
    let mut paths: Vec<&str> = findings
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    paths.sort();
    assert_eq!(
        paths,
        ["src/be-bom.txt", "src/le-bom.ps1", "src/le.reg"],
        "{r}"
    );
    for f in findings {
        assert_eq!(
            (f["line"].as_u64(), f["column"].as_u64()),
            (Some(2), Some(14))
        );
    }
    assert_eq!(
        json["summary"]["skipped"].as_array().unwrap().len(),
        0,
        "{r}"
    );
    // Standard input too.
    let r = run(&p, &["stdin"], &utf16(&text, false, true));
    assert_eq!(r.code, 1, "{r}");
}

// ----------------------------------------------------------------- item 13

#[test]
fn issue_11_symbolic_link_loop_is_named_as_a_loop() {
    let p = Project::new();
    std::os::unix::fs::symlink("b", p.path("a")).unwrap();
    std::os::unix::fs::symlink("a", p.path("b")).unwrap();
    std::os::unix::fs::symlink("self", p.path("self")).unwrap();
    let r = run(&p, &["dir", "a", "self"], b"");
    assert_eq!(r.code, 2, "{r}");
    assert!(
        r.stderr.contains("a: symbolic link loop: a -> b -> a"),
        "{r}"
    );
    assert!(
        r.stderr.contains("self: symbolic link loop: self -> self"),
        "{r}"
    );
    // Inside a walked directory links are not followed: the loops are
    // skipped as links, and the walk ends.
    p.write("src/app.env", &line());
    std::os::unix::fs::symlink(".", p.path("src/loop")).unwrap();
    std::os::unix::fs::symlink("../a", p.path("src/a")).unwrap();
    let r = run(&p, &["dir", "src", "-v"], b"");
    assert_eq!(r.code, 1, "{r}");
    assert!(
        r.stderr.contains("src/loop: symbolic link, not followed"),
        "{r}"
    );
}

#[test]
fn issue_11_closed_stdin_is_an_error() {
    let p = Project::new();
    let r = bash(&p, r#"exec "$0" stdin <&-"#);
    assert_eq!(r.code, 2, "{r}");
    assert!(r.stderr.contains("standard input is closed"), "{r}");
}
