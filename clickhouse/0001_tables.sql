-- Window rows: one table per cadence, one row per seller, period and metric.
-- Rows are upserts: ReplacingMergeTree keeps the highest `version` of each
-- (seller_id, period_start, metric); final rows have version 2^62. Durations are seconds,
-- shares are ratios 0..1, NPS is points; see docs/methodology.md for every column.

CREATE TABLE IF NOT EXISTS window_day
(
    seller_id    String,
    period_start Date,
    period_end   Date,
    metric       LowCardinality(String),
    numerator    Float64,
    denominator  Int64,
    value        Nullable(Float64),
    target       Float64,
    deviation    Nullable(Float64),
    previous     Nullable(Float64),
    change       Nullable(Float64),
    status       LowCardinality(String),
    overdue      Int64,
    is_final     Bool,
    version      UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(period_start)
ORDER BY (seller_id, period_start, metric);

CREATE TABLE IF NOT EXISTS window_week AS window_day;
CREATE TABLE IF NOT EXISTS window_month AS window_day;
CREATE TABLE IF NOT EXISTS window_rolling_7d AS window_day;
CREATE TABLE IF NOT EXISTS window_rolling_30d AS window_day;

-- The monthly performer rating (composite 0..100 and rank among the month's sellers).
CREATE TABLE IF NOT EXISTS composite_month
(
    seller_id      String,
    period_start   Date,
    period_end     Date,
    score          Float64,
    rank           Nullable(UInt32),
    ranked_sellers Nullable(UInt32),
    is_final       Bool,
    version        UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (seller_id, period_start);

-- Every event that did not count, with its reason and original payload. `source` says where
-- it came from (file:line, or topic/partition@offset); re-sends of the same dead letter
-- collapse into one row.
CREATE TABLE IF NOT EXISTS dead_letters
(
    source      String,
    reason      LowCardinality(String),
    field       Nullable(String),
    detail      String,
    payload     Nullable(String),
    payload_hex Nullable(String),
    recorded_at DateTime64(3) DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree
ORDER BY (source, reason, cityHash64(ifNull(payload, ''), ifNull(payload_hex, '')));
