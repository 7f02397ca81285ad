#!/usr/bin/env bash
# Fuzzes the event decoder and the engine's ingest (fuzz/fuzz_targets/ingest.rs) for a bounded
# time, seeded with generated streams. Not part of CI: it needs the nightly toolchain and
# cargo-fuzz (installed here if missing). Crashes land in fuzz/artifacts/ingest/; copy each
# into tests/corpus/ so that tests/corpus.rs replays it forever.
#   ./scripts/fuzz.sh          # 10 minutes
#   ./scripts/fuzz.sh 3600     # an hour
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
corpus=fuzz/corpus/ingest
mkdir -p "$corpus"
if [ -z "$(ls -A "$corpus")" ]; then
  cargo build --release --quiet
  for seed in 1 2 3 4; do
    ./target/release/quality-pipeline generate --sellers 3 --days 4 --seed "$seed" --out "$corpus/generated-$seed.ndjson" 2>/dev/null
  done
  cp tests/corpus/*.ndjson "$corpus/" 2>/dev/null || true
fi
cargo +nightly fuzz run ingest "$corpus" -- -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=4096
