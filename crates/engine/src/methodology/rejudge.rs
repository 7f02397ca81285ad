//! Judging stored rows again under another standards version: the explicit backfill.
//!
//! Numerators and denominators never change; targets, deviations, statuses and the monthly
//! composite do, and the row gets the next version so that it replaces the stored one.

use super::composite::rank;
use super::evaluate::evaluate;
use super::versions::StandardsVersion;
use crate::output::WindowRow;

/// The row judged against `version`, one version above the stored row.
pub fn rejudge(row: &WindowRow, version: &StandardsVersion) -> WindowRow {
    let standards = &version.standards;
    let mut out = row.clone();
    for c in &mut out.metrics {
        let standard = standards.get(c.metric);
        let (value, deviation, status) = evaluate(c.metric, c.metric.raw_numerator(c.numerator), c.denominator, standard);
        (c.value, c.deviation, c.status, c.target) = (value, deviation, status, standard.target);
    }
    let accs = super::rollup::row_sums(row);
    if let Some(composite) = out.composite.as_mut() {
        composite.components = super::composite::explain(&accs, standards);
        composite.score = composite.components.iter().map(|c| c.points).sum();
    }
    out.standards_version = version.id.clone();
    out.version = row.version + 1;
    out
}

/// Ranks again the monthly rows of one month that were ranked before (others keep no rank).
pub fn rerank_month(rows: &mut [WindowRow]) {
    let ranked: Vec<usize> = (0..rows.len()).filter(|&i| rows[i].composite.as_ref().is_some_and(|c| c.rank.is_some())).collect();
    rank(rows, &ranked);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::methodology::{MetricId, Status, VersionedStandards};
    use crate::{Engine, EngineConfig, Output};

    /// Rows of a small stream judged by the engine under `book`.
    fn rows(book: &str) -> Vec<WindowRow> {
        let standards: VersionedStandards = toml::from_str(book).unwrap();
        let mut e = Engine::new(EngineConfig { standards, timezone: chrono_tz::UTC, ..EngineConfig::default() });
        let ev = |id: &str, t: &str, seller: &str, body: &str| format!(r#"{{"event_id":"{id}","occurred_at":"{t}","seller_id":"{seller}",{body}}}"#);
        let lines = [
            ev("a", "2025-03-03T10:00:00Z", "s1", r#""type":"message.received","conversation_id":"k1","message_id":"m1","customer_id":"c""#),
            ev("b", "2025-03-03T10:20:00Z", "s1", r#""type":"message.replied","conversation_id":"k1","message_id":"m1","reply_id":"r1""#),
            ev("c", "2025-03-04T10:00:00Z", "s2", r#""type":"message.received","conversation_id":"k2","message_id":"m2","customer_id":"c""#),
            ev("d", "2025-03-04T10:50:00Z", "s2", r#""type":"message.replied","conversation_id":"k2","message_id":"m2","reply_id":"r2""#),
        ];
        for l in &lines {
            let v = e.ingest(l.as_bytes());
            assert!(matches!(v, crate::Verdict::Accepted(_)), "{l}: {v:?}");
        }
        let mut out = Vec::new();
        e.finish(&mut out);
        out.into_iter().filter_map(|o| if let Output::Row(r) = o { Some(r) } else { None }).collect()
    }

    #[test]
    fn a_row_judged_again_equals_the_row_the_engine_gives_under_that_version() {
        let old = rows("");
        let strict = "id = \"strict\"\n[response_time_avg]\ntarget = \"15m\"\n";
        let new = rows(strict);
        let standards: VersionedStandards = toml::from_str(strict).unwrap();
        let mut months = Vec::new();
        let mut engine_months = Vec::new();
        for (o, n) in old.iter().zip(&new) {
            let mut again = rejudge(o, standards.latest());
            assert_eq!(again.version, o.version + 1);
            again.version = n.version;
            // Overdue items are counts of events under the deadlines in force when they happened: kept.
            let mut expected = n.clone();
            expected.metrics.iter_mut().zip(&o.metrics).for_each(|(c, stored)| c.overdue = stored.overdue);
            if again.cadence == crate::window::Cadence::Month {
                months.push(again);
                engine_months.push(expected);
            } else {
                assert_eq!(again, expected);
            }
        }
        rerank_month(&mut months);
        assert_eq!(months, engine_months);
        let week_s1 = new.iter().find(|r| r.cadence == crate::window::Cadence::Week && &*r.seller_id == "s1").unwrap();
        let cell = week_s1.metrics.iter().find(|c| c.metric == MetricId::ResponseTimeAvg).unwrap();
        assert_eq!((cell.target, cell.status, &*week_s1.standards_version), (900.0, Status::Fail, "strict"));
    }
}
