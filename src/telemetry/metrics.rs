//! Every metric the pipeline exports, registered once. Names follow Prometheus conventions
//! (`quality_pipeline_` prefix, `_total` counters, seconds, ratios 0..1); label values are
//! bounded sets (topics, partitions, reason codes, cadences, metrics), never sellers or
//! customers, except the opt-in, capped worst-sellers gauge.

use prometheus::{
    exponential_buckets, Encoder, GaugeVec, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};
use quality_engine::contract::{EventType, RejectReason};
use quality_engine::Verdict;
use std::sync::OnceLock;

/// The pipeline's metrics.
pub struct Metrics {
    registry: Registry,
    /// Events counted, by input topic, event type and outcome (`accepted`, `duplicate`).
    pub events: IntCounterVec,
    /// Events rejected (dead-lettered), by input topic and reason code.
    pub rejected: IntCounterVec,
    /// Records left to read, by topic and partition.
    pub lag: IntGaugeVec,
    /// Event-time watermark, unix seconds, by partition.
    pub watermark: GaugeVec,
    /// Wall clock minus the watermark, seconds, by partition.
    pub watermark_delay: GaugeVec,
    /// State held, by kind.
    pub state_items: IntGaugeVec,
    /// Size of the latest checkpoints of the assigned partitions, bytes.
    pub checkpoint_bytes: IntGauge,
    /// Partitions assigned to this instance.
    pub assigned_partitions: IntGauge,
    /// Rebalance events, by kind (`assign`, `revoke`, `lost`).
    pub rebalances: IntCounterVec,
    /// Batches written, by sink.
    pub sink_batches: IntCounterVec,
    /// Rows written, by sink and table.
    pub sink_rows: IntCounterVec,
    /// Failed writes (each retried), by sink.
    pub sink_errors: IntCounterVec,
    /// Time to make one batch durable, by sink.
    pub sink_flush: HistogramVec,
    /// Time from handing a commit cycle to the writer until its offsets are committed.
    pub commit_seconds: Histogram,
    /// Commit cycles made durable.
    pub commits: IntCounter,
    /// Platform-wide value of each standard in the latest closed period of each cadence.
    pub standard_value: GaugeVec,
    /// Target of each standard.
    pub standard_target: GaugeVec,
    /// Sellers with data for each standard in that period.
    pub standard_sellers: IntGaugeVec,
    /// Sellers failing each standard in that period.
    pub standard_breaching: IntGaugeVec,
    /// Start of that period, unix seconds (local midnight).
    pub standard_period_start: GaugeVec,
    /// Opt-in: the value of the worst sellers per cadence and standard (capped list).
    pub seller_standard_value: GaugeVec,
}

/// The process-wide metrics.
pub fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::new)
}

fn opts(name: &str, help: &str) -> Opts {
    Opts::new(format!("quality_pipeline_{name}"), help)
}

impl Metrics {
    fn new() -> Metrics {
        let registry = Registry::new();
        let seconds =
            |name: &str, help: &str| HistogramOpts::from(opts(name, help)).buckets(exponential_buckets(0.001, 2.0, 16).expect("valid buckets"));
        let m = Metrics {
            events: IntCounterVec::new(
                opts("events_total", "Events counted, by input topic, event type and outcome."),
                &["topic", "type", "outcome"],
            )
            .expect("metric"),
            rejected: IntCounterVec::new(
                opts("events_rejected_total", "Events rejected and dead-lettered, by input topic and reason code."),
                &["topic", "reason"],
            )
            .expect("metric"),
            lag: IntGaugeVec::new(opts("consumer_lag", "Records left to read, by topic and partition."), &["topic", "partition"]).expect("metric"),
            watermark: GaugeVec::new(opts("watermark_seconds", "Event-time watermark (unix seconds), by partition."), &["partition"])
                .expect("metric"),
            watermark_delay: GaugeVec::new(opts("watermark_delay_seconds", "Wall clock minus the watermark, by partition."), &["partition"])
                .expect("metric"),
            state_items: IntGaugeVec::new(opts("state_items", "State held by the engines, by kind."), &["kind"]).expect("metric"),
            checkpoint_bytes: IntGauge::with_opts(opts("checkpoint_bytes", "Size of the latest checkpoints of the assigned partitions."))
                .expect("metric"),
            assigned_partitions: IntGauge::with_opts(opts("assigned_partitions", "Input partitions assigned to this instance.")).expect("metric"),
            rebalances: IntCounterVec::new(opts("rebalances_total", "Rebalance events, by kind."), &["kind"]).expect("metric"),
            sink_batches: IntCounterVec::new(opts("sink_batches_total", "Batches written, by sink."), &["sink"]).expect("metric"),
            sink_rows: IntCounterVec::new(opts("sink_rows_total", "Rows written, by sink and table."), &["sink", "table"]).expect("metric"),
            sink_errors: IntCounterVec::new(opts("sink_errors_total", "Failed writes, each retried, by sink."), &["sink"]).expect("metric"),
            sink_flush: HistogramVec::new(seconds("sink_flush_seconds", "Time to make one batch durable, by sink."), &["sink"]).expect("metric"),
            commit_seconds: Histogram::with_opts(seconds("commit_seconds", "Time from a commit cycle's hand-off until its offsets are committed."))
                .expect("metric"),
            commits: IntCounter::with_opts(opts("commits_total", "Commit cycles made durable.")).expect("metric"),
            standard_value: GaugeVec::new(
                opts("standard_value", "Platform-wide value of a standard in the latest closed period (seconds, ratio 0..1, points or 1..5)."),
                &["cadence", "metric"],
            )
            .expect("metric"),
            standard_target: GaugeVec::new(opts("standard_target", "Target of a standard."), &["metric"]).expect("metric"),
            standard_sellers: IntGaugeVec::new(
                opts("standard_sellers", "Sellers with data for a standard in the latest closed period."),
                &["cadence", "metric"],
            )
            .expect("metric"),
            standard_breaching: IntGaugeVec::new(
                opts("standard_breaching_sellers", "Sellers failing a standard in the latest closed period."),
                &["cadence", "metric"],
            )
            .expect("metric"),
            standard_period_start: GaugeVec::new(
                opts("standard_period_start_seconds", "Start of the latest closed period (unix seconds)."),
                &["cadence"],
            )
            .expect("metric"),
            seller_standard_value: GaugeVec::new(
                opts("seller_standard_value", "Value of a standard for the worst sellers of the latest closed period (opt-in, capped)."),
                &["cadence", "metric", "seller_id"],
            )
            .expect("metric"),
            registry,
        };
        let build = IntGaugeVec::new(opts("build_info", "Build information; always 1."), &["version"]).expect("metric");
        build.with_label_values(&[env!("CARGO_PKG_VERSION")]).set(1);
        let collectors: Vec<Box<dyn prometheus::core::Collector>> = vec![
            Box::new(build),
            Box::new(m.events.clone()),
            Box::new(m.rejected.clone()),
            Box::new(m.lag.clone()),
            Box::new(m.watermark.clone()),
            Box::new(m.watermark_delay.clone()),
            Box::new(m.state_items.clone()),
            Box::new(m.checkpoint_bytes.clone()),
            Box::new(m.assigned_partitions.clone()),
            Box::new(m.rebalances.clone()),
            Box::new(m.sink_batches.clone()),
            Box::new(m.sink_rows.clone()),
            Box::new(m.sink_errors.clone()),
            Box::new(m.sink_flush.clone()),
            Box::new(m.commit_seconds.clone()),
            Box::new(m.commits.clone()),
            Box::new(m.standard_value.clone()),
            Box::new(m.standard_target.clone()),
            Box::new(m.standard_sellers.clone()),
            Box::new(m.standard_breaching.clone()),
            Box::new(m.standard_period_start.clone()),
            Box::new(m.seller_standard_value.clone()),
            Box::new(prometheus::process_collector::ProcessCollector::for_self()),
        ];
        for c in collectors {
            m.registry.register(c).expect("metric names are unique");
        }
        m
    }

    /// The text exposition of every metric.
    pub fn render(&self) -> Vec<u8> {
        let mut out = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut out).expect("text encoding never fails");
        out
    }
}

/// Per-record counters of one input topic, resolved once so that counting costs no lookup.
pub struct EventCounters {
    accepted: Vec<IntCounter>,
    duplicates: Vec<IntCounter>,
    rejected: Vec<IntCounter>,
}

impl EventCounters {
    /// The counters of records from `topic`.
    pub fn new(topic: &str) -> EventCounters {
        let m = metrics();
        let by_type = |outcome: &str| EventType::ALL.iter().map(|t| m.events.with_label_values(&[topic, t.as_str(), outcome])).collect();
        EventCounters {
            accepted: by_type("accepted"),
            duplicates: by_type("duplicate"),
            rejected: RejectReason::ALL.iter().map(|r| m.rejected.with_label_values(&[topic, r.as_str()])).collect(),
        }
    }

    /// Counts one verdict.
    pub fn count(&self, v: &Verdict) {
        match v {
            Verdict::Accepted(t) => self.accepted[*t as usize].inc(),
            Verdict::Duplicate(t) => self.duplicates[*t as usize].inc(),
            Verdict::Rejected(r) => self.rejected[r.reason as usize].inc(),
        }
    }

    /// Counts a rejection the engine made from its state (e.g. an orphan given up).
    pub fn count_rejection(&self, reason: RejectReason) {
        self.rejected[reason as usize].inc();
    }
}
