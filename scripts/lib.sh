# Shared shell functions for the scripts that start their own test servers (sourced, not run):
# the tansu broker and the chDB ClickHouse adapter on free loopback ports, as
# scripts/bench-stream.sh and tests/common/servers.rs do.
#
# The caller provides an array `pids` (every process started is appended to it, to be stopped
# by the caller's trap) and a scratch directory `$work` for logs and data.
#
# Servers run in a session of their own (`setsid`, same process id), so that Ctrl-C in the
# terminal reaches only the script, whose trap then stops everything in order (the pipeline
# first, while the broker can still take its last commit). A `kill -9` of the script leaves
# them running: the ClickHouse adapter exits with its parent, tansu has no such option.

# A free loopback TCP port (racy by nature: someone may take it before we bind it).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Waits up to $2 seconds for file $1 to contain the extended regex $3; fails otherwise.
wait_for_line() {
  local file=$1 seconds=$2 pattern=$3 i
  for ((i = 0; i < seconds * 10; i++)); do
    grep -Eq "$pattern" "$file" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# Starts a tansu broker (in-memory storage) on a free port; sets KAFKA_BOOTSTRAP and
# TANSU_PID. tansu exits at once when its port was taken meanwhile, so it tries three ports.
start_tansu() {
  ./scripts/tansu.sh
  local attempt port log="$work/tansu.log"
  for attempt in 1 2 3; do
    port=$(free_port)
    RUST_LOG=warn setsid tansu broker --storage-engine memory://tansu/ --listener-url "tcp://127.0.0.1:$port" \
      --advertised-listener-url "tcp://127.0.0.1:$port" </dev/null >>"$log" 2>&1 &
    TANSU_PID=$!
    pids+=("$TANSU_PID")
    local i
    for ((i = 0; i < 200; i++)); do
      kill -0 "$TANSU_PID" 2>/dev/null || break
      if grep -q "ready in" "$log"; then
        KAFKA_BOOTSTRAP="127.0.0.1:$port"
        return 0
      fi
      sleep 0.1
    done
    kill "$TANSU_PID" 2>/dev/null || true
    echo "tansu did not start on port $port (attempt $attempt, log $log)" >&2
  done
  return 1
}

# Starts the chDB ClickHouse adapter (tests/chdb_server/server.py) on a free port, its data
# in $work/ch; sets CLICKHOUSE_URL and CLICKHOUSE_PID. Installs its Python packages if missing.
start_clickhouse() {
  if ! python3 -c "import chdb, lz4, clickhouse_cityhash" 2>/dev/null; then
    echo "installing the ClickHouse adapter's packages (chdb-core, about 270 MB, once)"
    python3 -m pip install --quiet --disable-pip-version-check -r tests/chdb_server/requirements.txt
  fi
  setsid python3 tests/chdb_server/server.py --port 0 --exit-with-parent --data "$work/ch" </dev/null >"$work/ch.out" 2>"$work/ch.log" &
  CLICKHOUSE_PID=$!
  pids+=("$CLICKHOUSE_PID")
  if ! wait_for_line "$work/ch.out" 60 "^listening on "; then
    echo "the chDB adapter did not start (log $work/ch.log)" >&2
    return 1
  fi
  CLICKHOUSE_URL="http://$(sed -n 's/^listening on //p' "$work/ch.out")"
}
