-- Acting on quality (docs/methodology.md section 10): escalations, survey requests, critics,
-- the reasons for negative reviews, and the month's leaders. Every table is keyed by the
-- output's identity, so a replay or a restart that writes the same output again collapses
-- into one row.

-- Transitions on the escalation ladder: at most one per seller and ISO week.
CREATE TABLE IF NOT EXISTS escalations
(
    escalation_id   String,
    seller_id       String,
    week_start      Date,
    from_stage      LowCardinality(String),
    to_stage        LowCardinality(String),
    rule            LowCardinality(String),
    standards       Array(String),
    evidence_metric Array(String),
    evidence_value  Array(Nullable(Float64)),
    evidence_target Array(Float64),
    evidence_status Array(String),
    failed_weeks    UInt32,
    deadline        Nullable(Date)
)
ENGINE = ReplacingMergeTree
ORDER BY (seller_id, week_start);

-- Survey requests: one per order, ever.
CREATE TABLE IF NOT EXISTS survey_requests
(
    survey_id    String,
    seller_id    String,
    order_id     String,
    customer_id  String,
    delivered_at DateTime64(3, 'UTC'),
    requested_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY (seller_id, survey_id);

-- Critics and where they stand (open, overdue, answered_late, answered_in_time): the highest
-- version of each critic is its current state.
CREATE TABLE IF NOT EXISTS critics
(
    critic_id      String,
    seller_id      String,
    source         LowCardinality(String),
    customer_id    String,
    score          UInt8,
    created_at     DateTime64(3, 'UTC'),
    due_at         DateTime64(3, 'UTC'),
    followed_up_at Nullable(DateTime64(3, 'UTC')),
    status         LowCardinality(String),
    version        UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (seller_id, critic_id);

-- The reasons named by negative reviews (rated 1..3), per seller and closed ISO week.
CREATE TABLE IF NOT EXISTS negative_reasons
(
    seller_id        String,
    week_start       Date,
    reason           String,
    count            UInt32,
    share            Float64,
    negative_reviews UInt32
)
ENGINE = ReplacingMergeTree
ORDER BY (seller_id, week_start, reason);

-- Quality leaders of each final month: the top decile by composite score among sellers with
-- at least 30 orders created in the month (actions.leaders in the config; keep the two in
-- step), ties at the cut included.
CREATE OR REPLACE VIEW leaders AS
WITH eligible AS
(
    SELECT r.seller_id AS seller_id, r.period_start AS month_start, r.score AS score
    FROM performer_rating AS r
    INNER JOIN (SELECT seller_id, period_start, denominator FROM window_month FINAL WHERE metric = 'seller_cancellation_share') AS o
        ON o.seller_id = r.seller_id AND o.period_start = r.period_start
    WHERE r.is_final AND o.denominator >= 30
),
ranked AS
(
    SELECT seller_id, month_start, score,
           toUInt32(rank() OVER (PARTITION BY month_start ORDER BY score DESC)) AS rank,
           toUInt32(count() OVER (PARTITION BY month_start)) AS eligible_sellers
    FROM eligible
)
SELECT seller_id, month_start, score, rank, eligible_sellers
FROM ranked
WHERE rank <= ceil(eligible_sellers * 0.1);

-- Checkpoints record a position per output topic (dead letters, escalations, survey requests).
ALTER TABLE checkpoints ADD COLUMN IF NOT EXISTS output_positions Array(Int64) AFTER offsets;
ALTER TABLE checkpoints DROP COLUMN IF EXISTS dead_letter_position;
