-- Feedback excluded by accepted disputes (docs/methodology.md section 15.5): how many
-- feedback items given in a window no longer count anywhere. It belongs to the window, not to
-- one metric, so every metric row of the window carries the same count (read it from any of
-- them, e.g. `any(excluded_feedback)` grouped by the window's key). Rows stored before this
-- migration read 0: they were written before the count was stored.

ALTER TABLE window_day ADD COLUMN IF NOT EXISTS excluded_feedback Int64 DEFAULT 0;
ALTER TABLE window_week ADD COLUMN IF NOT EXISTS excluded_feedback Int64 DEFAULT 0;
ALTER TABLE window_month ADD COLUMN IF NOT EXISTS excluded_feedback Int64 DEFAULT 0;
ALTER TABLE window_quarter ADD COLUMN IF NOT EXISTS excluded_feedback Int64 DEFAULT 0;
ALTER TABLE window_rolling_7d ADD COLUMN IF NOT EXISTS excluded_feedback Int64 DEFAULT 0;
ALTER TABLE window_rolling_30d ADD COLUMN IF NOT EXISTS excluded_feedback Int64 DEFAULT 0;
