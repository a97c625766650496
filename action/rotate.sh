#!/usr/bin/env bash
# The action's rotation step, run only on a push to the default branch with
# findings (the scan step decides): `till-scan rotate` on the scan's JSON
# report, which swaps rotatable AI-provider keys for Till scoped keys on a new
# branch and opens a pull request. Writes the output pr-url and a section of
# the job summary, then puts the checkout back on the branch (or commit) it
# was on.
#
# Environment: TILL_SCAN_BIN, REPORT_FILE, REPO_PATH, INPUT_ROTATE (true or
# dry-run), INPUT_TILL_URL, INPUT_MAX_ACTIVATIONS, INPUT_CONFIG,
# INPUT_BASELINE (the scan's, so both see the same rules and suppressions),
# INPUT_ROTATE_VALIDATE (`false`: --no-validate), TILL_ADMIN_KEY,
# GITHUB_TOKEN, and the runner's GITHUB_*.
set -euo pipefail

die() {
    echo "::error title=till-scan rotate::$*"
    exit 2
}

bin=${TILL_SCAN_BIN:?}
report=${REPORT_FILE:?}
repo=${REPO_PATH:?}

"$bin" rotate --help >/dev/null 2>&1 ||
    die "this till-scan ($("$bin" --version)) has no rotate command"

args=(rotate "$repo" --report "$report" --format json)
if [ "${INPUT_ROTATE:-}" = dry-run ]; then
    args+=(--dry-run)
elif [ -z "${TILL_ADMIN_KEY:-}" ]; then
    die "rotate: true needs the input till-admin-key (a Till admin API key, passed from a secret)"
fi
if [ -n "${INPUT_TILL_URL:-}" ]; then args+=(--till-url "$INPUT_TILL_URL"); fi
if [ -n "${INPUT_MAX_ACTIVATIONS:-}" ]; then args+=(--max-activations "$INPUT_MAX_ACTIVATIONS"); fi
if [ -n "${GITHUB_REPOSITORY:-}" ]; then args+=(--github-repo "$GITHUB_REPOSITORY"); fi
if [ -n "${INPUT_CONFIG:-}" ]; then args+=(--config "$INPUT_CONFIG"); fi
if [ -n "${INPUT_BASELINE:-}" ]; then args+=(--baseline "$INPUT_BASELINE"); fi
if [ "${INPUT_ROTATE_VALIDATE:-true}" = false ]; then args+=(--no-validate); fi

# An empty variable is not a credential: let till-scan see it as unset.
if [ -z "${TILL_ADMIN_KEY:-}" ]; then unset TILL_ADMIN_KEY; else export TILL_ADMIN_KEY; fi
if [ -z "${GITHUB_TOKEN:-}" ]; then unset GITHUB_TOKEN; else export GITHUB_TOKEN; fi

# The rotation commit needs an author; a fresh runner checkout has none.
if ! git -C "$repo" config user.name >/dev/null; then
    git -C "$repo" config user.name "github-actions[bot]"
fi
if ! git -C "$repo" config user.email >/dev/null; then
    git -C "$repo" config user.email "41898282+github-actions[bot]@users.noreply.github.com"
fi

# `till-scan rotate` leaves the repository on its new branch; the job's later
# steps must get the commit that was pushed, so switch back at the end.
# Where HEAD is: the branch, or the commit when detached.
head_of() {
    git -C "$repo" symbolic-ref -q --short HEAD 2>/dev/null ||
        git -C "$repo" rev-parse -q --verify HEAD 2>/dev/null || true
}
start=$(head_of)

result=$(dirname "$report")/rotation.json
echo "+ till-scan ${args[*]}"
set +e
"$bin" "${args[@]}" >"$result"
rc=$?
set -e
[ "$rc" -eq 0 ] || die "till-scan rotate failed (exit $rc); see the messages above"
jq -e '.version == 1' "$result" >/dev/null ||
    die "till-scan rotate printed no rotation result (version 1) on standard output"

pr_url=$(jq -r '.pr_url // empty' "$result")
printf 'pr-url=%s\n' "$pr_url" >>"${GITHUB_OUTPUT:?}"
printf 'result-file=%s\n' "$result" >>"$GITHUB_OUTPUT"

rotated=$(jq '.rotations | length' "$result")
manual=$(jq '.manual | length' "$result")
{
    printf '\n## till-scan rotate\n\n'
    if [ "$(jq -r '.dry_run' "$result")" = true ]; then
        printf 'Dry run: %s key(s) would be rotated to Till scoped keys; nothing was changed.\n' "$rotated"
    elif [ -n "$pr_url" ]; then
        if [ "$(jq -r '.already_open' "$result")" = true ]; then
            printf 'A rotation pull request is already open: %s\n' "$pr_url"
        else
            printf 'Opened %s: %s key(s) rotated to Till scoped keys.\n' "$pr_url" "$rotated"
        fi
    else
        printf '%s key(s) rotated; no pull request was opened.\n' "$rotated"
    fi
    if [ "$manual" -gt 0 ]; then
        printf '\n%s key(s) need rotating by hand at their provider (no Till provider for them).\n' "$manual"
    fi
} >>"${GITHUB_STEP_SUMMARY:?}"
if [ -n "$pr_url" ]; then echo "till-scan: rotation pull request: $pr_url"; fi
if [ -n "$start" ] && [ "$(head_of)" != "$start" ]; then
    git -C "$repo" checkout -q "$start" -- ||
        die "could not switch the checkout back to $start after the rotation"
    echo "till-scan: switched the checkout back to $start"
fi
