#!/usr/bin/env bash
# The action's scan step. Decides what to scan from the event and the input
# `mode`, makes sure the history that needs is in the checkout (deepening a
# shallow clone, or failing with a message naming `fetch-depth: 0`), runs
# till-scan once -- annotations on standard output, SARIF, JSON and Markdown
# written beside from the same scan -- and writes the step outputs and the
# job summary. Failing on findings is a later step, so the SARIF upload and
# the rotation run first.
#
# Environment: TILL_SCAN_BIN, INPUT_MODE, INPUT_PATH, INPUT_CONFIG,
# INPUT_BASELINE, INPUT_EXTRA_ARGS, INPUT_ROTATE, and the runner's GITHUB_*
# and RUNNER_TEMP.
# Outputs: findings, sarif-file, report-file, summary-file, checkout-path,
# scope, rotate.
set -euo pipefail

ZERO=0000000000000000000000000000000000000000
bin=${TILL_SCAN_BIN:?}
mode=${INPUT_MODE:-diff}
path=${INPUT_PATH:-.}
rotate_input=${INPUT_ROTATE:-false}
event=${GITHUB_EVENT_NAME:-}
payload=${GITHUB_EVENT_PATH:-}

out() { printf '%s=%s\n' "$1" "$2" >>"${GITHUB_OUTPUT:?}"; }
die() {
    echo "::error title=till-scan::$*"
    exit 2
}
# A string field of the event payload, empty when absent.
field() {
    if [ -n "$payload" ] && [ -f "$payload" ]; then
        jq -r "$1 // empty | tostring" "$payload"
    fi
}
short() { printf '%s' "${1:0:8}"; }

case $mode in
diff | history | dir) ;;
audit)
    # No scan: the audit step that follows does the work.
    echo "till-scan: mode audit: no scan; auditing the Till keys"
    out findings 0
    out rotate false
    exit 0
    ;;
*) die "input mode must be diff, history or dir (or audit), not \`$mode\`" ;;
esac
case $rotate_input in
true | false | dry-run | '') ;;
*) die "input rotate must be true, false or dry-run, not \`$rotate_input\`" ;;
esac
[ -e "$path" ] || die "input path \`$path\` does not exist in $PWD"

# Makes sure every commit named is in the repository, and that history is
# complete: a shallow clone cuts history, and a cut commit looks as if it
# added its whole tree. Deepens the clone when it can; fails when it cannot.
ensure_history() {
    local missing=() c reason=
    for c in "$@"; do
        git -C "$repo" cat-file -e "$c^{commit}" 2>/dev/null || missing+=("$c")
    done
    if [ "$(git -C "$repo" rev-parse --is-shallow-repository)" = true ]; then
        reason="the checkout is shallow (actions/checkout fetches one commit unless fetch-depth: 0)"
        echo "::notice title=till-scan::$reason; fetching the full history (git fetch --unshallow). Set fetch-depth: 0 on actions/checkout to fetch it in one go."
        git -C "$repo" fetch --no-tags --quiet --unshallow origin ||
            die "$reason and fetching the rest failed; check out with fetch-depth: 0"
    fi
    local still=()
    for c in ${missing[@]+"${missing[@]}"}; do
        git -C "$repo" cat-file -e "$c^{commit}" 2>/dev/null || still+=("$c")
    done
    if [ ${#still[@]} -gt 0 ]; then
        echo "::notice title=till-scan::commit(s) $(printf '%s ' "${still[@]}")not in the checkout; fetching them"
        if ! git -C "$repo" fetch --no-tags --quiet origin "${still[@]}"; then
            return 1
        fi
    fi
}

# What to scan: the till-scan command and a sentence for the summary.
args=()
scope=
repo=
if [ "$mode" = dir ]; then
    args=(dir "$path")
    scope="the files in \`$path\`"
    checkout_path=$PWD
else
    repo=$path
    git -C "$repo" rev-parse --git-dir >/dev/null 2>&1 ||
        die "\`$path\` is not a git repository: check it out with actions/checkout (fetch-depth: 0), or scan the files with mode: dir"
    checkout_path=$(git -C "$repo" rev-parse --show-toplevel)
    if [ "$mode" = history ]; then
        ensure_history || die "history is missing; check out with fetch-depth: 0"
        args=(git "$repo")
        scope="the full history of every ref"
    else
        case $event in
        pull_request | pull_request_target)
            base=$(field .pull_request.base.sha)
            head=$(field .pull_request.head.sha)
            if [ -z "$base" ] || [ -z "$head" ]; then
                die "the $event event payload has no pull_request.base.sha and head.sha"
            fi
            ensure_history "$base" "$head" ||
                die "the pull request's commits ($(short "$base")..$(short "$head")) are not in the checkout and could not be fetched; check out with fetch-depth: 0"
            args=(git "$repo" --range "$base..$head")
            scope="the commits of pull request #$(field .number) ($(short "$base")..$(short "$head"))"
            ;;
        push)
            before=$(field .before)
            after=$(field .after)
            if [ -z "$after" ] || [ "$after" = "$ZERO" ]; then
                args=()
                scope="nothing: the push deleted ${GITHUB_REF:-a ref}"
            elif [ -z "$before" ] || [ "$before" = "$ZERO" ]; then
                ensure_history "$after" ||
                    die "the pushed commit $(short "$after") is not in the checkout and could not be fetched; check out with fetch-depth: 0"
                args=(git "$repo" --branch "$after")
                scope="the whole history of the new ref ${GITHUB_REF:-} (at $(short "$after"))"
            elif ensure_history "$before" "$after"; then
                args=(git "$repo" --range "$before..$after")
                scope="the pushed commits $(short "$before")..$(short "$after")"
            else
                git -C "$repo" cat-file -e "$after^{commit}" 2>/dev/null ||
                    die "the pushed commit $(short "$after") is not in the checkout and could not be fetched; check out with fetch-depth: 0"
                # A force push can drop `before` from the server: scan more, not less.
                echo "::warning title=till-scan::the commit before the push ($(short "$before")) is gone (force push?); scanning the whole history of $(short "$after")"
                args=(git "$repo" --branch "$after")
                scope="the whole history of $(short "$after") (the commit before the push is gone)"
            fi
            ;;
        *)
            ensure_history || die "history is missing; check out with fetch-depth: 0"
            args=(git "$repo")
            scope="the full history of every ref (a ${event:-manual} event has no diff to scan)"
            ;;
        esac
    fi
fi

dir=$(mktemp -d "${RUNNER_TEMP:?}/till-scan.XXXXXX")
sarif=$dir/results.sarif
report=$dir/report.json
summary=$dir/summary.md
out checkout-path "$checkout_path"
out scope "$scope"

if [ ${#args[@]} -eq 0 ]; then
    echo "till-scan: scanning $scope"
    out findings 0
    out rotate false
    printf '## till-scan: nothing to scan\n\nThis run scanned %s.\n' "$scope" >>"${GITHUB_STEP_SUMMARY:?}"
    exit 0
fi

flags=(--format github --also-write "sarif=$sarif" --also-write "json=$report" --also-write "markdown=$summary")
if [ -n "${INPUT_CONFIG:-}" ]; then flags+=(--config "$INPUT_CONFIG"); fi
if [ -n "${INPUT_BASELINE:-}" ]; then flags+=(--baseline "$INPUT_BASELINE"); fi
extra=()
read -r -a extra <<<"${INPUT_EXTRA_ARGS:-}" || true

command=("${args[@]}" "${flags[@]}" ${extra[@]+"${extra[@]}"})
echo "till-scan: scanning $scope"
echo "+ till-scan ${command[*]}"
set +e
"$bin" "${command[@]}"
rc=$?
set -e
if [ "$rc" -gt 1 ] || [ ! -f "$report" ]; then
    die "till-scan failed (exit $rc); see the messages above"
fi

findings=$(jq '.summary.occurrences' "$report")
out findings "$findings"
out sarif-file "$sarif"
out report-file "$report"
out summary-file "$summary"
{
    cat "$summary"
    printf '\n<sub>This run scanned %s with %s.</sub>\n' "$scope" "$("$bin" --version)"
} >>"${GITHUB_STEP_SUMMARY:?}"

# Rotation: only on a push to the default branch, and only with something to rotate.
rotate=false
if [ "$rotate_input" = true ] || [ "$rotate_input" = dry-run ]; then
    default_branch=$(field .repository.default_branch)
    if [ "$event" != push ] || [ -z "$default_branch" ] || [ "${GITHUB_REF:-}" != "refs/heads/$default_branch" ]; then
        echo "::notice title=till-scan::rotate runs only on a push to the default branch${default_branch:+ ($default_branch)}; this run is ${event:-no event} on ${GITHUB_REF:-no ref}"
    elif [ "$findings" -eq 0 ]; then
        echo "till-scan: nothing found, nothing to rotate"
    else
        rotate=true
    fi
fi
out rotate "$rotate"
echo "till-scan: $findings finding(s)"
