//! Incentive tiers over stored results: the inputs read from ClickHouse, the changes written
//! back to its `incentives` table, and their publication on the incentive topic, once.
//!
//! The decisions themselves are the engine's ([`quality_engine::actions::tier_changes`]): this
//! module only moves their inputs and outputs. The file sink computes the same changes at
//! each commit (`incentives.ndjson`); `quality-pipeline incentives` does it over ClickHouse.

pub mod publish;
pub mod store;
