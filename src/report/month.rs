//! The monthly table: the sellers with the lowest performer rating in a month, with their figures.

use super::breach::{cell, short};
use quality_engine::methodology::Status;
use quality_engine::output::WindowRow;
use std::fmt::Write;

/// Renders the final rows of one month: the `top` sellers with the lowest composite rating
/// (ties by seller id), each with its rating, rank, failed standards and every metric.
pub fn worst_of_month(month: &[&WindowRow], top: usize) -> String {
    let Some(first) = month.first() else {
        return "No monthly rows: no events in that month.\n".into();
    };
    let score = |r: &WindowRow| r.composite.as_ref().map_or(f64::INFINITY, |c| c.score);
    let fails = |r: &WindowRow| r.metrics.iter().filter(|c| c.status == Status::Fail).count();
    let mut rows: Vec<&WindowRow> = month.to_vec();
    rows.sort_by(|a, b| score(a).total_cmp(&score(b)).then_with(|| a.seller_id.cmp(&b.seller_id)));
    let breaching = rows.iter().filter(|r| fails(r) > 0).count();

    let mut out = String::new();
    let _ = writeln!(
        out,
        "Month {} .. {}: {} sellers with data, {} breach at least one standard; the {} with the lowest rating:",
        first.period_start,
        first.period_end.pred(),
        rows.len(),
        breaching,
        top.min(rows.len())
    );
    let mut table: Vec<Vec<String>> = vec![["seller", "rating", "rank", "fails"].iter().map(|s| s.to_string()).collect()];
    table[0].extend(first.metrics.iter().map(|c| short(c.metric).to_string()));
    for r in rows.iter().take(top) {
        let c = r.composite.as_ref();
        let mut line = vec![
            r.seller_id.to_string(),
            c.map_or("-".into(), |c| format!("{:.1}", c.score)),
            c.and_then(|c| c.rank).map_or("-".into(), |k| k.to_string()),
            fails(r).to_string(),
        ];
        line.extend(r.metrics.iter().map(cell));
        table.push(line);
    }
    let mut targets = vec!["target".to_string(), String::new(), String::new(), String::new()];
    targets.extend(first.metrics.iter().map(|c| super::format_value(c.metric, c.target)));
    table.push(targets);
    super::write_aligned(&mut out, &table);
    out.push_str("rating: the monthly performer rating 0..100 (docs/methodology.md section 6); '!' misses its target, '-' no data.\n");
    out
}
