//! The review as Markdown: per standard the trend counts and the proposed target, the
//! platform's pass shares by week, and the sellers declining the most.

use super::model::{Review, SellerReview, StandardReview};
use super::trend::Verdict;
use crate::report::weekly::format;
use quality_engine::methodology::{MetricId, Unit};
use std::fmt::Write;

/// The summary; `top` sellers are listed per standard among those declining the most.
pub fn render_markdown(r: &Review, top: usize) -> String {
    let mut out = String::new();
    let m = &r.method;
    let _ = writeln!(out, "# Quarterly review {}\n", r.quarter);
    let weeks = match (r.weeks.first(), r.weeks.last()) {
        (Some(a), Some(b)) => format!("ISO weeks {a} .. {b}"),
        _ => "no ISO week".into(),
    };
    let _ = writeln!(
        out,
        "{} .. {} ({}), {weeks} (a week belongs to the quarter holding its Thursday); {} sellers with final rows.",
        r.period.start, r.period.end, r.period.timezone, r.sellers
    );
    let _ = writeln!(
        out,
        "Trend: the least-squares slope of a seller's weekly values with its {} band; improving or declining when the band excludes 0, \
         stable when it includes 0, insufficient with fewer than {} weekly values (docs/methodology.md, section 13).\n",
        whole_pct(m.confidence),
        m.min_weeks
    );

    let _ = writeln!(out, "## Standards\n");
    let _ = writeln!(out, "| standard | target | sellers | met over the quarter | improving | stable | declining | insufficient | proposed target |");
    let _ = writeln!(out, "|---|---|--:|--:|--:|--:|--:|--:|---|");
    for s in &r.standards {
        let t = &s.trends;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            s.name,
            format::target(s.metric, s.target),
            s.sellers.len(),
            counted(s.quarter.passing, s.quarter.sellers),
            t.improving,
            t.stable,
            t.declining,
            t.insufficient,
            proposed(s)
        );
    }

    let _ = writeln!(out, "\n## Platform pass share by week\n");
    let _ = writeln!(out, "Sellers meeting the standard in the week, of those whose final weekly row judges it.\n");
    let names: Vec<&str> = r.standards.iter().map(|s| s.name).collect();
    let _ = writeln!(out, "| week | {} |", names.join(" | "));
    let _ = writeln!(out, "|---|{}", "--:|".repeat(names.len()));
    for (i, week) in r.weeks.iter().enumerate() {
        let shares: Vec<String> = r.standards.iter().map(|s| s.weeks[i].share.map_or_else(|| "–".into(), pct)).collect();
        let _ = writeln!(out, "| {week} | {} |", shares.join(" | "));
    }

    let _ = writeln!(out, "\n## Declining the most\n");
    for s in &r.standards {
        let _ = writeln!(out, "### {} ({})\n", s.name, format::target(s.metric, s.target));
        let mut declining: Vec<&SellerReview> = s.sellers.iter().filter(|x| x.trend.verdict == Verdict::Declining).collect();
        declining.sort_by(|a, b| {
            let (wa, wb) = (a.trend.worsening(s.direction), b.trend.worsening(s.direction));
            wb.unwrap_or(0.0).total_cmp(&wa.unwrap_or(0.0)).then_with(|| a.seller_id.cmp(&b.seller_id))
        });
        if declining.is_empty() {
            let _ = writeln!(out, "No seller declines.\n");
            continue;
        }
        let _ = writeln!(out, "| seller | per week | {} band | weeks failed | quarter |", whole_pct(m.confidence));
        let _ = writeln!(out, "|---|--:|---|--:|--:|");
        for x in declining.iter().take(top) {
            let band = match (x.trend.low, x.trend.high) {
                (Some(lo), Some(hi)) => format!("{} .. {}", per_week(s.metric, lo), per_week(s.metric, hi)),
                _ => "–".into(),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {band} | {} of {} | {} |",
                x.seller_id,
                x.trend.slope.map_or_else(|| "–".into(), |v| per_week(s.metric, v)),
                x.weeks_failed,
                x.weeks_judged,
                x.quarter.as_ref().map_or_else(|| "–".into(), |q| format::value(s.metric, q.value))
            );
        }
        if declining.len() > top {
            let _ = writeln!(out, "\n{} more declining.", declining.len() - top);
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(
        out,
        "Proposed targets: the norms method over the quarter's weekly rows (daily rows for standards judged daily), met by at least {} of \
         the cells with at least {} observations; `--propose FILE` writes them as the standards revision {} effective from {}.",
        pct(m.pass_rate),
        m.min_sample,
        r.revision.id,
        r.revision.effective_from
    );
    out
}

fn proposed(s: &StandardReview) -> String {
    let p = &s.proposal;
    match (p.proposed, p.passing_proposed) {
        (Some(t), Some(k)) => {
            format!(
                "{} (met by {} of {} {} cells; now {})",
                format::target(s.metric, t),
                pct_of(k, p.cells),
                p.cells,
                p.cadence,
                pct_of(p.passing_target, p.cells)
            )
        }
        _ => format!("none: {}", p.skipped.as_deref().unwrap_or("no cells")),
    }
}

/// A slope or band end per week: ratings to 3 decimals, NPS to 2, shares in percentage
/// points to 2, durations to the second; always signed.
fn per_week(m: MetricId, v: f64) -> String {
    match m.unit() {
        Unit::Rating => format!("{v:+.3}"),
        Unit::NpsPoints => format!("{v:+.2}"),
        Unit::Ratio => format!("{:+.2} pp", v * 100.0),
        Unit::Seconds => format::signed(m, v),
    }
}

fn pct(p: f64) -> String {
    format!("{:.1} %", p * 100.0)
}

fn whole_pct(p: f64) -> String {
    format!("{:.0} %", p * 100.0)
}

fn pct_of(k: usize, n: usize) -> String {
    if n == 0 {
        "–".into()
    } else {
        pct(k as f64 / n as f64)
    }
}

fn counted(k: usize, n: usize) -> String {
    format!("{k} ({})", pct_of(k, n))
}
