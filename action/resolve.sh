#!/usr/bin/env bash
# The action's first step after masking: which till-scan to run.
#
# - Input `version` a release version (`v0.2.0`, `0.2.0`, `latest`): that
#   release's binary for this runner, downloaded and checked against the
#   release's SHA256SUMS by install.sh. A failed download or a wrong sum
#   fails the step.
# - Input `version` a path (it holds a `/`, or is a file) or a command on
#   PATH: that binary, as it is.
# - No `version`, and the action itself used at a release tag
#   (`uses: till-ac/till-scan@v0.2.0`): that release's binary, as above;
#   when the tag has no release, a warning, and the build below.
# - Otherwise (`uses: ./`, a branch or a commit): built from the action's
#   own source by the next steps, cached under a key that changes exactly
#   when that source does.
#
# Environment: INPUT_VERSION; ACTION_REF and ACTION_REPOSITORY (the
# action's github.action_ref and github.action_repository, passed through
# env: since a composite action's run: does not see them); optional
# TILL_SCAN_DOWNLOAD_URL (the releases' base URL, as install.sh takes it;
# default <server>/<action repository>/releases); the runner's GITHUB_*,
# RUNNER_*.
# Outputs: path (the binary), source (release, path or build), build (true
# when it must be built or restored), install-root and cache-key (for
# actions/cache and `cargo install --root`).
set -euo pipefail

out() { printf '%s=%s\n' "$1" "$2" >>"${GITHUB_OUTPUT:?}"; }
die() {
    echo "::error title=till-scan::$*"
    exit 2
}

action=${GITHUB_ACTION_PATH:?}
version=${INPUT_VERSION:-}
exe=till-scan
if [ "${RUNNER_OS:-}" = Windows ]; then exe=till-scan.exe; fi
release_re='^v?[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]+)?$'

use() { # BIN SOURCE
    local bin=$1
    case $bin in
    /* | [A-Za-z]:*) ;;
    *) bin=$PWD/$bin ;;
    esac
    echo "till-scan: using $bin ($("$bin" --version))"
    out path "$bin"
    out source "$2"
    out build false
    exit 0
}

# The action's repository and ref: from the context when the runner gives
# them, else from where the runner put the action (_actions/OWNER/REPO/REF).
repository=${ACTION_REPOSITORY:-}
ref=${ACTION_REF:-}
if [[ $action =~ /_actions/([^/]+)/([^/]+)/([^/]+)$ ]]; then
    repository=${repository:-${BASH_REMATCH[1]}/${BASH_REMATCH[2]}}
    ref=${ref:-${BASH_REMATCH[3]}}
fi
repository=${repository:-till-ac/till-scan}
base=${TILL_SCAN_DOWNLOAD_URL:-${GITHUB_SERVER_URL:-https://github.com}/$repository/releases}

# Downloads release WANT with install.sh and uses it. A checksum mismatch
# fails the step; any other failure does too when REQUIRED, else returns 1.
download() { # WANT REQUIRED
    local want=$1 required=$2 dest rc
    dest=${RUNNER_TEMP:?}/till-scan-release/${want#v}
    echo "till-scan: downloading release ${want} from $base"
    set +e
    TILL_SCAN_DOWNLOAD_URL=$base sh "$action/install.sh" --version "$want" --bin-dir "$dest"
    rc=$?
    set -e
    case $rc in
    0) use "$dest/$exe" release ;;
    4) die "the till-scan $want release binary does not match the release's SHA256SUMS; it was not installed and will not run" ;;
    esac
    if [ "$required" = true ]; then
        die "could not install till-scan $want from $base (install.sh exit $rc; see the message above); set the input version to another release, or leave it empty to build from source"
    fi
    return 1
}

if [ -n "$version" ]; then
    if [[ $version == */* ]] || [ -f "$version" ]; then
        [ -f "$version" ] && [ -x "$version" ] ||
            die "input version: \`$version\` is not an executable file"
        use "$version" path
    elif [ "$version" = latest ] || [[ $version =~ $release_re ]]; then
        download "$version" true
    elif bin=$(command -v -- "$version"); then
        use "$bin" path
    else
        die "input version: \`$version\` is not a release version (v0.2.0, 0.2.0, latest), an executable file or a command on PATH"
    fi
fi

# The action used at a release tag: that release's binary when it has one.
if [[ $ref =~ ^v[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]+)?$ ]]; then
    download "$ref" false ||
        echo "::warning title=till-scan::could not install the till-scan release of the action's tag $ref from $base (see the message above); building from the action's source instead"
fi

# The action's commit when it is a clean git checkout (`uses: ./`); a
# downloaded action has no .git, so hash the sources `cargo install` reads.
if [ "$(git -C "$action" rev-parse --show-toplevel 2>/dev/null)" = "$(cd "$action" && pwd -P)" ] &&
    git -C "$action" diff --quiet HEAD -- 2>/dev/null; then
    source_id=$(git -C "$action" rev-parse HEAD)
else
    if command -v sha256sum >/dev/null; then sha() { sha256sum; }; else sha() { shasum -a 256; }; fi
    source_id=$(cd "$action" && find Cargo.toml Cargo.lock build.rs src rules -type f -print | LC_ALL=C sort |
        while IFS= read -r f; do printf '%s\n' "$f"; sha <"$f"; done | sha | cut -c1-40)
fi

root=${RUNNER_TEMP:?}/till-scan-install
out path "$root/bin/$exe"
out source build
out build true
out install-root "$root"
out cache-key "till-scan-${RUNNER_OS:-unknown}-${RUNNER_ARCH:-unknown}-$source_id"
echo "till-scan: building from $action (source $source_id), cached"
