#!/usr/bin/env bash
# Installs tansu 0.6.0, the Kafka-compatible broker the integration tests start
# (tests/common/servers.rs, docs/test-broker.md), into ~/.cargo/bin unless it is already there.
set -euo pipefail

version=0.6.0
export PATH="$HOME/.cargo/bin:$PATH"

# `tansu --version` prints "tansu 0.6.0"; `tansu --help` ends with the storage engines built in
# ("Storage engines: dynostore" is the one that provides memory://).
if [ "$(tansu --version 2>/dev/null || true)" = "tansu $version" ] &&
  [[ "$(tansu --help 2>/dev/null || true)" == *"Storage engines: dynostore"* ]]; then
  exit 0
fi
echo "installing tansu $version with cargo install (about 10 minutes, once)"
cargo install tansu --version "$version" --features dynostore --locked
