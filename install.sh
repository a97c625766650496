#!/bin/sh
# Installs a till-scan release binary without building it:
#
#   curl -fsSL https://github.com/till-ac/till-scan/releases/latest/download/install.sh | sh
#   sh install.sh --version v0.2.0 --bin-dir /usr/local/bin
#
# Picks the release asset for this OS and CPU, downloads it and the release's
# SHA256SUMS, checks the archive against its sum, and only then puts the
# binary in the bin directory. Nothing is installed when a step fails.
#
# Options (or environment):
#   --version V   (TILL_SCAN_VERSION)  v0.2.0, 0.2.0 or latest (default)
#   --bin-dir D   (TILL_SCAN_BIN_DIR)  where till-scan goes; default ~/.local/bin
# Environment only:
#   TILL_SCAN_DOWNLOAD_URL  where the releases are, laid out as GitHub's
#       (<url>/download/<tag>/<asset>, <url>/latest/download/<asset>);
#       default https://github.com/till-ac/till-scan/releases
#
# Exit codes: 0 installed; 2 usage or local error; 3 a download failed;
# 4 checksum mismatch; 5 no release binary for this platform. The action's
# resolve step tells these apart.
#
# POSIX sh: no pipefail in dash, so no pipelines whose failure matters.
set -eu

base=${TILL_SCAN_DOWNLOAD_URL:-https://github.com/till-ac/till-scan/releases}
version=${TILL_SCAN_VERSION:-latest}
bin_dir=${TILL_SCAN_BIN_DIR:-${HOME:-}/.local/bin}

say() { printf 'till-scan install: %s\n' "$*" >&2; }
die() {
    code=$1
    shift
    printf 'till-scan install: error: %s\n' "$*" >&2
    exit "$code"
}
usage() {
    sed -n '2,/^$/s/^# \{0,1\}//p' "$0" 2>/dev/null ||
        echo "usage: install.sh [--version V] [--bin-dir DIR]"
}

while [ $# -gt 0 ]; do
    case $1 in
    --version) [ $# -ge 2 ] || die 2 "--version needs a value (v0.2.0, 0.2.0 or latest)"; version=$2; shift 2 ;;
    --version=*) version=${1#*=}; shift ;;
    --bin-dir) [ $# -ge 2 ] || die 2 "--bin-dir needs a directory"; bin_dir=$2; shift 2 ;;
    --bin-dir=*) bin_dir=${1#*=}; shift ;;
    -h | --help) usage; exit 0 ;;
    *) die 2 "unknown argument \`$1\` (try --help)" ;;
    esac
done
[ -n "$bin_dir" ] || die 2 "no bin directory: pass --bin-dir (HOME is not set)"

# The release's Rust target for this machine, and its archive format.
os=$(uname -s)
arch=$(uname -m)
case $arch in
x86_64 | amd64) cpu=x86_64 ;;
aarch64 | arm64) cpu=aarch64 ;;
*) cpu= ;;
esac
ext=tar.gz
exe=till-scan
case $os in
Linux) target=$cpu-unknown-linux-musl ;;
Darwin) target=$cpu-apple-darwin ;;
MINGW* | MSYS* | CYGWIN* | Windows_NT)
    [ "$cpu" = x86_64 ] || cpu=
    target=$cpu-pc-windows-msvc ext=zip exe=till-scan.exe
    ;;
*) cpu= ;;
esac
[ -n "$cpu" ] ||
    die 5 "no release binary for $os $arch; build it instead: cargo install --locked till-scan (or from a clone: cargo install --locked --path .)"

# Release tags are v<version>; the asset names carry the bare version.
case $version in
latest) ;;
v[0-9]*) version=${version#v} ;;
[0-9]*) ;;
*) die 2 "version \`$version\` is not a release version: use v0.2.0, 0.2.0 or latest" ;;
esac
if [ "$version" = latest ]; then
    dir=$base/latest/download
else
    dir=$base/download/v$version
fi

fetch() { # URL FILE
    if command -v curl >/dev/null 2>&1; then
        curl -fsSL --retry 3 --proto '=https,http' -o "$2" "$1"
    elif command -v wget >/dev/null 2>&1; then
        wget -q -O "$2" "$1"
    else
        die 2 "neither curl nor wget is installed"
    fi
}
sha256() { # FILE -> the hex digest
    if command -v sha256sum >/dev/null 2>&1; then
        sum=$(sha256sum "$1")
    elif command -v shasum >/dev/null 2>&1; then
        sum=$(shasum -a 256 "$1")
    else
        die 2 "neither sha256sum nor shasum is installed: cannot check the download"
    fi
    printf '%s\n' "${sum%% *}"
}

tmp=$(mktemp -d 2>/dev/null || mktemp -d -t till-scan)
trap 'rm -rf "$tmp"' EXIT INT TERM

if [ "$version" = latest ]; then release="the latest release"; else release="release v$version"; fi
fetch "$dir/SHA256SUMS" "$tmp/SHA256SUMS" ||
    die 3 "could not download $dir/SHA256SUMS: is $release published there?"

# The asset's line in SHA256SUMS ("<hex>  <name>"); for latest, it also
# says which version that is.
if [ "$version" = latest ]; then
    pattern="till-scan-*-$target.$ext"
else
    pattern="till-scan-$version-$target.$ext"
fi
asset=''
expected=''
while read -r hex name; do
    name=${name#\*}
    # shellcheck disable=SC2254 # the pattern is meant to match
    case $name in $pattern) asset=$name expected=$hex ;; esac
done <"$tmp/SHA256SUMS"
[ -n "$asset" ] ||
    die 3 "the release has no $pattern (SHA256SUMS lists no binary for $target)"
if [ "$version" = latest ]; then
    version=${asset#till-scan-}
    version=${version%-"$target.$ext"}
fi

say "downloading $asset (till-scan $version for $target)"
fetch "$dir/$asset" "$tmp/$asset" || die 3 "could not download $dir/$asset"
actual=$(sha256 "$tmp/$asset")
[ "$actual" = "$expected" ] ||
    die 4 "checksum mismatch for $asset: SHA256SUMS says $expected, the download is $actual; nothing was installed"
say "checksum verified (sha256 $actual)"

mkdir "$tmp/x"
case $ext in
zip) (cd "$tmp/x" && unzip -q "../$asset") || die 2 "could not unpack $asset (is unzip installed?)" ;;
*) (cd "$tmp/x" && tar -xzf "../$asset") || die 2 "could not unpack $asset" ;;
esac
found=
for f in "$tmp/x/$exe" "$tmp"/x/*/"$exe"; do
    if [ -f "$f" ]; then found=$f; break; fi
done
[ -n "$found" ] || die 2 "$asset holds no $exe"

mkdir -p "$bin_dir" || die 2 "cannot create $bin_dir"
# Copy beside, then rename: a running till-scan is never half-written.
cp "$found" "$bin_dir/.$exe.new" || die 2 "cannot write to $bin_dir"
chmod 755 "$bin_dir/.$exe.new"
mv -f "$bin_dir/.$exe.new" "$bin_dir/$exe" || die 2 "cannot write $bin_dir/$exe"
say "installed till-scan $version ($target) to $bin_dir/$exe"
# Only for a person at a terminal (not the action, which runs it by path).
if [ -t 2 ]; then
    case :${PATH:-}: in
    *:"$bin_dir":*) ;;
    *) say "note: $bin_dir is not on your PATH; add it, or run $bin_dir/$exe" ;;
    esac
fi
