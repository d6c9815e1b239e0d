#!/usr/bin/env bash
# Runs the conformance cases for IAM and Transfer against moto_server (from the test
# venv) and writes the reports in docs/moto/ (report.txt, report.xml, report.json, and the
# publishable report/ with index.html, report.md and the badges), held against
# docs/moto/baseline.yaml: every deviation of moto known and explained there.
#
#   scripts/moto-report.sh            exit 0 on the baseline, 1 on a failure outside it
#   scripts/moto-report.sh --accept   also rewrite the baseline from this run (reasons kept)
set -euo pipefail
cd "$(dirname "$0")/.."
accept=()
case "${1:-}" in
  --accept) accept=(--write-baseline docs/moto/baseline.yaml) ;;
  "") ;;
  *) echo "usage: $0 [--accept]" >&2; exit 2 ;;
esac
bash scripts/venv.sh >/dev/null
port=5000
.venv/bin/moto_server -H 127.0.0.1 -p "$port" >/tmp/apiconform-moto.log 2>&1 &
moto=$!
trap 'kill $moto 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  curl -sf -X POST "http://127.0.0.1:$port/moto-api/reset" >/dev/null && break
  sleep 0.2
done
set +e
cargo run -q --release -- test --target docs/moto/moto.yaml --quiet \
  --junit docs/moto/report.xml --json docs/moto/report.json --report docs/moto/report \
  --baseline docs/moto/baseline.yaml "${accept[@]}" >docs/moto/report.txt 2>/dev/null
rc=$?
set -e
# The summary line, then the baseline's account (new failures, fixed entries).
sed -n '/^[0-9]* passed, [0-9]* failed/,$p' docs/moto/report.txt
exit $rc
