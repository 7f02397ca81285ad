//! The report as Markdown (the default of `quality-pipeline report`).

use super::format;
use super::model::{rule_label, stage_label, StandardLine, WeeklyReport};
use quality_engine::contract::Timestamp;
use quality_engine::methodology::Status;
use std::fmt::Write;

/// Renders the report as Markdown.
pub fn render_markdown(r: &WeeklyReport) -> String {
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(w, "# Weekly quality report: {}, {}\n", cell(&r.seller_id), r.week);
    let _ = writeln!(w, "- **Period:** {} to {} (Monday to Sunday, {})", r.period.start, r.period.end, r.period.timezone);
    let _ = writeln!(w, "- **Seller:** {}", cell(&r.seller_id));
    let _ = writeln!(w, "- **Standards failed:** {} of {} judged", r.summary.failed, r.summary.judged);
    if !r.standards_version.is_empty() {
        let _ = writeln!(w, "- **Standards version:** {} (the targets in force when the week began)", cell(&r.standards_version));
    }
    let e = &r.escalation;
    let _ = write!(w, "- **Escalation stage:** {}", stage_label(e.stage));
    if let Some(since) = &e.since {
        let _ = write!(w, " (since {since})");
    }
    if let Some(deadline) = &e.deadline {
        let _ = write!(w, ", deadline {deadline}");
    }
    let tiers: Vec<String> = r.incentive_tiers.iter().map(|t| format!("{} (since {})", cell(&t.tier), t.since)).collect();
    let _ = writeln!(w, "\n- **Incentive tiers:** {}", if tiers.is_empty() { "none".to_owned() } else { tiers.join(", ") });
    let _ = writeln!(w);

    standards(w, "Base standards", &r.base, false);
    standards(w, "Operational standards", &r.operational, false);
    standards(w, "Communication standards", &r.communication, true);
    let _ = writeln!(w, "Dynamics: ↑ better than the previous week, ↓ worse, → unchanged, – no value to compare; for times and the cancellation share lower is better.\n");

    let n = &r.negative_reviews;
    let _ = writeln!(w, "## Main reasons for negative reviews\n");
    let _ = writeln!(w, "{} negative review{} (rated 1-3) this week.", n.total, if n.total == 1 { "" } else { "s" });
    if n.reasons.is_empty() {
        let _ = writeln!(w, "{}\n", if n.total == 0 { "" } else { "No reasons were named." });
    } else {
        let _ = writeln!(w, "\n| Reason | Reviews | Share |\n|---|---:|---:|");
        for x in &n.reasons {
            let _ = writeln!(w, "| {} | {} | {} |", cell(&x.reason), x.count, percent(x.share));
        }
        if n.more_reasons > 0 {
            let _ = writeln!(w, "\n{} more reason{} named less often.", n.more_reasons, if n.more_reasons == 1 { "" } else { "s" });
        }
        let _ = writeln!(w);
    }

    let i = &r.incidents;
    let _ = writeln!(w, "## Critical incidents\n\n| Incident | Count |\n|---|---:|");
    let cancelled = match (i.seller_cancellations, i.orders_created) {
        (Some(c), Some(o)) => format!("{c} of {o} orders"),
        (c, _) => count(c),
    };
    let _ = writeln!(w, "| Orders cancelled by the seller | {cancelled} |");
    for (label, v) in [
        ("Overdue confirmations", i.overdue_confirmations),
        ("Overdue assemblies", i.overdue_assemblies),
        ("Overdue handovers", i.overdue_handovers),
        ("Overdue replies to customers", i.overdue_replies),
        ("Overdue critic follow-ups", i.overdue_critic_followups),
    ] {
        let _ = writeln!(w, "| {label} | {} |", count(v));
    }
    let c = &i.critics;
    let _ = writeln!(w, "| Critics received this week | {} |", c.received);
    let _ = writeln!(w, "| of them overdue | {} |", c.overdue);
    let _ = writeln!(w, "| of them open | {} |", c.open);
    let _ = writeln!(w, "| of them answered late | {} |", c.answered_late);
    let _ = writeln!(w, "| of them answered in time | {} |", c.answered_in_time);
    let _ = writeln!(w, "| Escalations this week | {} |\n", i.escalations.len());
    if !i.unanswered_critics.is_empty() {
        let _ = writeln!(w, "Critics awaiting a follow-up:\n\n| Critic | Score | Received | Due | Status |\n|---|---:|---|---|---|");
        for x in &i.unanswered_critics {
            let _ = writeln!(
                w,
                "| {} | {} | {} | {} | {} |",
                cell(&x.critic_id),
                x.score,
                local(x.created_at, &r.period.timezone),
                local(x.due_at, &r.period.timezone),
                x.status.as_str()
            );
        }
        let _ = writeln!(w);
    }
    for t in &i.escalations {
        let standards: Vec<&str> = t.standards.iter().map(|m| m.label()).collect();
        let _ = write!(w, "Escalation: {} → **{}** ({}", stage_label(t.from), stage_label(t.to), rule_label(t.rule));
        if !standards.is_empty() {
            let _ = write!(w, ": {}", standards.join(", "));
        }
        let _ = write!(w, "; {} failed week{} in the look-back", t.failed_weeks, if t.failed_weeks == 1 { "" } else { "s" });
        if let Some(d) = &t.deadline {
            let _ = write!(w, "; deadline {d}");
        }
        let _ = writeln!(w, ").\n");
    }

    let _ = writeln!(w, "## Recommendations\n");
    if r.recommendations.is_empty() {
        let _ = writeln!(w, "Every standard with data was met this week: keep it up.");
    }
    for x in &r.recommendations {
        let _ = writeln!(w, "- **{}** ({} against {}): {}", x.name, format::maybe(x.metric, x.actual), format::target(x.metric, x.target), x.text);
    }
    out
}

fn standards(w: &mut String, title: &str, lines: &[StandardLine], compliance: bool) {
    if lines.is_empty() {
        return;
    }
    let _ = writeln!(w, "## {title}\n");
    let last = if compliance { "Compliant" } else { "Status" };
    let _ = writeln!(w, "| Standard | Target | Actual | Deviation | Dynamics | Overdue | {last} |\n|---|---:|---:|---:|:---:|---:|---|");
    for l in lines {
        let dynamics = match l.change {
            Some(c) => format!("{} {}", l.dynamics.arrow(), format::signed(l.metric, c)),
            None => l.dynamics.arrow().to_owned(),
        };
        let overdue = if l.metric.has_deadline() { l.overdue.to_string() } else { String::new() };
        let verdict = if compliance {
            match l.compliant {
                Some(true) => "yes",
                Some(false) => "**no**",
                None => "no data",
            }
        } else {
            match l.status {
                Status::Pass => "pass",
                Status::Fail => "**fail**",
                Status::NoData => "no data",
            }
        };
        let _ = writeln!(
            w,
            "| {} | {} | {} | {} | {dynamics} | {overdue} | {verdict} |",
            l.name,
            format::target(l.metric, l.target),
            format::maybe(l.metric, l.actual),
            format::maybe_signed(l.metric, l.deviation),
        );
    }
    let _ = writeln!(w);
}

/// A share as the reasons table shows it: `66.7 %`.
pub fn percent(share: f64) -> String {
    format!("{:.1} %", share * 100.0)
}

fn count(v: Option<i64>) -> String {
    v.map_or_else(|| "–".into(), |n| n.to_string())
}

/// A UTC instant in the report's zone, `YYYY-MM-DD HH:MM`.
pub fn local(t: Timestamp, timezone: &str) -> String {
    let tz: chrono_tz::Tz = timezone.parse().unwrap_or(chrono_tz::UTC);
    chrono::DateTime::from_timestamp_millis(t.0).map_or_else(|| t.to_string(), |d| d.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
}

/// Text safe in a Markdown table cell.
fn cell(s: &str) -> String {
    s.replace('\\', "\\\\").replace('|', "\\|").replace(['\n', '\r'], " ")
}
