#!/usr/bin/env bash
# The action's audit step (input mode: audit, for a `schedule:` workflow):
# `till-scan keys --format markdown` on the repository at `path`, appended to
# the job summary. No scan runs in this mode (the scan step stops at once).
# Fails the step when a key needs attention (exhausted, near-limit, idle or
# gone) unless fail-on-findings is false.
#
# Environment: TILL_SCAN_BIN, INPUT_PATH, INPUT_CONFIG, INPUT_TILL_URL,
# INPUT_EXTRA_ARGS (flags of `till-scan keys`, e.g. `--idle-days 60`),
# INPUT_FAIL_ON_FINDINGS, INPUT_TILL_ADMIN_KEY (the input till-admin-key),
# else TILL_ADMIN_KEY from the workflow's env; and the runner's RUNNER_TEMP.
set -euo pipefail

die() {
    echo "::error title=till-scan keys::$*"
    exit 2
}

bin=${TILL_SCAN_BIN:?}
path=${INPUT_PATH:-.}
[ -e "$path" ] || die "input path \`$path\` does not exist in $PWD"
"$bin" keys --help >/dev/null 2>&1 ||
    die "this till-scan ($("$bin" --version)) has no keys command"

# The input wins; else the workflow's env (e.g. `env: TILL_ADMIN_KEY: ${{ secrets.TILL_ADMIN_KEY }}`).
key=${INPUT_TILL_ADMIN_KEY:-${TILL_ADMIN_KEY:-}}
unset INPUT_TILL_ADMIN_KEY
[ -n "$key" ] ||
    die "mode: audit needs a Till admin key: pass the input till-admin-key, or set TILL_ADMIN_KEY in the workflow's env, from a secret"
export TILL_ADMIN_KEY=$key

args=(keys "$path" --format markdown)
if [ -n "${INPUT_TILL_URL:-}" ]; then args+=(--till-url "$INPUT_TILL_URL"); fi
if [ -n "${INPUT_CONFIG:-}" ]; then args+=(--config "$INPUT_CONFIG"); fi
if [ "${INPUT_FAIL_ON_FINDINGS:-true}" != false ]; then args+=(--fail-on-flags); fi
extra=()
read -r -a extra <<<"${INPUT_EXTRA_ARGS:-}" || true
args+=(${extra[@]+"${extra[@]}"})

table=${RUNNER_TEMP:?}/till-scan-keys.md
echo "+ till-scan ${args[*]}"
set +e
"$bin" "${args[@]}" >"$table"
rc=$?
set -e
case $rc in
0 | 1) ;;
*) die "till-scan keys failed (exit $rc); see the messages above" ;;
esac
{
    printf '\n'
    cat "$table"
} >>"${GITHUB_STEP_SUMMARY:?}"
printf 'audit-file=%s\n' "$table" >>"${GITHUB_OUTPUT:?}"
if [ "$rc" -eq 1 ]; then
    echo "::error title=till-scan keys::Till keys need attention (exhausted, near-limit, idle or gone); see the job summary (set fail-on-findings: false to report only)"
    exit 1
fi
echo "till-scan: Till key audit written to the job summary"
