# The quality-pipeline binary in a small Debian image (used by docker-compose.yml).
#   docker build -t quality-pipeline .
#   docker run --rm quality-pipeline --help

# -- build ------------------------------------------------------------------------------------------
FROM rust:1-bookworm AS build

# rdkafka builds its bundled librdkafka with gcc and make (no cmake) and links zlib and
# OpenSSL (Kafka TLS and SASL/SCRAM).
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc make pkg-config zlib1g-dev libssl-dev \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /src

# Dependencies first, against stub sources, so that this layer stays cached until Cargo.toml or
# Cargo.lock change.
COPY Cargo.toml Cargo.lock rustfmt.toml ./
COPY crates/engine/Cargo.toml crates/engine/Cargo.toml
RUN mkdir -p src crates/engine/src \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs crates/engine/src/lib.rs \
    && cargo build --release --locked --bin quality-pipeline \
    && rm -rf src crates/engine/src

# The sources (touched so that cargo rebuilds them rather than trusting the stubs' timestamps).
COPY src src
COPY crates crates
COPY clickhouse clickhouse
COPY schemas schemas
RUN find src crates -name '*.rs' -exec touch {} + \
    && cargo build --release --locked --bin quality-pipeline \
    && strip --strip-debug target/release/quality-pipeline \
    && install -D target/release/quality-pipeline /out/quality-pipeline

# -- runtime ----------------------------------------------------------------------------------------
FROM debian:bookworm-slim

# curl for the compose healthcheck (GET /healthz); zlib and OpenSSL for librdkafka.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl zlib1g libssl3 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 quality \
    && useradd --system --uid 10001 --gid quality --home-dir /home/quality --create-home --shell /usr/sbin/nologin quality

COPY --from=build /out/quality-pipeline /usr/local/bin/quality-pipeline

USER quality:quality
WORKDIR /home/quality
# /metrics, /healthz, /readyz (`run --metrics-addr 0.0.0.0:9464`)
EXPOSE 9464
ENTRYPOINT ["quality-pipeline"]
CMD ["--help"]
