#!/usr/bin/env bash
# The action's first step after masking: which till-scan to run. With the
# input `version` set, an installed binary (a path, or a command on PATH);
# otherwise one built from the action's own source by the next steps, cached
# under a key that changes exactly when that source does.
#
# Outputs: path (the binary), build (true when it must be built or restored),
# install-root and cache-key (for actions/cache and `cargo install --root`).
set -euo pipefail

out() { printf '%s=%s\n' "$1" "$2" >>"${GITHUB_OUTPUT:?}"; }
die() {
    echo "::error title=till-scan::$*"
    exit 2
}

version=${INPUT_VERSION:-}
if [ -n "$version" ]; then
    if [ -f "$version" ] && [ -x "$version" ]; then
        bin=$version
    elif ! bin=$(command -v -- "$version"); then
        die "input version: \`$version\` is neither an executable file nor a command on PATH"
    fi
    case $bin in
    /* | [A-Za-z]:*) ;;
    *) bin=$PWD/$bin ;;
    esac
    echo "till-scan: using $bin ($("$bin" --version))"
    out path "$bin"
    out build false
    exit 0
fi

action=${GITHUB_ACTION_PATH:?}
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
exe=till-scan
if [ "${RUNNER_OS:-}" = Windows ]; then exe=till-scan.exe; fi
out path "$root/bin/$exe"
out build true
out install-root "$root"
out cache-key "till-scan-${RUNNER_OS:-unknown}-${RUNNER_ARCH:-unknown}-$source_id"
echo "till-scan: building from $action (source $source_id), cached"
