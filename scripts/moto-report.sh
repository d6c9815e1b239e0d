#!/usr/bin/env bash
# Runs the conformance cases for IAM and Transfer against moto_server (from the test
# venv) and writes the reports in docs/moto/. Exit code: the runner's (1 = differences,
# which is the expected result: docs/moto/README.md explains each one).
set -euo pipefail
cd "$(dirname "$0")/.."
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
cargo run -q --release -- test --target docs/moto/moto.yaml \
  --junit docs/moto/report.xml --json docs/moto/report.json >docs/moto/report.txt 2>/dev/null
rc=$?
set -e
tail -2 docs/moto/report.txt
exit $rc
