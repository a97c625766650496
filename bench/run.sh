#!/usr/bin/env bash
# Re-runnable throughput benchmark: till-scan beside Kingfisher, gitleaks,
# Betterleaks and the ripgrep / git cat-file floors, on corpora built from real
# source code on this machine (see ../shared/bench/README.md).
#   bash bench/run.sh [dir|git|both]
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED_BENCH:-../shared/bench}
BENCH=${BENCH_DIR:-/tmp/till-bench}
cargo fetch --locked
cargo build --release --locked
[ -d "$BENCH/tree" ] || python3 "$SHARED/make_corpus.py" --out "$BENCH"
[ -x "${PEERS_DIR:-/opt/secret-peers}/bin/kingfisher" ] || bash "$SHARED/peers.sh"
# Recall: every planted key must be found.
python3 - "$BENCH" <<'PY'
import json, subprocess, sys
bench = sys.argv[1]
planted = [p for p in json.load(open(f"{bench}/planted.json")) if p["corpus"] == "tree"]
out = subprocess.run(["target/release/till-scan", "dir", f"{bench}/tree", "--format", "json", "-q"],
                     capture_output=True, text=True).stdout
paths = {f["path"] for f in json.loads(out)["findings"]}
missed = [p for p in planted if not any(x.endswith(p["path"]) for x in paths)]
print(f"recall (tree): {len(planted) - len(missed)}/{len(planted)} planted keys found")
for m in missed: print("  missed:", m["kind"], m["path"])
PY
TILL=target/release/till-scan bash "$SHARED/compare.sh" "${1:-both}"
