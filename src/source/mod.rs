//! Where events come from. Each source yields raw payloads with a position for dead letters.

mod file;

pub use file::FileSource;

use anyhow::{bail, Result};
use std::path::PathBuf;

/// A parsed `--source` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceSpec {
    /// `file:PATH`: NDJSON, `-` for stdin.
    File(PathBuf),
    /// `kafka`: the configured consumer group on the input topics.
    Kafka,
}

/// A parsed `--sink` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SinkSpec {
    /// `file:DIR`: one NDJSON file per table.
    File(PathBuf),
    /// `clickhouse`: the configured ClickHouse database.
    ClickHouse,
}

/// Parses `--source`.
pub fn parse_source(spec: &str) -> Result<SourceSpec> {
    if spec == "kafka" {
        return Ok(SourceSpec::Kafka);
    }
    match spec.split_once(':') {
        Some(("file", path)) if !path.is_empty() => Ok(SourceSpec::File(path.into())),
        _ => bail!("unsupported source {spec:?}; use file:PATH (NDJSON, file:- for stdin) or kafka (with --brokers)"),
    }
}

/// Parses `--sink`.
pub fn parse_sink(spec: &str) -> Result<SinkSpec> {
    if spec == "clickhouse" {
        return Ok(SinkSpec::ClickHouse);
    }
    match spec.split_once(':') {
        Some(("file", dir)) if !dir.is_empty() => Ok(SinkSpec::File(dir.into())),
        _ => bail!("unsupported sink {spec:?}; use file:DIR (writes windows.ndjson and dead_letter.ndjson) or clickhouse (with --clickhouse-url)"),
    }
}
