//! `demo --profile service`: a synthetic service company through the same engine, in memory:
//! the month's performer ratings with their department roll-up, the company's CSAT and NPS
//! against their goals, and the key drivers of the overall impression. Needs no servers.

use crate::cli::DemoArgs;
use crate::config::ConfigFile;
use crate::generate::service::{self, ServiceConfig};
use crate::report::{format_value, write_aligned};
use anyhow::{bail, Result};
use quality_engine::methodology::{company_rows, EntityKind, MetricId, Profile};
use quality_engine::window::{Cadence, LocalDate};
use quality_engine::{Engine, Output, WindowRow};
use std::collections::BTreeMap;
use std::path::Path;

/// The standards each table shows, in order.
const SHOWN: [MetricId; 5] =
    [MetricId::CsatSatisfiedShare, MetricId::Nps, MetricId::OnTimeClosureShare, MetricId::ReopenShare, MetricId::ClosureTimeAvg];

/// Runs the service demo and prints its tables.
pub fn run(config: Option<&Path>, args: &DemoArgs) -> Result<()> {
    let mut file = ConfigFile::load(config)?;
    file.engine.profile = Profile::Service;
    let engine_config = file.engine_config(args.timezone.as_deref(), None)?;
    let standards = engine_config.standards.clone();
    let defaults = ServiceConfig::default();
    let cfg = ServiceConfig {
        start: args.stream.start.unwrap_or_else(|| chrono::NaiveDate::from_ymd_opt(2026, 10, 1).unwrap_or(defaults.start)),
        days: args.stream.days,
        timezone: engine_config.timezone,
        seed: args.stream.seed,
        ..defaults
    };
    let gen = service::generate(&cfg);
    let planted = gen.planted_driver();
    let mut engine = Engine::new(engine_config);
    let (mut rows, mut out) = (Vec::new(), Vec::new());
    let started = std::time::Instant::now();
    for line in gen {
        engine.ingest(line.as_bytes());
        engine.drain(&mut out);
        rows.extend(out.drain(..).filter_map(month_row));
    }
    engine.finish(&mut out);
    rows.extend(out.drain(..).filter_map(month_row));
    let stats = engine.stats();
    println!(
        "quality-pipeline demo --profile service: {} departments x {} performers, {} days from {} ({}), seed {}",
        cfg.departments, cfg.performers_per_department, cfg.days, cfg.start, cfg.timezone, cfg.seed
    );
    println!("{}", super::demo::events_line(stats, started));
    // The month with the most closed requests: the one the demo reports.
    let closed = |r: &WindowRow| r.metrics.iter().find(|c| c.metric == MetricId::OnTimeClosureShare).map_or(0, |c| c.denominator);
    let mut by_month: BTreeMap<LocalDate, i64> = BTreeMap::new();
    rows.iter().filter(|r| r.entity == EntityKind::Department).for_each(|r| *by_month.entry(r.period_start).or_default() += closed(r));
    let Some((&month, _)) = by_month.iter().max_by_key(|(m, n)| (**n, std::cmp::Reverse(**m))) else {
        bail!("the stream closed no request; try more --days");
    };
    let rows: Vec<WindowRow> = rows.into_iter().filter(|r| r.period_start == month).collect();
    let company = company_rows(&rows, &standards, "company").pop();
    let month_name = &month.to_string()[..7];
    if let Some(c) = &company {
        println!("Company, {month_name}: {}", goals(c));
    }
    println!("\nDepartments, {month_name} (rating 0..100, rank among departments):");
    let mut departments: Vec<&WindowRow> = rows.iter().filter(|r| r.entity == EntityKind::Department).collect();
    departments.sort_by_key(|r| rank(r));
    print!("{}", table(&departments, "department"));
    for d in &departments {
        let mut performers: Vec<&WindowRow> =
            rows.iter().filter(|r| r.entity == EntityKind::Performer && r.department_id.as_deref() == Some(&*d.seller_id)).collect();
        performers.sort_by_key(|r| (rank(r), r.seller_id.clone()));
        println!("\nPerformers of {} (rank within the department):", d.seller_id);
        print!("{}", table(&performers, "performer"));
    }
    if let Some(c) = &company {
        println!("\nKey drivers of the overall impression, company-wide ({month_name}; the generator planted `{planted}`):");
        let mut t = vec![["rank", "question", "r", "mean score", "surveys", "fix first"].map(String::from).to_vec()];
        for d in &c.drivers {
            t.push(vec![
                d.rank.map_or("-".into(), |r| r.to_string()),
                d.question_id.to_string(),
                d.correlation.map_or("-".into(), |r| format!("{r:.2}")),
                d.mean_score.map_or("-".into(), |m| format!("{m:.2}")),
                d.sample.to_string(),
                if d.fix_first { "yes".into() } else { String::new() },
            ]);
        }
        let mut text = String::new();
        write_aligned(&mut text, &t);
        print!("{text}");
    }
    println!(
        "\nAll rows: quality-pipeline generate --profile service --start {} --days {} --seed {} > service.ndjson && quality-pipeline run --profile service --source file:service.ndjson --sink file:out/",
        cfg.start, cfg.days, cfg.seed
    );
    if let Some(p) = rows.iter().find(|r| r.entity == EntityKind::Performer) {
        println!("Then one performer's rating, explained: quality-pipeline report --performer {} --month {month_name} --from out/", p.seller_id);
    }
    Ok(())
}

/// Keeps the final monthly rows.
fn month_row(o: Output) -> Option<WindowRow> {
    match o {
        Output::Row(r) if r.is_final && r.cadence == Cadence::Month => Some(r),
        _ => None,
    }
}

fn rank(r: &WindowRow) -> u32 {
    r.composite.as_ref().and_then(|c| c.rank).unwrap_or(u32::MAX)
}

/// "satisfied 64.1 % (goal >= 60 %, pass), NPS 21.0 (goal >= 15, pass), ..."
fn goals(r: &WindowRow) -> String {
    let parts: Vec<String> = SHOWN
        .iter()
        .filter_map(|m| r.metrics.iter().find(|c| c.metric == *m))
        .map(|c| {
            let value = c.value.map_or("no data".into(), |v| format_value(c.metric, v));
            let status = serde_json::to_value(c.status).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
            format!("{} {value} (target {}, {status})", c.metric.label(), format_value(c.metric, c.target))
        })
        .collect();
    parts.join("; ")
}

fn table(rows: &[&WindowRow], entity: &str) -> String {
    let mut t = vec![vec![entity.to_owned(), "rating".into(), "rank".into(), "requests".into()]];
    t[0].extend(SHOWN.iter().map(|m| m.label().to_owned()));
    for r in rows {
        let c = r.composite.as_ref();
        let mut line = vec![
            r.seller_id.to_string(),
            c.map_or("-".into(), |c| format!("{:.1}", c.score)),
            c.and_then(|c| c.rank.zip(c.ranked_sellers)).map_or("-".into(), |(r, n)| format!("{r}/{n}")),
            r.metrics.iter().find(|c| c.metric == MetricId::OnTimeClosureShare).map_or(0, |c| c.denominator).to_string(),
        ];
        for m in SHOWN {
            let cell = r.metrics.iter().find(|c| c.metric == m);
            line.push(
                cell.and_then(|c| {
                    c.value.map(|v| format!("{}{}", format_value(m, v), if c.status == quality_engine::methodology::Status::Fail { "!" } else { "" }))
                })
                .unwrap_or("-".into()),
            );
        }
        t.push(line);
    }
    let mut out = String::new();
    write_aligned(&mut out, &t);
    out
}
