//! `install.sh` (issue 17, item 4): run with `sh` (dash here, as on Debian
//! and Ubuntu) against a fake release served on 127.0.0.1 (the releases
//! double lays the files out as GitHub does). The archives hold a stub
//! `till-scan` script that says which version it is, so a test can run
//! what was installed. A fake `uname` first on PATH stands in for other
//! machines.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::release::{asset_name, host_target, release_files, ReleaseDouble};
use crate::support::{run_command, Project, Run};

fn install_sh() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("install.sh")
}

fn stub(version: &str) -> String {
    format!("#!/bin/sh\necho \"till-scan {version} (release stub)\"\n")
}

/// Releases 0.1.0 and 0.2.0 (latest), each with its own stub.
fn two_releases() -> BTreeMap<String, BTreeMap<String, Vec<u8>>> {
    ["0.1.0", "0.2.0"]
        .into_iter()
        .map(|v| (v.to_string(), release_files(v, &stub(v))))
        .collect()
}

/// `sh install.sh ARGS` with HOME in the project and the server's URL.
fn install(p: &Project, server: &ReleaseDouble, args: &[&str], env: &[(&str, &str)]) -> Run {
    std::fs::create_dir_all(p.path("home")).unwrap();
    let mut c = Command::new("sh");
    c.arg(install_sh())
        .args(args)
        .current_dir(p.path("."))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", p.path("home"))
        .env("TILL_SCAN_DOWNLOAD_URL", server.url());
    for (k, v) in env {
        c.env(k, v);
    }
    run_command(c, b"")
}

fn run_installed(bin: &Path) -> String {
    let out = Command::new(bin)
        .output()
        .expect("run the installed till-scan");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// A directory with a `uname` that reports `os` and `arch`, for PATH.
fn fake_uname(p: &Project, os: &str, arch: &str) -> String {
    p.write(
        "fake-bin/uname",
        &format!(
            "#!/bin/sh\ncase $1 in -s) echo {os} ;; -m) echo {arch} ;; *) echo {os} ;; esac\n"
        ),
    );
    let path = p.path("fake-bin/uname");
    Command::new("chmod").arg("+x").arg(&path).status().unwrap();
    format!(
        "{}:{}",
        p.path("fake-bin").display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

#[test]
fn installs_the_latest_release_into_the_bin_dir_and_it_runs() {
    let p = Project::new();
    let server = ReleaseDouble::start(two_releases(), "0.2.0");
    let bin_dir = p.path("tools/bin");
    let run = install(&p, &server, &["--bin-dir", bin_dir.to_str().unwrap()], &[]);
    assert_eq!(run.code, 0, "{run}");
    let bin = bin_dir.join("till-scan");
    assert_eq!(run_installed(&bin), "till-scan 0.2.0 (release stub)");
    let target = host_target();
    assert!(
        run.stderr.contains(&format!(
            "installed till-scan 0.2.0 ({target}) to {}",
            bin.display()
        )),
        "{run}"
    );
    assert!(run.stderr.contains("checksum verified"), "{run}");
    // Latest through GitHub's redirect paths, not the API.
    assert_eq!(
        server.requests(),
        [
            "/releases/latest/download/SHA256SUMS".to_string(),
            format!("/releases/latest/download/{}", asset_name("0.2.0", &target)),
        ]
    );
    assert_eq!(entries(&bin_dir), ["till-scan"], "no leftovers");
}

#[test]
fn a_version_from_the_flag_or_the_environment_and_the_default_bin_dir() {
    let p = Project::new();
    let server = ReleaseDouble::start(two_releases(), "0.2.0");
    let default_bin = p.path("home/.local/bin/till-scan");

    let run = install(&p, &server, &["--version", "v0.1.0"], &[]);
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(
        run_installed(&default_bin),
        "till-scan 0.1.0 (release stub)"
    );
    assert!(server
        .requests()
        .contains(&"/releases/download/v0.1.0/SHA256SUMS".to_string()));

    // TILL_SCAN_VERSION without the v; the newer one replaces the older.
    let run = install(&p, &server, &[], &[("TILL_SCAN_VERSION", "0.2.0")]);
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(
        run_installed(&default_bin),
        "till-scan 0.2.0 (release stub)"
    );

    let run = install(&p, &server, &["--version", "two"], &[]);
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("not a release version"), "{run}");
}

#[test]
fn a_wrong_checksum_fails_clearly_and_installs_nothing() {
    let p = Project::new();
    let mut releases = two_releases();
    let target = host_target();
    let name = asset_name("0.2.0", &target);
    let files = releases.get_mut("0.2.0").unwrap();
    // The archive changed after SHA256SUMS was written.
    files.insert(
        name.clone(),
        crate::support::release::archive("0.2.0", &target, "#!/bin/sh\necho tampered\n"),
    );
    let server = ReleaseDouble::start(releases, "0.2.0");
    let bin_dir = p.path("bin");
    let run = install(&p, &server, &["--bin-dir", bin_dir.to_str().unwrap()], &[]);
    assert_eq!(run.code, 4, "{run}");
    assert!(
        run.stderr
            .contains(&format!("error: checksum mismatch for {name}")),
        "{run}"
    );
    assert!(run.stderr.contains("nothing was installed"), "{run}");
    assert!(entries(&bin_dir).is_empty(), "{:?}", entries(&bin_dir));
}

#[test]
fn a_missing_release_or_asset_fails_clearly() {
    let p = Project::new();
    let target = host_target();
    let bin_dir = p.path("bin");
    let bin_arg = bin_dir.to_str().unwrap();

    // No such release.
    let server = ReleaseDouble::start(two_releases(), "0.2.0");
    let run = install(
        &p,
        &server,
        &["--version", "9.9.9", "--bin-dir", bin_arg],
        &[],
    );
    assert_eq!(run.code, 3, "{run}");
    assert!(
        run.stderr.contains(&format!(
            "could not download {}/download/v9.9.9/SHA256SUMS: is release v9.9.9 published there?",
            server.url()
        )),
        "{run}"
    );

    // SHA256SUMS lists no binary for this machine.
    let mut releases = two_releases();
    let files = releases.get_mut("0.2.0").unwrap();
    let name = asset_name("0.2.0", &target);
    let sums = String::from_utf8(files["SHA256SUMS"].clone()).unwrap();
    let without: String = sums
        .lines()
        .filter(|l| !l.ends_with(&name))
        .map(|l| format!("{l}\n"))
        .collect();
    files.insert("SHA256SUMS".into(), without.into_bytes());
    let server = ReleaseDouble::start(releases.clone(), "0.2.0");
    let run = install(&p, &server, &["--bin-dir", bin_arg], &[]);
    assert_eq!(run.code, 3, "{run}");
    assert!(
        run.stderr
            .contains(&format!("the release has no till-scan-*-{target}.tar.gz")),
        "{run}"
    );

    // Listed, but the asset itself is not there.
    let mut releases = two_releases();
    releases.get_mut("0.2.0").unwrap().remove(&name);
    let server = ReleaseDouble::start(releases, "0.2.0");
    let run = install(
        &p,
        &server,
        &["--version", "0.2.0", "--bin-dir", bin_arg],
        &[],
    );
    assert_eq!(run.code, 3, "{run}");
    assert!(
        run.stderr.contains(&format!(
            "error: could not download {}/download/v0.2.0/{name}",
            server.url()
        )),
        "{run}"
    );
    assert!(entries(&bin_dir).is_empty());
}

#[test]
fn the_asset_follows_the_platform_and_an_unsupported_one_is_refused() {
    let p = Project::new();
    let server = ReleaseDouble::start(two_releases(), "0.2.0");
    let bin_dir = p.path("bin");
    let bin_arg = bin_dir.to_str().unwrap();

    let path = fake_uname(&p, "Darwin", "arm64");
    let run = install(&p, &server, &["--bin-dir", bin_arg], &[("PATH", &path)]);
    assert_eq!(run.code, 0, "{run}");
    assert!(
        server.requests().contains(&format!(
            "/releases/latest/download/{}",
            asset_name("0.2.0", "aarch64-apple-darwin")
        )),
        "{:?}",
        server.requests()
    );

    let path = fake_uname(&p, "FreeBSD", "amd64");
    let other_bin = p.path("other-bin");
    let run = install(
        &p,
        &server,
        &["--bin-dir", other_bin.to_str().unwrap()],
        &[("PATH", &path)],
    );
    assert_eq!(run.code, 5, "{run}");
    assert!(
        run.stderr
            .contains("no release binary for FreeBSD amd64; build it instead: cargo install"),
        "{run}"
    );
    assert!(!other_bin.exists());
}

/// `.github/workflows/release.yml` cannot run here: check that it builds
/// the five targets install.sh and the action pick, on a version tag, under
/// the names they download, with SHA256SUMS and a release holding them.
#[test]
fn the_release_workflow_builds_what_install_sh_downloads() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join(".github/workflows/release.yml")).unwrap();
    let wf: serde_json::Value = serde_yaml::from_str(&text).unwrap();

    let tags: Vec<&str> = wf["on"]["push"]["tags"]
        .as_array()
        .expect("on.push.tags")
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(tags, ["v*"]);
    assert!(wf["on"]["push"]["branches"].is_null());

    let build = &wf["jobs"]["build"];
    let matrix = build["strategy"]["matrix"]["include"]
        .as_array()
        .expect("build.strategy.matrix.include");
    let targets: Vec<&str> = matrix
        .iter()
        .map(|m| m["target"].as_str().unwrap())
        .collect();
    let mut sorted = targets.clone();
    sorted.sort();
    let mut expected = crate::support::release::TARGETS.to_vec();
    expected.sort();
    assert_eq!(sorted, expected);
    for m in matrix {
        let (target, os) = (m["target"].as_str().unwrap(), m["os"].as_str().unwrap());
        let want = if target.contains("linux") {
            "ubuntu"
        } else if target.contains("darwin") {
            "macos"
        } else {
            "windows"
        };
        assert!(os.starts_with(want), "{target} builds on {os}");
    }
    // install.sh names exactly these targets.
    let install = std::fs::read_to_string(install_sh()).unwrap();
    for suffix in ["-unknown-linux-musl", "-apple-darwin", "-pc-windows-msvc"] {
        assert!(install.contains(&format!("$cpu{suffix}")), "{suffix}");
        assert!(targets.iter().any(|t| t.ends_with(suffix)));
    }

    let runs = |job: &serde_json::Value| -> String {
        job["steps"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["run"].as_str())
            .collect::<Vec<_>>()
            .join("\n")
    };
    let build_runs = runs(build);
    assert!(build_runs.contains("--release --locked --target \"$TARGET\""));
    assert!(build_runs.contains("name=till-scan-$version-$TARGET"));
    assert!(build_runs.contains("cp \"target/$TARGET/release/$exe\" LICENSE README.md"));
    assert!(build_runs.contains("\"$name.tar.gz\"") && build_runs.contains("\"$name.zip\""));

    let release = &wf["jobs"]["release"];
    assert_eq!(release["needs"], "build");
    assert_eq!(release["permissions"]["contents"], "write");
    let release_runs = runs(release);
    assert!(release_runs.contains("sha256sum till-scan-*.tar.gz till-scan-*.zip >SHA256SUMS"));
    assert!(release_runs.contains("gh release create \"$GITHUB_REF_NAME\""));
    assert!(release_runs
        .contains("dist/till-scan-*.tar.gz dist/till-scan-*.zip dist/SHA256SUMS install.sh"));
    assert!(root.join("LICENSE").is_file());
}

/// The release workflow's own Package and SHA256SUMS scripts, run here on
/// stub binaries, make a release that install.sh installs: the names, the
/// archive layout and the sums agree end to end. (The Windows archive is
/// made by 7z on the runner; the double's zip stands in for it.)
#[test]
fn the_release_workflow_scripts_make_what_install_sh_installs() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join(".github/workflows/release.yml")).unwrap();
    let wf: serde_json::Value = serde_yaml::from_str(&text).unwrap();
    let script = |job: &str, step: &str| -> String {
        wf["jobs"][job]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == step)
            .and_then(|s| s["run"].as_str())
            .unwrap_or_else(|| panic!("no step {step} in {job}"))
            .to_string()
    };
    let p = Project::new();
    p.write("work/LICENSE", "Apache License\n");
    p.write("work/README.md", "# till-scan\n");
    let bash = |script: &str, target: &str| {
        let out = Command::new("bash")
            .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", script])
            .current_dir(p.path("work"))
            .env("TARGET", target)
            .env("GITHUB_REF_NAME", "v0.2.0")
            .env("GITHUB_OUTPUT", p.path("output"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    for target in crate::support::release::TARGETS {
        if target.contains("windows") {
            p.write_bytes(
                &format!("work/dist/{}", asset_name("0.2.0", target)),
                &crate::support::release::archive("0.2.0", target, "stub"),
            );
            continue;
        }
        let exe = format!("work/target/{target}/release/till-scan");
        p.write(
            &exe,
            &format!("#!/bin/sh\necho 'till-scan 0.2.0 built for {target}'\n"),
        );
        Command::new("chmod")
            .arg("+x")
            .arg(p.path(&exe))
            .status()
            .unwrap();
        bash(&script("build", "Package"), target);
    }
    let outputs = std::fs::read_to_string(p.path("output")).unwrap();
    assert!(outputs.contains(&format!(
        "asset=dist/{}",
        asset_name("0.2.0", "aarch64-apple-darwin")
    )));
    bash(&script("release", "Write SHA256SUMS"), "");

    // Only the assets and SHA256SUMS make the release (not the unpacked dirs).
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(p.path("work/dist")).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            let name = entry.file_name().to_string_lossy().into_owned();
            files.insert(name, std::fs::read(entry.path()).unwrap());
        }
    }
    assert_eq!(files.len(), 6, "{:?}", files.keys());
    let server = ReleaseDouble::start(BTreeMap::from([("0.2.0".to_string(), files)]), "0.2.0");
    let bin_dir = p.path("bin");
    let run = install(&p, &server, &["--bin-dir", bin_dir.to_str().unwrap()], &[]);
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(
        run_installed(&bin_dir.join("till-scan")),
        format!("till-scan 0.2.0 built for {}", host_target())
    );
}
