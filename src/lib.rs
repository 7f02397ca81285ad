//! `quality-pipeline`: adapters, commands and tooling around the pure [`quality_engine`].

pub mod generate;
