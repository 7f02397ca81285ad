-- Incentive tiers (docs/methodology.md section 10.6): every change of a seller's membership
-- in a tier, as `quality-pipeline incentives --clickhouse` decides it over all sellers' closed
-- months. At most one change per seller, tier and month, so that key makes re-inserting the
-- same change (a second run, a run after a crash) collapse into one row.
CREATE TABLE IF NOT EXISTS incentives
(
    change_id        String,
    seller_id        String,
    tier             LowCardinality(String),
    change           LowCardinality(String),
    month_start      Date,
    rule             LowCardinality(String),
    score            Nullable(Float64),
    percentile       Nullable(Float64),
    rank             Nullable(UInt32),
    eligible_sellers UInt32,
    orders           Int64,
    stage            LowCardinality(String),
    months_in_tier   UInt32
)
ENGINE = ReplacingMergeTree
ORDER BY (seller_id, tier, month_start);

-- The tiers each seller holds now: its latest change per tier, when that is an entry.
-- `since` is the first day held (the day after the month that decided the entry).
CREATE OR REPLACE VIEW incentive_tiers AS
SELECT seller_id, tier, max(month_start) AS entered_month, addMonths(max(month_start), 1) AS since
FROM incentives FINAL
GROUP BY seller_id, tier
HAVING argMax(change, month_start) = 'entered';
