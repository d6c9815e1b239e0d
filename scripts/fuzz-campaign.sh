#!/usr/bin/env bash
# A libFuzzer campaign over the four cargo-fuzz targets in fuzz/ (needs a nightly
# toolchain and cargo-fuzz; see fuzz/README.md). Runs each target for SECS seconds (default
# 600) one after another, and prints libFuzzer's closing figures for each.
#   scripts/fuzz-campaign.sh [SECS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
secs=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(protocol_decoders sigv4 spec_loader response_decoder)
declare -A seeds=(
  [protocol_decoders]="../tests/fuzz/corpus/requests"
  [sigv4]="seeds/sigv4"
  [spec_loader]="../specs ../tests/fixtures/specs"
  [response_decoder]="../tests/fuzz/corpus/responses"
)
cargo +nightly fuzz build
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  log="artifacts/$t/campaign.log"
  # shellcheck disable=SC2086
  cargo +nightly fuzz run "$t" "corpus/$t" ${seeds[$t]} -- \
    -max_total_time="$secs" -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1 \
    || { echo "$t: FAILED, see fuzz/$log"; tail -30 "$log"; exit 1; }
  echo "== $t ($secs s)"
  grep -E '^#[0-9]+ +DONE|^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' "$log"
  echo "corpus files: $(find "corpus/$t" -type f | wc -l); crashes: $(find "artifacts/$t" -type f ! -name campaign.log | wc -l)"
done
