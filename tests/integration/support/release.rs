//! A local stand-in for till-scan's GitHub releases, for `install.sh` and
//! the action's download: each release holds the five archives that
//! `.github/workflows/release.yml` builds (`till-scan-<version>-<target>`,
//! tar.gz or zip, with the binary, LICENSE and README.md in a directory of
//! that name) and their `SHA256SUMS`, served on 127.0.0.1 under GitHub's
//! layout: `/releases/download/v<version>/<asset>` and
//! `/releases/latest/download/<asset>`.

use std::collections::BTreeMap;
use std::io::{Cursor, Write};
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

use super::http::{Outcome, Reply, Server};

/// The release targets, as release.yml's matrix names them.
pub const TARGETS: [&str; 5] = [
    "x86_64-unknown-linux-musl",
    "aarch64-unknown-linux-musl",
    "x86_64-apple-darwin",
    "aarch64-apple-darwin",
    "x86_64-pc-windows-msvc",
];

/// The release target install.sh picks on this machine.
pub fn host_target() -> String {
    let os = match std::env::consts::OS {
        "linux" => "unknown-linux-musl",
        "macos" => "apple-darwin",
        other => panic!("no release target for {other}"),
    };
    format!("{}-{os}", std::env::consts::ARCH)
}

/// The archive name for a version (no `v`) and target.
pub fn asset_name(version: &str, target: &str) -> String {
    let ext = if target.contains("windows") {
        "zip"
    } else {
        "tar.gz"
    };
    format!("till-scan-{version}-{target}.{ext}")
}

/// One archive as release.yml packs it, with `binary` as the executable.
pub fn archive(version: &str, target: &str, binary: &str) -> Vec<u8> {
    let dir = format!("till-scan-{version}-{target}");
    let windows = target.contains("windows");
    let exe = if windows {
        "till-scan.exe"
    } else {
        "till-scan"
    };
    let members: [(String, &[u8], u32); 3] = [
        (format!("{dir}/{exe}"), binary.as_bytes(), 0o755),
        (format!("{dir}/LICENSE"), b"Apache License 2.0\n", 0o644),
        (format!("{dir}/README.md"), b"# till-scan\n", 0o644),
    ];
    if windows {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, bytes, mode) in &members {
            let options = zip::write::SimpleFileOptions::default().unix_permissions(*mode);
            w.start_file(name.as_str(), options).unwrap();
            w.write_all(bytes).unwrap();
        }
        return w.finish().unwrap().into_inner();
    }
    let mut b = tar::Builder::new(Vec::new());
    for (name, bytes, mode) in &members {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(*mode);
        header.set_cksum();
        b.append_data(&mut header, name, *bytes).unwrap();
    }
    let tar = b.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar).unwrap();
    gz.finish().unwrap()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The files of one release: an archive per target whose binary is
/// `binary`, and SHA256SUMS over them (as `sha256sum` writes it).
pub fn release_files(version: &str, binary: &str) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut sums = String::new();
    for target in TARGETS {
        let name = asset_name(version, target);
        let bytes = archive(version, target, binary);
        sums.push_str(&format!("{}  {name}\n", sha256_hex(&bytes)));
        files.insert(name, bytes);
    }
    files.insert("SHA256SUMS".to_string(), sums.into_bytes());
    files
}

/// The releases being served, by version (no `v`), and which is latest.
pub struct ReleaseDouble {
    server: Server,
    requests: Arc<Mutex<Vec<String>>>,
}

impl ReleaseDouble {
    pub fn start(releases: BTreeMap<String, BTreeMap<String, Vec<u8>>>, latest: &str) -> Self {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&requests);
        let latest = latest.to_string();
        let server = Server::start(move |request| {
            seen.lock().unwrap().push(request.path.clone());
            let path = request.path_only().to_string();
            let file = if let Some(rest) = path.strip_prefix("/releases/latest/download/") {
                releases.get(&latest).and_then(|r| r.get(rest))
            } else if let Some(rest) = path.strip_prefix("/releases/download/v") {
                rest.split_once('/')
                    .and_then(|(version, name)| releases.get(version)?.get(name))
            } else {
                None
            };
            match file {
                Some(bytes) if request.method == "GET" => Outcome::Bytes(200, bytes.clone()),
                _ => Outcome::Reply(Reply {
                    status: 404,
                    headers: Vec::new(),
                    body: "Not Found".to_string(),
                }),
            }
        });
        ReleaseDouble { server, requests }
    }

    /// The `TILL_SCAN_DOWNLOAD_URL` that points at this server.
    pub fn url(&self) -> String {
        format!("{}/releases", self.server.url())
    }

    /// The paths requested so far, in order.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}
