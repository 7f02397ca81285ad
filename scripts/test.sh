#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, lints, then every test in release mode
# (the reference check replays large streams). It starts the servers the tests need itself;
# the engine and file adapters need none.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== format"
cargo fmt --all --check

echo "== lints"
cargo clippy --workspace --all-targets --release --locked -- -D warnings

echo "== tests"
cargo test --workspace --release --locked
