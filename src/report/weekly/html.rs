//! The report as one self-contained HTML page (inline CSS, no scripts, no external assets).
//!
//! Every figure sits in its own element with stable attributes: `data-metric` (the metric id,
//! where the figure belongs to a standard), `data-field` (which figure) and `data-value` (the
//! stored number, exactly, as JSON writes it; empty when there is none). The text shown is
//! the formatted figure. Tests and scrapers read the attributes, people read the text.

use super::format;
use super::markdown::{local, percent};
use super::model::{rule_label, stage_label, StandardLine, WeeklyReport};
use quality_engine::methodology::{MetricId, Status};
use std::fmt::Write;

const STYLE: &str = "
body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;color:#1d2430;background:#f4f6f9;margin:0}
main{max-width:1100px;margin:24px auto;padding:28px 36px;background:#fff;border-radius:10px;box-shadow:0 1px 4px rgba(0,0,0,.08)}
h1{font-size:24px;margin:0 0 6px}h2{font-size:18px;margin:28px 0 10px;padding-bottom:4px;border-bottom:2px solid #e3e8ef}
.meta{display:flex;flex-wrap:wrap;gap:10px 28px;margin:12px 0 4px;color:#4a5568}.meta b{color:#1d2430}
table{border-collapse:collapse;width:100%;margin:6px 0 10px}th,td{padding:7px 10px;border-bottom:1px solid #e3e8ef;text-align:left}
th{background:#f0f3f7;font-weight:600;font-size:13px;color:#4a5568}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.pass{color:#17803d;font-weight:600}.fail{color:#c53030;font-weight:700}.no_data{color:#8a94a6}
tr.failed td{background:#fff5f5}.improved{color:#17803d}.worsened{color:#c53030}.unchanged,.no_previous{color:#8a94a6}
.stage{display:inline-block;padding:2px 10px;border-radius:12px;background:#e3e8ef;font-weight:600}
.stage.warning{background:#fefcbf}.stage.improvement_plan{background:#feebc8}.stage.sanction_1,.stage.sanction_2,.stage.sanction_3{background:#fed7d7;color:#9b2c2c}
.stage.ok{background:#c6f6d5}.tier{display:inline-block;padding:2px 10px;border-radius:12px;background:#bee3f8;font-weight:600}.note{color:#6b7280;font-size:13px}ul.recs li{margin:6px 0}
td.sub{padding-left:28px;color:#4a5568}td.overdue{color:#c53030;font-weight:600}td.open{color:#b7791f}
.bar{display:inline-block;height:10px;background:#f6ad55;border-radius:3px;vertical-align:middle;margin-right:8px}
";

/// Renders the report as a self-contained HTML page.
pub fn render_html(r: &WeeklyReport) -> String {
    let mut out = String::with_capacity(16 * 1024);
    let w = &mut out;
    let title = format!("Weekly quality report: {}, {}", r.seller_id, r.week);
    let _ = write!(
        w,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head>\n<body><main data-seller=\"{}\" data-week=\"{}\">\n<h1>{}</h1>\n",
        esc(&title),
        esc(&r.seller_id),
        esc(&r.week),
        esc(&title)
    );
    let e = &r.escalation;
    let _ = write!(
        w,
        "<div class=\"meta\"><span>Period: <b data-field=\"period_start\" data-value=\"{s}\">{s}</b> to <b data-field=\"period_end\" data-value=\"{e_}\">{e_}</b> \
         (Monday to Sunday, <span data-field=\"timezone\" data-value=\"{tz}\">{tz}</span>)</span>\
         <span>Seller: <b data-field=\"seller_id\" data-value=\"{seller}\">{seller}</b></span>\
         <span>Standards failed: <b data-field=\"failed\" data-value=\"{f}\">{f}</b> of <b data-field=\"judged\" data-value=\"{j}\">{j}</b> judged</span>\
         <span>Standards version: <b data-field=\"standards_version\" data-value=\"{version}\">{version}</b></span>\
         <span>Escalation stage: <span class=\"stage {stage}\" data-field=\"escalation_stage\" data-value=\"{stage}\">{label}</span>",
        s = esc(&r.period.start),
        e_ = esc(&r.period.end),
        tz = esc(&r.period.timezone),
        seller = esc(&r.seller_id),
        f = r.summary.failed,
        j = r.summary.judged,
        version = esc(&r.standards_version),
        stage = e.stage.as_str(),
        label = stage_label(e.stage),
    );
    if let Some(since) = &e.since {
        let _ = write!(w, " since <span data-field=\"escalation_since\" data-value=\"{0}\">{0}</span>", esc(since));
    }
    if let Some(d) = &e.deadline {
        let _ = write!(w, ", deadline <span data-field=\"escalation_deadline\" data-value=\"{0}\">{0}</span>", esc(d));
    }
    let _ = write!(w, "</span><span>Incentive tiers: ");
    if r.incentive_tiers.is_empty() {
        let _ = write!(w, "<b data-field=\"incentive_tiers\" data-value=\"\">none</b>");
    }
    for (i, t) in r.incentive_tiers.iter().enumerate() {
        let _ = write!(
            w,
            "{}<span class=\"tier\" data-field=\"incentive_tier\" data-value=\"{tier}\" data-since=\"{since}\">{tier}</span> since {since}",
            if i > 0 { ", " } else { "" },
            tier = esc(&t.tier),
            since = esc(&t.since),
        );
    }
    let _ = writeln!(w, "</span></div>");

    standards(w, "Base standards", "base", &r.base, false);
    standards(w, "Operational standards", "operational", &r.operational, false);
    standards(w, "Communication standards", "communication", &r.communication, true);
    let _ = writeln!(
        w,
        "<p class=\"note\">Dynamics: ↑ better than the previous week, ↓ worse, → unchanged, – no value to compare; for times and the cancellation share lower is better.</p>"
    );

    let n = &r.negative_reviews;
    let _ = writeln!(
        w,
        "<h2>Main reasons for negative reviews</h2>\n<p><b data-field=\"negative_reviews\" data-value=\"{0}\">{0}</b> negative review{1} (rated 1-3) this week.</p>",
        n.total,
        if n.total == 1 { "" } else { "s" }
    );
    if !n.reasons.is_empty() {
        let _ = writeln!(w, "<table id=\"reasons\"><tr><th>Reason</th><th class=\"num\">Reviews</th><th class=\"num\">Share</th></tr>");
        for x in &n.reasons {
            let reason = esc(&x.reason);
            let _ = writeln!(
                w,
                "<tr><td data-field=\"reason\" data-reason=\"{reason}\" data-value=\"{reason}\">{reason}</td>\
                 <td class=\"num\" data-field=\"reason_count\" data-reason=\"{reason}\" data-value=\"{c}\">{c}</td>\
                 <td class=\"num\"><span class=\"bar\" style=\"width:{bar:.0}px\"></span><span data-field=\"reason_share\" data-reason=\"{reason}\" data-value=\"{sv}\">{st}</span></td></tr>",
                c = x.count,
                bar = (x.share.clamp(0.0, 1.0) * 120.0),
                sv = num(x.share),
                st = percent(x.share),
            );
        }
        let _ = writeln!(w, "</table>");
        if n.more_reasons > 0 {
            let _ = writeln!(w, "<p class=\"note\">{} more reason(s) named less often.</p>", n.more_reasons);
        }
    } else if n.total > 0 {
        let _ = writeln!(w, "<p class=\"note\">No reasons were named.</p>");
    }

    let i = &r.incidents;
    let _ = writeln!(w, "<h2>Critical incidents</h2>\n<table id=\"incidents\"><tr><th>Incident</th><th class=\"num\">Count</th></tr>");
    let rows: [(&str, &str, Option<MetricId>, Option<i64>); 7] = [
        ("Orders cancelled by the seller", "seller_cancellations", Some(MetricId::SellerCancellationShare), i.seller_cancellations),
        ("Orders created", "orders_created", Some(MetricId::SellerCancellationShare), i.orders_created),
        ("Overdue confirmations", "overdue_confirmations", Some(MetricId::ConfirmationTimeAvg), i.overdue_confirmations),
        ("Overdue assemblies", "overdue_assemblies", Some(MetricId::AssemblyTimeAvg), i.overdue_assemblies),
        ("Overdue handovers", "overdue_handovers", Some(MetricId::OnTimeHandoverShare), i.overdue_handovers),
        ("Overdue replies to customers", "overdue_replies", Some(MetricId::ResponseTimeAvg), i.overdue_replies),
        ("Overdue critic follow-ups", "overdue_critic_followups", Some(MetricId::CriticFollowupShare), i.overdue_critic_followups),
    ];
    for (label, field, metric, v) in rows {
        incident(w, label, field, metric, v.map(|n| n as f64));
    }
    let c = &i.critics;
    for (label, field, v) in [
        ("Critics received this week", "critics_received", c.received),
        ("of them overdue", "critics_overdue", c.overdue),
        ("of them open", "critics_open", c.open),
        ("of them answered late", "critics_answered_late", c.answered_late),
        ("of them answered in time", "critics_answered_in_time", c.answered_in_time),
    ] {
        incident(w, label, field, None, Some(v as f64));
    }
    incident(w, "Escalations this week", "escalations", None, Some(i.escalations.len() as f64));
    let _ = writeln!(w, "</table>");
    if !i.unanswered_critics.is_empty() {
        let _ = writeln!(
            w,
            "<p>Critics awaiting a follow-up:</p>\n<table id=\"critics\"><tr><th>Critic</th><th class=\"num\">Score</th><th>Received</th><th>Due</th><th>Status</th></tr>"
        );
        for x in &i.unanswered_critics {
            let _ = writeln!(
                w,
                "<tr data-field=\"unanswered_critic\" data-value=\"{id}\"><td>{id}</td><td class=\"num\">{}</td><td data-value=\"{}\">{}</td><td data-value=\"{}\">{}</td><td class=\"{st}\" data-field=\"critic_status\" data-value=\"{st}\">{st}</td></tr>",
                x.score,
                x.created_at,
                local(x.created_at, &r.period.timezone),
                x.due_at,
                local(x.due_at, &r.period.timezone),
                id = esc(&x.critic_id),
                st = x.status.as_str(),
            );
        }
        let _ = writeln!(w, "</table>");
    }
    for t in &i.escalations {
        let standards: Vec<&str> = t.standards.iter().map(|m| m.label()).collect();
        let _ = write!(
            w,
            "<p data-field=\"escalation\" data-value=\"{}-&gt;{}\">Escalation: {} → <span class=\"stage {}\">{}</span> ({}",
            t.from.as_str(),
            t.to.as_str(),
            stage_label(t.from),
            t.to.as_str(),
            stage_label(t.to),
            rule_label(t.rule)
        );
        if !standards.is_empty() {
            let _ = write!(w, ": {}", esc(&standards.join(", ")));
        }
        let _ = write!(w, "; {} failed week(s) in the look-back", t.failed_weeks);
        if let Some(d) = &t.deadline {
            let _ = write!(w, "; deadline {}", esc(d));
        }
        let _ = writeln!(w, ").</p>");
    }

    let _ = writeln!(w, "<h2>Recommendations</h2>");
    if r.recommendations.is_empty() {
        let _ = writeln!(w, "<p>Every standard with data was met this week: keep it up.</p>");
    } else {
        let _ = writeln!(w, "<ul class=\"recs\">");
        for x in &r.recommendations {
            let _ = writeln!(
                w,
                "<li data-metric=\"{}\" data-field=\"recommendation\"><b>{}</b> ({} against {}): {}</li>",
                x.metric,
                esc(x.name),
                esc(&format::maybe(x.metric, x.actual)),
                esc(&format::target(x.metric, x.target)),
                esc(&x.text)
            );
        }
        let _ = writeln!(w, "</ul>");
    }
    let _ = writeln!(
        w,
        "<p class=\"note\">Generated by quality-pipeline from the final weekly results; methodology: docs/methodology.md.</p>\n</main></body></html>"
    );
    out
}

fn standards(w: &mut String, title: &str, id: &str, lines: &[StandardLine], compliance: bool) {
    if lines.is_empty() {
        return;
    }
    let last = if compliance { "Compliant" } else { "Status" };
    let _ = writeln!(
        w,
        "<h2>{title}</h2>\n<table id=\"{id}\"><tr><th>Standard</th><th class=\"num\">Target</th><th class=\"num\">Actual</th><th class=\"num\">Deviation</th>\
         <th class=\"num\">Previous</th><th>Dynamics</th><th class=\"num\">Overdue</th><th>{last}</th></tr>"
    );
    for l in lines {
        let m = l.metric;
        let failed = if l.status == Status::Fail { " class=\"failed\"" } else { "" };
        let _ = write!(w, "<tr{failed} data-metric=\"{m}\"><td>{}</td>", esc(l.name));
        figure(w, m, "target", Some(l.target), &format::target(m, l.target));
        figure(w, m, "actual", l.actual, &format::maybe(m, l.actual));
        figure(w, m, "deviation", l.deviation, &format::maybe_signed(m, l.deviation));
        figure(w, m, "previous", l.previous, &format::maybe(m, l.previous));
        let dynamics = l.change.map_or_else(|| l.dynamics.arrow().to_owned(), |c| format!("{} {}", l.dynamics.arrow(), format::signed(m, c)));
        let _ = write!(
            w,
            "<td class=\"{cls}\" data-metric=\"{m}\" data-field=\"change\" data-value=\"{v}\" data-dynamics=\"{cls}\">{}</td>",
            esc(&dynamics),
            cls = dynamics_id(l),
            v = opt(l.change),
        );
        if m.has_deadline() {
            let _ = write!(w, "<td class=\"num\" data-metric=\"{m}\" data-field=\"overdue\" data-value=\"{0}\">{0}</td>", l.overdue);
        } else {
            let _ = write!(w, "<td></td>");
        }
        let status = match l.status {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::NoData => "no_data",
        };
        if compliance {
            let (v, text) = match l.compliant {
                Some(true) => ("yes", "yes"),
                Some(false) => ("no", "no"),
                None => ("", "no data"),
            };
            let _ = writeln!(
                w,
                "<td class=\"{status}\" data-metric=\"{m}\" data-field=\"compliant\" data-value=\"{v}\" data-status=\"{status}\">{text}</td></tr>"
            );
        } else {
            let text = if l.status == Status::NoData { "no data" } else { status };
            let _ = writeln!(w, "<td class=\"{status}\" data-metric=\"{m}\" data-field=\"status\" data-value=\"{status}\">{text}</td></tr>");
        }
    }
    let _ = writeln!(w, "</table>");
}

fn dynamics_id(l: &StandardLine) -> &'static str {
    match l.dynamics {
        super::model::Dynamics::Improved => "improved",
        super::model::Dynamics::Worsened => "worsened",
        super::model::Dynamics::Unchanged => "unchanged",
        super::model::Dynamics::NoPrevious => "no_previous",
    }
}

fn figure(w: &mut String, m: MetricId, field: &str, v: Option<f64>, text: &str) {
    let _ = write!(w, "<td class=\"num\" data-metric=\"{m}\" data-field=\"{field}\" data-value=\"{}\">{}</td>", opt(v), esc(text));
}

fn incident(w: &mut String, label: &str, field: &str, metric: Option<MetricId>, v: Option<f64>) {
    let metric = metric.map_or_else(String::new, |m| format!(" data-metric=\"{m}\""));
    let text = v.map_or_else(|| "–".to_owned(), |n| format!("{n}"));
    let sub = if label.starts_with("of them") { " class=\"sub\"" } else { "" };
    let _ = writeln!(w, "<tr><td{sub}>{label}</td><td class=\"num\"{metric} data-field=\"{field}\" data-value=\"{}\">{text}</td></tr>", opt(v));
}

/// A number as JSON writes it (shortest text that reads back as the same f64).
fn num(v: f64) -> String {
    serde_json::to_string(&v).unwrap_or_default()
}

fn opt(v: Option<f64>) -> String {
    v.map_or_else(String::new, num)
}

/// Text safe in HTML content and in quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn escapes_markup() {
        assert_eq!(esc("<script>\"x\" & 'y'</script>"), "&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/script&gt;");
    }
}
