//! Telemetry: Prometheus metrics (pipeline health and bounded-cardinality quality gauges),
//! the `/metrics`, `/healthz` and `/readyz` endpoints, and log setup.

mod logs;
mod metrics;
mod quality;
mod server;

pub use logs::{init_logs, LogFormat};
pub use metrics::{metrics, EventCounters, Metrics};
pub use quality::QualityBoard;
pub use server::{serve, serve_with_reports, Health};
