-- Analysts' views: the latest version of every window, no FINAL needed in queries.

-- One row per seller, cadence, period and metric: value, target and whether it passed.
CREATE VIEW IF NOT EXISTS standards AS
SELECT seller_id, 'day' AS cadence, period_start, period_end, metric, value, target, deviation,
       previous, change, status, status = 'pass' AS passed, overdue, numerator, denominator, is_final
FROM window_day FINAL
UNION ALL
SELECT seller_id, 'week', period_start, period_end, metric, value, target, deviation,
       previous, change, status, status = 'pass', overdue, numerator, denominator, is_final
FROM window_week FINAL
UNION ALL
SELECT seller_id, 'month', period_start, period_end, metric, value, target, deviation,
       previous, change, status, status = 'pass', overdue, numerator, denominator, is_final
FROM window_month FINAL
UNION ALL
SELECT seller_id, 'rolling_7d', period_start, period_end, metric, value, target, deviation,
       previous, change, status, status = 'pass', overdue, numerator, denominator, is_final
FROM window_rolling_7d FINAL
UNION ALL
SELECT seller_id, 'rolling_30d', period_start, period_end, metric, value, target, deviation,
       previous, change, status, status = 'pass', overdue, numerator, denominator, is_final
FROM window_rolling_30d FINAL;

-- The monthly performer rating, latest version.
CREATE VIEW IF NOT EXISTS performer_rating AS
SELECT seller_id, period_start, period_end, score, rank, ranked_sellers, is_final
FROM composite_month FINAL;
