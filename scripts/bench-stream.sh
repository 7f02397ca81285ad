#!/usr/bin/env bash
# End-to-end benchmark on this machine: starts the test broker (tansu) and the ClickHouse
# engine (chDB adapter) on free loopback ports, runs `quality-pipeline bench-stream` (extra
# arguments are passed on), and stops both. Use KAFKA_BOOTSTRAP / CLICKHOUSE_URL to measure
# against real servers instead.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

if [ -z "${KAFKA_BOOTSTRAP:-}" ]; then
  ./scripts/tansu.sh
  port=$(free_port)
  RUST_LOG=warn tansu broker --storage-engine memory://tansu/ --listener-url "tcp://127.0.0.1:$port" \
    --advertised-listener-url "tcp://127.0.0.1:$port" >"$work/tansu.log" 2>&1 &
  pids+=($!)
  KAFKA_BOOTSTRAP="127.0.0.1:$port"
  for _ in $(seq 100); do grep -q "ready in" "$work/tansu.log" && break; sleep 0.1; done
fi
if [ -z "${CLICKHOUSE_URL:-}" ]; then
  python3 tests/chdb_server/server.py --port 0 --data "$work/ch" >"$work/ch.out" 2>"$work/ch.log" &
  pids+=($!)
  for _ in $(seq 100); do grep -q "listening on" "$work/ch.out" && break; sleep 0.1; done
  CLICKHOUSE_URL="http://$(sed -n 's/^listening on //p' "$work/ch.out")"
fi
cargo build --release --locked --quiet
QP_LOG=${QP_LOG:-warn} ./target/release/quality-pipeline bench-stream --brokers "$KAFKA_BOOTSTRAP" --clickhouse-url "$CLICKHOUSE_URL" "$@"
