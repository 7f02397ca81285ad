-- Streaming state: the latest checkpoint of every partition's engine, written after the rows
-- it depends on and before the input offsets are committed (docs/architecture.md). A restart
-- or a partition moving to another instance restores the engine from here and reads on from
-- `offsets`; older versions are merged away.
CREATE TABLE IF NOT EXISTS checkpoints
(
    consumer_group       String,
    partition            UInt32,
    version              UInt64,
    topics               Array(String),
    offsets              Array(Int64),
    dead_letter_position Int64,
    suppressed           Array(UInt64),
    state                String,
    written_at           DateTime64(3) DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (consumer_group, partition);

-- Each partition's engine ranks only its own sellers, so the rating's rank is computed here,
-- over every seller of the month: 1 = best, ties share a rank. Null until the month is final.
CREATE OR REPLACE VIEW performer_rating AS
SELECT seller_id, period_start, period_end, score,
       if(is_final, toNullable(toUInt32(rank() OVER (PARTITION BY period_start, is_final ORDER BY score DESC))), NULL) AS rank,
       if(is_final, toNullable(toUInt32(count() OVER (PARTITION BY period_start, is_final))), NULL) AS ranked_sellers,
       is_final
FROM composite_month FINAL;
