//! A performer's or a department's monthly rating with its explanation (service profile): every
//! component's value, norm, weight and points, the standards behind it, the survey questions
//! against the department's (a department's: against the company's), and how to dispute a
//! client's rating. Markdown, HTML or JSON.

use super::weekly::format;
use anyhow::{bail, Result};
use quality_engine::methodology::{CoMoments, Component, EntityKind, MetricId, Status, VOLUME};
use quality_engine::window::{Cadence, LocalDate};
use quality_engine::WindowRow;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;

/// Whose rating a report explains.
#[derive(Debug, Clone, Copy)]
pub enum Subject<'a> {
    /// A performer, and their department when they worked for several.
    Performer(&'a str, Option<&'a str>),
    /// A department.
    Department(&'a str),
}

/// Everything the report shows, in the order it shows it.
#[derive(Debug, Clone, Serialize)]
pub struct RatingReport {
    /// Performer or department.
    pub entity: EntityKind,
    /// The performer's or the department's id.
    pub id: String,
    /// The department (the performer's, or the department itself).
    pub department_id: String,
    /// The month, `YYYY-MM`.
    pub month: String,
    /// The standards version the month was judged against.
    pub standards_version: String,
    /// The rating 0..100.
    pub rating: f64,
    /// Rank within the department (a department's: among departments) and how many were ranked
    /// (null until the month is final).
    pub rank: Option<(u32, u32)>,
    /// A performer's rank among every performer of the company in the stored rows (final months only).
    pub company_rank: Option<(u32, u32)>,
    /// Whether the month is final.
    pub is_final: bool,
    /// Why the rating is what it is: the components, in the order of the rating.
    pub components: Vec<Component>,
    /// The standards of the month with their status.
    pub standards: Vec<StandardLine>,
    /// Survey questions: the performer's average against the department's.
    pub questions: Vec<QuestionLine>,
    /// The department's rating, rank among departments, and the questions to fix first.
    pub department: DepartmentLine,
    /// Surveys and NPS answers of the month excluded from every figure by accepted disputes.
    pub excluded_feedback: i64,
    /// How to dispute a client's rating.
    pub dispute: &'static str,
}

/// One standard in the month.
#[derive(Debug, Clone, Serialize)]
pub struct StandardLine {
    /// The metric.
    pub metric: MetricId,
    /// The value, null without data.
    pub value: Option<f64>,
    /// The target.
    pub target: f64,
    /// Pass, fail or no data.
    pub status: Status,
    /// Observations.
    pub denominator: i64,
}

/// One survey question.
#[derive(Debug, Clone, Serialize)]
pub struct QuestionLine {
    /// The question.
    pub question_id: String,
    /// The performer's average score and its sample.
    pub average: Option<f64>,
    /// Surveys that answered it.
    pub surveys: i64,
    /// The department's average (a department's report: the company's).
    pub department_average: Option<f64>,
}

/// The department in the month.
#[derive(Debug, Clone, Serialize)]
pub struct DepartmentLine {
    /// Its rating, when its row is there.
    pub rating: Option<f64>,
    /// Rank among the departments.
    pub rank: Option<(u32, u32)>,
    /// The department's key drivers to fix first (important and scored low).
    pub fix_first: Vec<String>,
}

/// What the report says about disputes (methodology 15.5).
const DISPUTE: &str = "A client's rating that breaks the rules (abuse, a request that was not yours, a duplicate) can be disputed: \
ask your site manager to file the dispute. Once it is accepted, `feedback.excluded` removes that survey or NPS answer from \
every figure it counted in, and this rating is recomputed.";

impl RatingReport {
    /// The report from stored monthly rows (performer and department rows of the month).
    pub fn build(rows: &[WindowRow], subject: Subject<'_>, month: LocalDate) -> Result<RatingReport> {
        let of_month = |r: &&WindowRow| r.cadence == Cadence::Month && r.period_start == month;
        let (entity, who, department) = match subject {
            Subject::Performer(p, d) => (EntityKind::Performer, p, d),
            Subject::Department(d) => (EntityKind::Department, d, None),
        };
        let noun = entity.as_str();
        let mine: Vec<&WindowRow> = rows
            .iter()
            .filter(of_month)
            .filter(|r| r.entity == entity && &*r.seller_id == who)
            .filter(|r| department.is_none_or(|d| r.department_id.as_deref() == Some(d)))
            .collect();
        let month_name = month.to_string()[..7].to_owned();
        let row = match mine.as_slice() {
            [one] => *one,
            [] => {
                let mut known: Vec<&str> = rows.iter().filter(of_month).filter(|r| r.entity == entity).map(|r| &*r.seller_id).collect();
                known.sort();
                known.dedup();
                let shown: Vec<&str> = known.iter().take(20).copied().collect();
                bail!(
                    "no monthly row of {noun} {who:?}{} for {month_name}; {noun}s with one: {}{}",
                    department.map(|d| format!(" in {d}")).unwrap_or_default(),
                    if shown.is_empty() { "none (is this a service-profile run?)".to_owned() } else { shown.join(", ") },
                    if known.len() > shown.len() { ", ..." } else { "" }
                )
            }
            several => {
                let ds: Vec<&str> = several.iter().filter_map(|r| r.department_id.as_deref()).collect();
                bail!("performer {who:?} worked for several departments in {month_name} ({}); choose one with --department", ds.join(", "))
            }
        };
        let department_id = row.department_id.as_deref().unwrap_or(&row.seller_id).to_owned();
        let dept = rows.iter().filter(of_month).find(|r| r.entity == EntityKind::Department && *r.seller_id == *department_id);
        // What a question's average is compared with: the department's, or for a department the company's (its departments' sums).
        let mut company: BTreeMap<&str, CoMoments> = BTreeMap::new();
        for d in rows.iter().filter(of_month).filter(|r| r.entity == EntityKind::Department && r.is_final) {
            for q in &d.questions {
                company.entry(&q.question_id).or_default().merge(&q.moments);
            }
        }
        let compared = |q: &str| match entity {
            EntityKind::Performer => dept.and_then(|d| d.questions.iter().find(|x| &*x.question_id == q)).and_then(|x| x.average),
            _ => company.get(q).and_then(|m| m.mean()),
        };
        let composite = row.composite.clone().unwrap_or_else(|| unreachable!("monthly rows carry a rating"));
        let rank = |c: Option<&quality_engine::output::Composite>| c.and_then(|c| c.rank.zip(c.ranked_sellers));
        // Competition ranking among all final performer months (1, 2, 2, 4), like the engine's within a department.
        let scores: Vec<f64> = rows
            .iter()
            .filter(of_month)
            .filter(|r| r.is_final && r.entity == EntityKind::Performer)
            .filter_map(|r| r.composite.as_ref().map(|c| c.score))
            .collect();
        let company_rank = (row.is_final && entity == EntityKind::Performer)
            .then(|| (1 + scores.iter().filter(|s| **s > composite.score).count() as u32, scores.len() as u32));
        let questions = row
            .questions
            .iter()
            .map(|q| QuestionLine {
                question_id: q.question_id.to_string(),
                average: q.average,
                surveys: q.surveys,
                department_average: compared(&q.question_id),
            })
            .collect();
        Ok(RatingReport {
            entity,
            id: who.to_owned(),
            department_id,
            month: month_name,
            standards_version: row.standards_version.to_string(),
            rating: composite.score,
            rank: rank(Some(&composite)),
            company_rank,
            is_final: row.is_final,
            components: composite.components,
            standards: row
                .metrics
                .iter()
                .map(|c| StandardLine { metric: c.metric, value: c.value, target: c.target, status: c.status, denominator: c.denominator })
                .collect(),
            questions,
            department: DepartmentLine {
                rating: dept.and_then(|d| d.composite.as_ref()).map(|c| c.score),
                rank: rank(dept.and_then(|d| d.composite.as_ref())),
                fix_first: dept.map(|d| d.drivers.iter().filter(|x| x.fix_first).map(|x| x.question_id.to_string()).collect()).unwrap_or_default(),
            },
            excluded_feedback: row.excluded_feedback,
            dispute: DISPUTE,
        })
    }
}

/// A component's label and its value and norm as text.
fn component_text(c: &Component) -> (String, String, String) {
    match MetricId::from_id(&c.component) {
        Some(m) => (m.label().to_owned(), c.value.map_or("no data".into(), |v| format::value(m, v)), format::value(m, c.norm)),
        None if c.component == VOLUME => ("Requests closed".into(), c.value.map_or("0".into(), |v| format!("{v:.0}")), format!("{:.0}", c.norm)),
        None => (c.component.clone(), c.value.map_or("-".into(), |v| format!("{v}")), format!("{}", c.norm)),
    }
}

fn title(r: &RatingReport) -> &'static str {
    if r.entity == EntityKind::Department {
        "Department rating"
    } else {
        "Performer rating"
    }
}

fn rank_name(r: &RatingReport) -> &'static str {
    if r.entity == EntityKind::Department {
        "rank among departments"
    } else {
        "rank in the department"
    }
}

/// Whose averages a report's question table compares with.
fn peers(r: &RatingReport) -> &'static str {
    if r.entity == EntityKind::Department {
        "company"
    } else {
        "department"
    }
}

fn rank_text(r: Option<(u32, u32)>) -> String {
    r.map_or("not yet ranked (the month is open)".into(), |(r, n)| format!("{r} of {n}"))
}

/// The report as Markdown.
pub fn render_markdown(r: &RatingReport) -> String {
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(w, "# {}: {}, {}\n", title(r), r.id, r.month);
    let _ = writeln!(
        w,
        "Department **{}** · rating **{:.1}** of 100 · {}: **{}**{} · standards version {}{}\n",
        r.department_id,
        r.rating,
        rank_name(r),
        rank_text(r.rank),
        r.company_rank.map(|c| format!(" · in the company: **{}**", rank_text(Some(c)))).unwrap_or_default(),
        r.standards_version,
        if r.is_final { "" } else { " · provisional" }
    );
    let _ = writeln!(w, "## Why the rating is {:.1}\n", r.rating);
    let _ = writeln!(w, "| component | value | norm | sample | weight | score | points | of |");
    let _ = writeln!(w, "|---|---:|---:|---:|---:|---:|---:|---:|");
    for c in &r.components {
        let (label, value, norm) = component_text(c);
        let _ = writeln!(
            w,
            "| {label} | {value} | {norm} | {} | {:.0} % | {:.2} | {:.1} | {:.1} |",
            c.sample,
            c.weight * 100.0,
            c.score,
            c.points,
            c.weight * 100.0
        );
    }
    let _ = writeln!(w, "| **total** | | | | 100 % | | **{:.1}** | 100 |\n", r.rating);
    let _ = writeln!(
        w,
        "Each score is 0..1: the value, shrunk towards the norm when the sample is small, placed between the standard's floor (0) and ideal (1); points = 100 x weight x score.\n"
    );
    let _ = writeln!(w, "## Standards\n\n| standard | value | target | status | sample |\n|---|---:|---:|---|---:|");
    for s in &r.standards {
        let status = match s.status {
            Status::Pass => "pass",
            Status::Fail => "**fail**",
            Status::NoData => "no data",
        };
        let value = s.value.map_or("-".into(), |v| format::value(s.metric, v));
        let _ = writeln!(w, "| {} | {value} | {} | {status} | {} |", s.metric.label(), format::value(s.metric, s.target), s.denominator);
    }
    if !r.questions.is_empty() {
        let _ = writeln!(
            w,
            "\n## What clients said, question by question\n\n| question | average | surveys | {} average |\n|---|---:|---:|---:|",
            peers(r)
        );
        for q in &r.questions {
            let avg = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.2}"));
            let _ = writeln!(w, "| {} | {} | {} | {} |", q.question_id, avg(q.average), q.surveys, avg(q.department_average));
        }
    }
    let _ = writeln!(
        w,
        "\n## Department\n\n{} rating {} · rank among departments: {}",
        r.department_id,
        r.department.rating.map_or("-".into(), |v| format!("{v:.1}")),
        rank_text(r.department.rank)
    );
    if !r.department.fix_first.is_empty() {
        let _ = writeln!(w, "\nFix first (what moves clients' overall impression most and scores lowest): {}", r.department.fix_first.join(", "));
    }
    let _ = writeln!(w, "\n## Disputing a rating\n\n{}", r.dispute);
    let _ = writeln!(w, "\nExcluded this month after accepted disputes: {} feedback item(s).", r.excluded_feedback);
    out
}

/// The report as a self-contained HTML page; every figure carries `data-component` / `data-field` / `data-value`.
pub fn render_html(r: &RatingReport) -> String {
    let esc = super::weekly::esc;
    let mut out = String::new();
    let w = &mut out;
    let title = format!("{}: {}, {}", title(r), r.id, r.month);
    let _ = write!(
        w,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>\
         body{{font:15px/1.45 system-ui,sans-serif;color:#1d2430;max-width:980px;margin:24px auto;padding:0 24px}}\
         table{{border-collapse:collapse;width:100%}}th,td{{padding:6px 10px;border-bottom:1px solid #e3e8ef;text-align:left}}\
         td.num{{text-align:right;font-variant-numeric:tabular-nums}}.fail{{color:#c53030;font-weight:700}}.pass{{color:#17803d}}\
         .bar{{display:inline-block;height:10px;background:#4299e1;border-radius:3px}}</style></head>\n\
         <body data-entity=\"{}\" data-id=\"{}\" data-department=\"{}\" data-month=\"{}\">\n<h1>{}</h1>\n",
        esc(&title),
        r.entity.as_str(),
        esc(&r.id),
        esc(&r.department_id),
        esc(&r.month),
        esc(&title)
    );
    let _ = writeln!(
        w,
        "<p>Department <b>{}</b> · rating <b data-field=\"rating\" data-value=\"{}\">{:.1}</b> of 100 · {}: <b data-field=\"rank\">{}</b>{}</p>",
        esc(&r.department_id),
        r.rating,
        r.rating,
        rank_name(r),
        esc(&rank_text(r.rank)),
        r.company_rank.map(|c| format!(" · in the company: <b data-field=\"company_rank\">{}</b>", esc(&rank_text(Some(c))))).unwrap_or_default()
    );
    let _ = writeln!(w, "<h2>Why the rating is {:.1}</h2>\n<table><tr><th>component</th><th>value</th><th>norm</th><th>sample</th><th>weight</th><th>score</th><th>points</th><th></th></tr>", r.rating);
    for c in &r.components {
        let (label, value, norm) = component_text(c);
        let num = |field: &str, v: f64, text: String| format!("<td class=\"num\" data-field=\"{field}\" data-value=\"{v}\">{}</td>", esc(&text));
        let _ = writeln!(
            w,
            "<tr data-component=\"{}\"><td>{}</td><td class=\"num\" data-field=\"value\" data-value=\"{}\">{}</td><td class=\"num\" data-field=\"norm\" data-value=\"{}\">{}</td>{}{}{}{}<td><span class=\"bar\" style=\"width:{:.0}px\"></span></td></tr>",
            esc(&c.component),
            esc(&label),
            c.value.map_or(String::new(), |v| v.to_string()),
            esc(&value),
            c.norm,
            esc(&norm),
            num("sample", c.sample as f64, c.sample.to_string()),
            num("weight", c.weight, format!("{:.0} %", c.weight * 100.0)),
            num("score", c.score, format!("{:.2}", c.score)),
            num("points", c.points, format!("{:.1} of {:.1}", c.points, c.weight * 100.0)),
            c.points * 4.0
        );
    }
    let _ = writeln!(w, "</table>\n<h2>Standards</h2>\n<table><tr><th>standard</th><th>value</th><th>target</th><th>status</th></tr>");
    for s in &r.standards {
        let (class, status) = match s.status {
            Status::Pass => ("pass", "pass"),
            Status::Fail => ("fail", "fail"),
            Status::NoData => ("", "no data"),
        };
        let _ = writeln!(
            w,
            "<tr data-metric=\"{}\"><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"{class}\">{status}</td></tr>",
            s.metric,
            esc(s.metric.label()),
            s.value.map_or("-".into(), |v| esc(&format::value(s.metric, v))),
            esc(&format::value(s.metric, s.target))
        );
    }
    let _ = writeln!(w, "</table>");
    if !r.questions.is_empty() {
        let _ = writeln!(
            w,
            "<h2>What clients said, question by question</h2>\n<table><tr><th>question</th><th>average</th><th>surveys</th><th>{} average</th></tr>",
            peers(r)
        );
        let avg = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.2}"));
        for q in &r.questions {
            let _ = writeln!(
                w,
                "<tr data-question=\"{}\"><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                esc(&q.question_id),
                esc(&q.question_id),
                avg(q.average),
                q.surveys,
                avg(q.department_average)
            );
        }
        let _ = writeln!(w, "</table>");
    }
    if !r.department.fix_first.is_empty() {
        let _ = writeln!(w, "<p>Department's fix-first questions: <b>{}</b></p>", esc(&r.department.fix_first.join(", ")));
    }
    let _ = writeln!(w, "<h2>Disputing a rating</h2>\n<p>{}</p>", esc(r.dispute));
    let n = r.excluded_feedback;
    let _ = writeln!(
        w,
        "<p>Excluded this month after accepted disputes: <b data-field=\"excluded_feedback\" data-value=\"{n}\">{n}</b> feedback item(s).</p>"
    );
    let _ = writeln!(w, "</body></html>");
    out
}

/// The report as JSON (the data model).
pub fn render_json(r: &RatingReport) -> String {
    serde_json::to_string_pretty(r).expect("the report serializes: plain numbers and strings") + "\n"
}
