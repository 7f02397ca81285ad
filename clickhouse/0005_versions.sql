-- Standards versioned by effective date, and calendar quarters.
--
-- Every window row records the id of the standards version it was judged against (the version
-- in force on the window's first day; see docs/methodology.md section 14). Rows written before
-- this migration have an empty id: they were judged against the only version there was.

ALTER TABLE window_day ADD COLUMN IF NOT EXISTS standards_version LowCardinality(String) DEFAULT '';
ALTER TABLE window_week ADD COLUMN IF NOT EXISTS standards_version LowCardinality(String) DEFAULT '';
ALTER TABLE window_month ADD COLUMN IF NOT EXISTS standards_version LowCardinality(String) DEFAULT '';
ALTER TABLE window_rolling_7d ADD COLUMN IF NOT EXISTS standards_version LowCardinality(String) DEFAULT '';
ALTER TABLE window_rolling_30d ADD COLUMN IF NOT EXISTS standards_version LowCardinality(String) DEFAULT '';
ALTER TABLE composite_month ADD COLUMN IF NOT EXISTS standards_version LowCardinality(String) DEFAULT '';

-- Calendar quarters: every standard, one final row per seller and quarter.
CREATE TABLE IF NOT EXISTS window_quarter AS window_day;

-- The standards view gains quarters and the version each row was judged against.
CREATE OR REPLACE VIEW standards AS
SELECT seller_id, 'day' AS cadence, period_start, period_end, metric, value, target, deviation,
       previous, change, status, status = 'pass' AS passed, overdue, numerator, denominator, is_final, standards_version
FROM window_day FINAL
UNION ALL
SELECT seller_id, 'week', period_start, period_end, metric, value, target, deviation,
       previous, change, status, status = 'pass', overdue, numerator, denominator, is_final, standards_version
FROM window_week FINAL
UNION ALL
SELECT seller_id, 'month', period_start, period_end, metric, value, target, deviation,
       previous, change, status, status = 'pass', overdue, numerator, denominator, is_final, standards_version
FROM window_month FINAL
UNION ALL
SELECT seller_id, 'quarter', period_start, period_end, metric, value, target, deviation,
       previous, change, status, status = 'pass', overdue, numerator, denominator, is_final, standards_version
FROM window_quarter FINAL
UNION ALL
SELECT seller_id, 'rolling_7d', period_start, period_end, metric, value, target, deviation,
       previous, change, status, status = 'pass', overdue, numerator, denominator, is_final, standards_version
FROM window_rolling_7d FINAL
UNION ALL
SELECT seller_id, 'rolling_30d', period_start, period_end, metric, value, target, deviation,
       previous, change, status, status = 'pass', overdue, numerator, denominator, is_final, standards_version
FROM window_rolling_30d FINAL;

CREATE OR REPLACE VIEW performer_rating AS
SELECT seller_id, period_start, period_end, score,
       if(is_final, toNullable(toUInt32(rank() OVER (PARTITION BY period_start, is_final ORDER BY score DESC))), NULL) AS rank,
       if(is_final, toNullable(toUInt32(count() OVER (PARTITION BY period_start, is_final))), NULL) AS ranked_sellers,
       is_final, standards_version
FROM composite_month FINAL;
