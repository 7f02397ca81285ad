-- Survey questions and key drivers of the service profile (docs/methodology.md section 15.6),
-- and the site of every critic (section 15.3).
--
-- survey_questions: per window row (entity, department, id, cadence, period) and question, the
-- integer sums of (question score x, overall score y) over the surveys that answered it: n,
-- Σx, Σy, Σx², Σy², Σxy. Rows are upserts like the window rows (the same version and
-- finality as the row they come from), so a replay or a restart collapses into one row. They
-- are sums, so any roll-up (a department's performers, the company's departments, a quarter's
-- months) is exact. One table for all cadences: there are a few questions per row.
--
-- A question that leaves a window before it is final (its only survey disputed, or moved to
-- another owner by an earlier closure) keeps its last non-final row here: a final row has
-- every question of the window, so read final rows (`is_final`), as key_drivers does.
CREATE TABLE IF NOT EXISTS survey_questions
(
    seller_id      String,
    entity         LowCardinality(String),
    department_id  String,
    cadence        LowCardinality(String),
    period_start   Date,
    period_end     Date,
    question_id    String,
    surveys        Int64,
    sum_score      Int64,
    sum_overall    Int64,
    sum_score_sq   Int64,
    sum_overall_sq Int64,
    sum_cross      Int64,
    is_final       Bool,
    version        UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(period_start)
ORDER BY (entity, department_id, seller_id, cadence, period_start, question_id);

-- Key drivers of each final month, per department and company-wide (the departments' sums
-- added up; entity and seller_id 'company'), as the engine's `drivers` of a monthly row: for
-- every question but `overall`, its sample, mean score and Pearson's r with the overall score
-- (NULL below 2 surveys or when either score never varies); reliable with n >= 30
-- (DRIVER_MIN_SAMPLE) and r defined; rank 1 = the strongest reliable driver (ties by question
-- id), NULL when not reliable; fix_first: reliable, r at least the median r of the group's
-- reliable questions and mean score below their median mean score.
CREATE OR REPLACE VIEW key_drivers AS
WITH
sums AS
(
    SELECT seller_id, entity, period_start, period_end, question_id,
           surveys AS n, sum_score AS sx, sum_overall AS sy, sum_score_sq AS sxx, sum_overall_sq AS syy, sum_cross AS sxy
    FROM survey_questions FINAL
    WHERE entity = 'department' AND cadence = 'month' AND is_final AND question_id != 'overall'
    UNION ALL
    SELECT 'company', 'company', period_start, any(period_end), question_id,
           sum(surveys), sum(sum_score), sum(sum_overall), sum(sum_score_sq), sum(sum_overall_sq), sum(sum_cross)
    FROM survey_questions FINAL
    WHERE entity = 'department' AND cadence = 'month' AND is_final AND question_id != 'overall'
    GROUP BY period_start, question_id
),
judged AS
(
    SELECT seller_id, entity, period_start, period_end, question_id, n, sx / n AS mean_score,
           toInt128(n) * sxy - toInt128(sx) * sy AS cov,
           toInt128(n) * sxx - toInt128(sx) * sx AS vx,
           toInt128(n) * syy - toInt128(sy) * sy AS vy,
           if(n >= 2 AND vx > 0 AND vy > 0, toNullable(toFloat64(cov) / (sqrt(toFloat64(vx)) * sqrt(toFloat64(vy)))), NULL) AS correlation,
           toBool(n >= 30 AND correlation IS NOT NULL) AS reliable
    FROM sums
),
ranked AS
(
    SELECT seller_id, entity, period_start, period_end, question_id, n, mean_score, correlation, reliable,
           row_number() OVER (PARTITION BY entity, seller_id, period_start, reliable ORDER BY correlation DESC, question_id) AS position,
           arraySort(groupArrayIf(assumeNotNull(correlation), reliable) OVER g) AS rs,
           arraySort(groupArrayIf(mean_score, reliable) OVER g) AS ms
    FROM judged
    WINDOW g AS (PARTITION BY entity, seller_id, period_start)
)
SELECT seller_id, entity, period_start, period_end, question_id, n AS sample, mean_score, correlation, reliable,
       if(reliable, toNullable(toUInt32(position)), NULL) AS rank,
       toBool(reliable AND ifNull(
           correlation >= if(length(rs) % 2 = 1, rs[intDiv(length(rs), 2) + 1], (rs[intDiv(length(rs), 2)] + rs[intDiv(length(rs), 2) + 1]) / 2)
           AND mean_score < if(length(ms) % 2 = 1, ms[intDiv(length(ms), 2) + 1], (ms[intDiv(length(ms), 2)] + ms[intDiv(length(ms), 2) + 1]) / 2),
           false)) AS fix_first
FROM ranked;

-- The site whose manager must follow a critic up (service profile; '' for the marketplace),
-- so that open and overdue critics roll up per site.
ALTER TABLE critics ADD COLUMN IF NOT EXISTS site_id String DEFAULT '' AFTER seller_id;

-- Performers are also ranked across the whole company (docs/methodology.md section 15.1);
-- for sellers and departments the company rank is their rank.
CREATE OR REPLACE VIEW performer_rating AS
SELECT seller_id, entity, department_id, period_start, period_end, score,
       if(is_final, toNullable(toUInt32(rank() OVER (PARTITION BY period_start, is_final, entity, department_id ORDER BY score DESC))), NULL) AS rank,
       if(is_final, toNullable(toUInt32(count() OVER (PARTITION BY period_start, is_final, entity, department_id))), NULL) AS ranked_sellers,
       is_final, standards_version,
       if(is_final, toNullable(toUInt32(rank() OVER (PARTITION BY period_start, is_final, entity ORDER BY score DESC))), NULL) AS company_rank,
       if(is_final, toNullable(toUInt32(count() OVER (PARTITION BY period_start, is_final, entity))), NULL) AS company_ranked
FROM composite_month FINAL;
