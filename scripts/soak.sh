#!/usr/bin/env bash
# Soak test of the production path: a live stream at a fixed rate through Kafka, the pipeline
# and ClickHouse for a long time, recording memory, lag and throughput. Run with --help.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  cat <<'EOF'
Usage: scripts/soak.sh [--minutes N] [--rate EVENTS_PER_S] [--sellers N] [--partitions N]
                       [--interval SECONDS] [--linger-ms MS] [--out DIR] [--no-build]

Soak test: starts a tansu Kafka broker and the chDB ClickHouse adapter on free loopback ports
(or uses KAFKA_BOOTSTRAP / CLICKHOUSE_URL if set), creates the topics, runs
`quality-pipeline run --source kafka --sink clickhouse` with its metrics endpoint on a free
port, and feeds it a live stream at a fixed rate for the whole duration: generated events
(`quality-pipeline generate`, from 2000-01-03 on, enough days for the duration) paced to
EVENTS_PER_S lines per second by scripts/soak_tools.py and published by
`quality-pipeline produce`. (`produce --pace` publishes each event at its own time, a
marketplace's natural rate, which cannot be set to a fixed figure; hence the pacer.)

Every --interval seconds it appends to OUT/soak.csv: elapsed seconds, pipeline RSS (VmRSS
from /proc), consumer lag (sum of quality_pipeline_consumer_lag), events processed
(quality_pipeline_events_total plus rejected input events) and the throughput over the
interval, the events handed to the producer and the backlog (handed to the producer minus
processed, a check on the lag metric), the engine's state items (quality_pipeline_state_items,
total and per kind), checkpoint size, sink rows and commits, the CPU use of the pipeline,
the broker and the ClickHouse adapter, their RSS, and the load average. At the end it stops
everything, writes OUT/soak.png (RSS with state items, lag, throughput, CPU over time) and
OUT/summary.json, and prints a summary.

Flat memory, the verdict: the first 25 % of the run is warm-up (state fills until event time
has passed the 62 days of day accumulators the engine keeps, allocator arenas grow). Memory
is flat if the pipeline's RSS at the end is less than 10 % above its RSS at the end of the
warm-up (the sample nearest 25 % of the run). The summary also gives the least-squares trend
of RSS after warm-up in MiB per hour, which is what to watch on runs of hours.
Exit status: 0 flat, 1 not flat, 2 setup or run failure (e.g. the pipeline died).

Options:
  --minutes N        duration of the live stream (default 10)
  --rate N           events per second offered to Kafka (default 5000)
  --sellers N        generated sellers (default rate / 25: a seller makes about 30 events a
                     day, so event time runs about 0.8 days per second and the state reaches
                     its steady size, 62 days of accumulators, within the warm-up). Event
                     times must stay before 2100 (the contract's range): at most about
                     36,000 days, which is reached after rate x seconds / (30 x sellers) days
  --partitions N     partitions per topic (default 4)
  --interval S       seconds between samples (default 10)
  --linger-ms MS     the producer's linger.ms (default 200; the pipeline keeps its own
                     settings). The test broker scans every stored batch on each fetch, so
                     its CPU grows with the number of batches kept: with the producer's
                     default 5 ms every event is a batch of its own and tansu saturates a
                     core within two minutes at 2,000 events/s, after which the stream
                     arrives in bursts. Batching 200 ms kept it at 5-16 % of a core over
                     10 minutes at 5,000 events/s (still rising); for runs of hours
                     raise it (e.g. 2000) and lower the rate, or use a real Kafka
  --out DIR          where the CSV, plot, summary and logs go (default target/soak)
  --no-build         use target/release/quality-pipeline as it is (no cargo build); the
                     binary is copied first, so a rebuild during the run changes nothing
  -h, --help         this text

Examples:
  scripts/soak.sh                                      # 10 minutes at 5,000 events/s
  scripts/soak.sh --minutes 240 --rate 1000 --linger-ms 2000 --out target/soak-4h   # four hours
  scripts/soak.sh --minutes 30 --rate 5000 --sellers 1000
  KAFKA_BOOTSTRAP=k1:9092 CLICKHOUSE_URL=http://ch:8123 scripts/soak.sh --minutes 60

The test broker (tansu, in-memory storage) keeps every record: about 0.5 KiB of its RSS per
event, so 5,000 events/s for 4 hours would need about 30 GiB; for runs of hours lower the
rate or point KAFKA_BOOTSTRAP at a real Kafka (with retention).
EOF
}

minutes=10 rate=5000 sellers="" partitions=4 interval=10 linger=200 out=target/soak build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) minutes=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --sellers) sellers=$2; shift 2 ;;
    --partitions) partitions=$2; shift 2 ;;
    --interval) interval=$2; shift 2 ;;
    --linger-ms) linger=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
for v in minutes rate; do
  [[ ${!v} =~ ^[0-9]+([.][0-9]+)?$ ]] || { echo "--$v must be a positive number, not '${!v}'" >&2; exit 2; }
done
for v in partitions interval linger; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "--$v must be a positive integer, not '${!v}'" >&2; exit 2; }
done
[ -n "$sellers" ] || sellers=$(python3 -c "print(max(1, round($rate / 25)))")
[[ $sellers =~ ^[1-9][0-9]*$ ]] || { echo "--sellers must be a positive integer, not '$sellers'" >&2; exit 2; }

export PATH="$HOME/.cargo/bin:$PATH"
# shellcheck source=scripts/lib.sh
source scripts/lib.sh
mkdir -p "$out"
out=$(cd "$out" && pwd)
for f in soak.csv soak.png summary.json tansu.log ch.log topics.log generate.log pace.log produce.log pipeline.log; do
  rm -f "${out:?}/$f"
done
work=$(mktemp -d)
pids=()           # servers, stopped last
feed_pids=()      # generator, pacer, producer
pipeline_pid=""
sampler_pid=""
interrupted=0

# Stops what this script started, in order: the feed, the pipeline (SIGTERM: it makes its
# results durable and leaves the group; killed after 60 s), then the servers. Idempotent.
stop_all() {
  local p i
  [ -n "$sampler_pid" ] && kill "$sampler_pid" 2>/dev/null || true
  for p in "${feed_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  if [ -n "$pipeline_pid" ] && kill -0 "$pipeline_pid" 2>/dev/null; then
    kill -TERM "$pipeline_pid" 2>/dev/null || true
    for ((i = 0; i < 600; i++)); do kill -0 "$pipeline_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pipeline_pid" 2>/dev/null || true
  fi
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${feed_pids[@]}" "${pids[@]}" $pipeline_pid $sampler_pid; do wait "$p" 2>/dev/null || true; done
  feed_pids=() pids=() pipeline_pid="" sampler_pid=""
}
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  stop_all
  # Keep the logs next to the results; the ClickHouse data goes with the scratch directory.
  cp "$work"/*.log "$out"/ 2>/dev/null || true
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
# Ctrl-C or SIGTERM while sampling ends the sampling early (the report covers what was
# recorded); at any other moment it stops everything at once.
on_signal() {
  interrupted=1
  if [ -n "$sampler_pid" ]; then kill "$sampler_pid" 2>/dev/null || true; else exit 130; fi
}
trap on_signal INT TERM

seconds=$((${minutes%.*} * 60))
[ "$minutes" != "${minutes%.*}" ] && seconds=$(python3 -c "print(round($minutes * 60))")
[ "$seconds" -ge $((interval * 3)) ] || { echo "--minutes too short for three samples" >&2; exit 2; }

if [ "$build" = 1 ]; then
  echo "== build"
  cargo build --release --locked --quiet || exit 2
fi
[ -x target/release/quality-pipeline ] || { echo "no target/release/quality-pipeline; run without --no-build" >&2; exit 2; }
qp="$work/quality-pipeline"
cp target/release/quality-pipeline "$qp"
if ! python3 -c "import matplotlib" 2>/dev/null; then
  echo "installing matplotlib (for the plot)"
  python3 -m pip install --quiet --disable-pip-version-check matplotlib
fi

echo "== servers"
if [ -z "${KAFKA_BOOTSTRAP:-}" ]; then start_tansu || exit 2; fi
if [ -z "${CLICKHOUSE_URL:-}" ]; then start_clickhouse || exit 2; fi
echo "kafka $KAFKA_BOOTSTRAP, clickhouse $CLICKHOUSE_URL"
export QP_LOG=${QP_LOG:-warn}
database="soak_$$"
group="soak-$$"
QP_LOG=info $qp topics --partitions "$partitions" --brokers "$KAFKA_BOOTSTRAP" 2>"$work/topics.log" ||
  { cat "$work/topics.log" >&2; exit 2; }

# Enough days of events for the whole run (plus a fifth), measured on two days of this stream.
two_days=$($qp generate --sellers "$sellers" --days 2 --seed 11 2>/dev/null | wc -l)
days=$(python3 -c "import math; print(max(3, math.ceil($rate * $seconds * 1.2 / ($two_days / 2)) + 2))")
if [ "$days" -gt 36500 ]; then
  echo "the stream would need $days days of events from 2000-01-03, past 2100 (the contract's range); use more --sellers" >&2
  exit 2
fi
echo "stream: $rate events/s for $seconds s; $sellers sellers make about $((two_days / 2)) events a day, so $days days are generated"

echo "== pipeline"
metrics_port=$(free_port)
setsid $qp run --source kafka --sink clickhouse --brokers "$KAFKA_BOOTSTRAP" --group-id "$group" \
  --clickhouse-url "$CLICKHOUSE_URL" --clickhouse-database "$database" \
  --metrics-addr "127.0.0.1:$metrics_port" </dev/null >"$work/pipeline.log" 2>&1 &
pipeline_pid=$!
ready=0
for ((i = 0; i < 600; i++)); do
  kill -0 "$pipeline_pid" 2>/dev/null || break
  if curl -fs "http://127.0.0.1:$metrics_port/readyz" >/dev/null 2>&1; then ready=1; break; fi
  sleep 0.1
done
if [ "$ready" != 1 ]; then
  echo "the pipeline did not become ready within 60 s; its log:" >&2
  tail -20 "$work/pipeline.log" >&2
  exit 2
fi
echo "pipeline pid $pipeline_pid, metrics http://127.0.0.1:$metrics_port/metrics"

echo "== soak: $minutes min at $rate events/s (samples every $interval s in $out/soak.csv)"
mkfifo "$work/generated" "$work/paced"
t0=$(date +%s.%N)
setsid $qp generate --sellers "$sellers" --days "$days" --start 2000-01-03 --seed 11 >"$work/generated" 2>"$work/generate.log" &
feed_pids+=($!)
setsid python3 scripts/soak_tools.py pace --rate "$rate" --seconds "$seconds" --t0 "$t0" --progress "$work/produced" \
  <"$work/generated" >"$work/paced" 2>"$work/pace.log" &
feed_pids+=($!)
setsid $qp produce --input - --brokers "$KAFKA_BOOTSTRAP" -X "linger.ms=$linger" <"$work/paced" >"$work/produce.log" 2>&1 &
feed_pids+=($!)
setsid python3 scripts/soak_tools.py sample --pid "$pipeline_pid" --metrics "127.0.0.1:$metrics_port" --csv "$out/soak.csv" \
  --seconds "$seconds" --interval "$interval" --t0 "$t0" --progress "$work/produced" \
  --broker-pid "${TANSU_PID:-0}" --clickhouse-pid "${CLICKHOUSE_PID:-0}" &
sampler_pid=$!
sample_status=0
while kill -0 "$sampler_pid" 2>/dev/null; do
  wait "$sampler_pid" && sample_status=0 || sample_status=$?
  [ "$interrupted" = 1 ] && break
done
[ "$interrupted" = 1 ] && wait "$sampler_pid" 2>/dev/null || true
sampler_pid=""
if [ "$interrupted" = 1 ]; then
  echo "interrupted: stopping, then a report of what was recorded"
elif [ "$sample_status" != 0 ]; then
  echo "the sampler stopped with status $sample_status; pipeline log:" >&2
  tail -20 "$work/pipeline.log" >&2
fi
grep -h "ended after\|went away" "$work/pace.log" >&2 || true

echo "== stopping"
stop_all
if grep -q "ERROR\|panicked" "$work/pipeline.log"; then
  echo "the pipeline logged errors (see $out/pipeline.log):" >&2
  grep -m5 "ERROR\|panicked" "$work/pipeline.log" >&2
fi

echo "== summary"
report_status=0
python3 scripts/soak_tools.py report --csv "$out/soak.csv" --png "$out/soak.png" --json "$out/summary.json" \
  --rate "$rate" --sellers "$sellers" || report_status=$?
echo "csv                 $out/soak.csv"
echo "logs                $out/*.log"
if [ "$interrupted" = 1 ] || [ "$sample_status" != 0 ]; then exit 2; fi
exit "$report_status"
