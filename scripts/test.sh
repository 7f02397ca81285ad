#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, lints, then every test in release mode
# (the reference check replays large streams). The ClickHouse tests start the real ClickHouse
# engine themselves (chDB behind tests/chdb_server/server.py) unless CLICKHOUSE_URL points at a
# server, and the Kafka tests a tansu broker unless KAFKA_BOOTSTRAP points at a Kafka; this
# script installs the adapter's Python packages and tansu when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== build dependencies"
# librdkafka is built with OpenSSL (TLS and SASL SCRAM): it needs the OpenSSL headers and pkg-config.
if ! command -v pkg-config >/dev/null || ! pkg-config --exists openssl; then
  echo "installing libssl-dev and pkg-config (Debian packages)"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libssl-dev pkg-config >/dev/null
fi

echo "== test servers"
# tansu (the Kafka broker) lives in ~/.cargo/bin; the tests look for it on PATH.
export PATH="$HOME/.cargo/bin:$PATH"
./scripts/tansu.sh
if ! python3 -c "import chdb, lz4, clickhouse_cityhash" 2>/dev/null; then
  echo "installing the ClickHouse adapter's packages (chdb-core, about 270 MB, once)"
  python3 -m pip install --quiet --disable-pip-version-check -r tests/chdb_server/requirements.txt
fi
python3 -m unittest discover -s tests/chdb_server -p 'test_*.py'
# promtool (Debian package prometheus) and docker-compose check the monitoring files and the
# compose file (tests/monitoring.rs); neither needs a Docker engine.
if ! command -v promtool >/dev/null || ! command -v docker-compose >/dev/null; then
  echo "installing promtool and docker-compose (Debian packages prometheus, docker-compose)"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus docker-compose >/dev/null
  # The package's postinst starts the Prometheus server (:9090) through its init script unless a
  # policy-rc.d forbids it; only promtool is wanted here.
  if [ -d /run/systemd/system ]; then
    $sudo systemctl disable --now prometheus.service >/dev/null 2>&1 || true
  elif [ -x /etc/init.d/prometheus ] && /etc/init.d/prometheus status >/dev/null 2>&1; then
    $sudo /etc/init.d/prometheus stop >/dev/null
  fi
fi

# Headless Chromium (Debian package chromium) renders the weekly seller report's HTML and takes a
# screenshot (tests/report.rs); a font package so that the page has glyphs.
if ! command -v chromium >/dev/null && ! command -v chromium-headless-shell >/dev/null; then
  echo "installing chromium (Debian packages chromium, fonts-dejavu-core)"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi

echo "== format"
cargo fmt --all --check

echo "== lints"
cargo clippy --workspace --all-targets --release --locked -- -D warnings

echo "== tests"
cargo test --workspace --release --locked
