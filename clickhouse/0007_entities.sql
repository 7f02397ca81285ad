-- Entities of the service profile (docs/methodology.md section 15): window rows and ratings
-- are kept for departments (the stream key) and for performers inside a department, besides
-- the marketplace's sellers. `entity` says what `seller_id` names (seller | department |
-- performer) and `department_id` is a performer's department ('' for sellers and departments).
-- Both join the sorting key, so that a performer's row never collapses with a department's row
-- of the same id, nor with the same performer's row in another department. Rows stored before
-- this migration are sellers' rows: they read entity 'seller' and department_id ''.
--
-- ClickHouse refuses to add a column to the sorting key in the ALTER that adds it when the
-- column has a DEFAULT ("Newly added column ... has a default expression"), so the columns are
-- added without one (the key may only grow by columns added in the same ALTER), and their
-- defaults are set by a second ALTER. Parts written before hold neither column and read the
-- default, the same constant for all their rows, so their sort order stays valid. Re-running
-- the first ALTER once the columns are in the key changes nothing.

ALTER TABLE window_day
    ADD COLUMN IF NOT EXISTS entity LowCardinality(String) AFTER seller_id,
    ADD COLUMN IF NOT EXISTS department_id String AFTER entity,
    MODIFY ORDER BY (seller_id, period_start, metric, entity, department_id);
ALTER TABLE window_day MODIFY COLUMN entity DEFAULT 'seller', MODIFY COLUMN department_id DEFAULT '';

ALTER TABLE window_week
    ADD COLUMN IF NOT EXISTS entity LowCardinality(String) AFTER seller_id,
    ADD COLUMN IF NOT EXISTS department_id String AFTER entity,
    MODIFY ORDER BY (seller_id, period_start, metric, entity, department_id);
ALTER TABLE window_week MODIFY COLUMN entity DEFAULT 'seller', MODIFY COLUMN department_id DEFAULT '';

ALTER TABLE window_month
    ADD COLUMN IF NOT EXISTS entity LowCardinality(String) AFTER seller_id,
    ADD COLUMN IF NOT EXISTS department_id String AFTER entity,
    MODIFY ORDER BY (seller_id, period_start, metric, entity, department_id);
ALTER TABLE window_month MODIFY COLUMN entity DEFAULT 'seller', MODIFY COLUMN department_id DEFAULT '';

ALTER TABLE window_quarter
    ADD COLUMN IF NOT EXISTS entity LowCardinality(String) AFTER seller_id,
    ADD COLUMN IF NOT EXISTS department_id String AFTER entity,
    MODIFY ORDER BY (seller_id, period_start, metric, entity, department_id);
ALTER TABLE window_quarter MODIFY COLUMN entity DEFAULT 'seller', MODIFY COLUMN department_id DEFAULT '';

ALTER TABLE window_rolling_7d
    ADD COLUMN IF NOT EXISTS entity LowCardinality(String) AFTER seller_id,
    ADD COLUMN IF NOT EXISTS department_id String AFTER entity,
    MODIFY ORDER BY (seller_id, period_start, metric, entity, department_id);
ALTER TABLE window_rolling_7d MODIFY COLUMN entity DEFAULT 'seller', MODIFY COLUMN department_id DEFAULT '';

ALTER TABLE window_rolling_30d
    ADD COLUMN IF NOT EXISTS entity LowCardinality(String) AFTER seller_id,
    ADD COLUMN IF NOT EXISTS department_id String AFTER entity,
    MODIFY ORDER BY (seller_id, period_start, metric, entity, department_id);
ALTER TABLE window_rolling_30d MODIFY COLUMN entity DEFAULT 'seller', MODIFY COLUMN department_id DEFAULT '';

ALTER TABLE composite_month
    ADD COLUMN IF NOT EXISTS entity LowCardinality(String) AFTER seller_id,
    ADD COLUMN IF NOT EXISTS department_id String AFTER entity,
    MODIFY ORDER BY (seller_id, period_start, entity, department_id);
ALTER TABLE composite_month MODIFY COLUMN entity DEFAULT 'seller', MODIFY COLUMN department_id DEFAULT '';

-- The standards view names the entity of every row. A marketplace database has sellers only:
-- its queries give what they gave before.
CREATE OR REPLACE VIEW standards AS
SELECT seller_id, entity, department_id, 'day' AS cadence, period_start, period_end, metric, value, target, deviation,
       previous, change, status, status = 'pass' AS passed, overdue, numerator, denominator, is_final, standards_version
FROM window_day FINAL
UNION ALL
SELECT seller_id, entity, department_id, 'week', period_start, period_end, metric, value, target, deviation,
       previous, change, status, status = 'pass', overdue, numerator, denominator, is_final, standards_version
FROM window_week FINAL
UNION ALL
SELECT seller_id, entity, department_id, 'month', period_start, period_end, metric, value, target, deviation,
       previous, change, status, status = 'pass', overdue, numerator, denominator, is_final, standards_version
FROM window_month FINAL
UNION ALL
SELECT seller_id, entity, department_id, 'quarter', period_start, period_end, metric, value, target, deviation,
       previous, change, status, status = 'pass', overdue, numerator, denominator, is_final, standards_version
FROM window_quarter FINAL
UNION ALL
SELECT seller_id, entity, department_id, 'rolling_7d', period_start, period_end, metric, value, target, deviation,
       previous, change, status, status = 'pass', overdue, numerator, denominator, is_final, standards_version
FROM window_rolling_7d FINAL
UNION ALL
SELECT seller_id, entity, department_id, 'rolling_30d', period_start, period_end, metric, value, target, deviation,
       previous, change, status, status = 'pass', overdue, numerator, denominator, is_final, standards_version
FROM window_rolling_30d FINAL;

-- Ranks of a final month: sellers among all sellers and departments among all departments
-- (every partition's engine ranks only its own), performers within their department (whose
-- requests one engine holds, so these equal the engine's ranks). 1 = best, ties share a rank.
CREATE OR REPLACE VIEW performer_rating AS
SELECT seller_id, entity, department_id, period_start, period_end, score,
       if(is_final, toNullable(toUInt32(rank() OVER (PARTITION BY period_start, is_final, entity, department_id ORDER BY score DESC))), NULL) AS rank,
       if(is_final, toNullable(toUInt32(count() OVER (PARTITION BY period_start, is_final, entity, department_id))), NULL) AS ranked_sellers,
       is_final, standards_version
FROM composite_month FINAL;

-- Leaders are marketplace sellers (docs/methodology.md section 10); as in 0004 otherwise.
CREATE OR REPLACE VIEW leaders AS
WITH eligible AS
(
    SELECT r.seller_id AS seller_id, r.period_start AS month_start, r.score AS score
    FROM performer_rating AS r
    INNER JOIN
    (
        SELECT seller_id, period_start, denominator FROM window_month FINAL
        WHERE metric = 'seller_cancellation_share' AND entity = 'seller'
    ) AS o
        ON o.seller_id = r.seller_id AND o.period_start = r.period_start
    WHERE r.is_final AND r.entity = 'seller' AND o.denominator >= 30
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
