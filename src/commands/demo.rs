//! `demo`: the embedded default. Generates a marketplace, runs the engine in memory, prints
//! the last week's breaches and the escalations of the run, and writes the weekly report of
//! the worst seller as HTML. Needs no servers.

use crate::cli::{DemoArgs, ProfileArg};
use crate::config::ConfigFile;
use crate::generate::generate;
use crate::report::breach_table;
use crate::report::weekly::{self, IsoWeek};
use anyhow::{Context, Result};
use quality_engine::methodology::Status;
use quality_engine::window::Cadence;
use quality_engine::{Engine, Output, WindowRow};
use std::path::Path;

/// Runs the demo and prints the table to stdout.
pub fn run(config: Option<&Path>, args: DemoArgs) -> Result<()> {
    if let Some(dir) = args.olist.clone() {
        return olist(config, &args, &dir);
    }
    if args.profile == ProfileArg::Service {
        return super::demo_service::run(config, &args);
    }
    let engine_config = ConfigFile::load(config)?.engine_config(args.timezone.as_deref(), None)?;
    let gen = super::generator_config(&args.stream, engine_config.timezone);
    let timezone = engine_config.timezone;
    let actions = engine_config.actions.clone();
    let mut engine = Engine::new(engine_config);
    // Every output of the run, minus the daily and rolling rows nothing below reads.
    let mut outputs = Vec::new();
    let mut out = Vec::new();
    let started = std::time::Instant::now();
    for line in generate(&gen) {
        // Rejections are counted in the engine's stats; `run` also writes them to dead_letter.ndjson.
        engine.ingest(line.as_bytes());
        engine.drain(&mut out);
        outputs.extend(out.drain(..).filter(kept));
    }
    engine.finish(&mut out);
    outputs.extend(out.drain(..).filter(kept));
    let stats = engine.stats();

    let weeks: Vec<&WindowRow> = outputs
        .iter()
        .filter_map(|o| match o {
            Output::Row(r) if r.cadence == Cadence::Week && r.is_final => Some(r),
            _ => None,
        })
        .collect();
    let last_week = weeks.iter().map(|r| r.period_start).max();
    let this_week: Vec<&WindowRow> = weeks.iter().copied().filter(|r| Some(r.period_start) == last_week).collect();
    println!("quality-pipeline demo: {} sellers, {} days from {} ({}), seed {}", gen.sellers, gen.days, gen.start, gen.timezone, gen.seed);
    println!("{}", events_line(stats, started));
    print!("{}", breach_table(&this_week, args.top));
    print!("\n{}", escalation_table(&outputs));
    if let Some(worst) = this_week.iter().max_by_key(|r| (failed(r), std::cmp::Reverse(r.seller_id.clone()))) {
        let week = IsoWeek::from_day(worst.period_start.0);
        let report = weekly::from_outputs(&outputs, &worst.seller_id, week, timezone, &actions)?;
        std::fs::write(&args.report_html, weekly::render_html(&report))
            .with_context(|| format!("cannot write the report to {}", args.report_html.display()))?;
        println!("\nWeekly report of the worst seller ({}, {week}): {}", worst.seller_id, args.report_html.display());
    }
    println!(
        "All rows and dead letters: quality-pipeline generate > events.ndjson && quality-pipeline run --source file:events.ndjson --sink file:out/"
    );
    // The quarter holding the last week's Thursday (the ISO rule `review` assigns weeks by).
    let quarter = last_week.map(|d| {
        let (y, m, _) = quality_engine::contract::civil_from_days(d.0 + 3);
        format!("{y}-Q{}", (m - 1) / 3 + 1)
    });
    if let Some(q) = quarter {
        println!("Then the quarterly review of that stream: quality-pipeline review --quarter {q} --from out/");
    }
    Ok(())
}

/// "events: N accepted, N duplicates, N rejected (by reason) in Ts", and a blank line.
pub(super) fn events_line(stats: &quality_engine::Stats, started: std::time::Instant) -> String {
    let rejected: Vec<String> = stats.rejected_by_reason().map(|(r, n)| format!("{r} {n}")).collect();
    format!(
        "events: {} accepted, {} duplicates, {} rejected ({}) in {:.2}s\n",
        stats.accepted_total(),
        stats.duplicates_total(),
        stats.rejected_total(),
        rejected.join(", "),
        started.elapsed().as_secs_f64()
    )
}

/// Whether the demo keeps an output: everything but daily and rolling rows.
fn kept(o: &Output) -> bool {
    !matches!(o, Output::Row(r) if !matches!(r.cadence, Cadence::Week | Cadence::Month))
}

/// Standards a row fails.
fn failed(r: &WindowRow) -> usize {
    r.metrics.iter().filter(|c| c.status == Status::Fail).count()
}

/// Every escalation of the run, in order: one line each, after a count per transition.
fn escalation_table(outputs: &[Output]) -> String {
    let escalations: Vec<&quality_engine::actions::Escalation> =
        outputs.iter().filter_map(|o| if let Output::Escalation(e) = o { Some(e) } else { None }).collect();
    let mut counts: std::collections::BTreeMap<(&str, &str), usize> = std::collections::BTreeMap::new();
    for e in &escalations {
        *counts.entry((e.from.as_str(), e.to.as_str())).or_default() += 1;
    }
    let summary: Vec<String> = counts.iter().map(|((from, to), n)| format!("{from} -> {to}: {n}")).collect();
    let mut out = format!("Escalations ({}; {}):\n", escalations.len(), summary.join(", "));
    for e in escalations {
        let standards: Vec<&str> = e.standards.iter().map(|m| m.as_str()).collect();
        let rule = serde_json::to_value(e.rule).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
        out.push_str(&format!("  {}  {}  {} -> {} ({rule}) {}\n", e.week_start, e.seller_id, e.from.as_str(), e.to.as_str(), standards.join(", ")));
    }
    out
}

/// `demo --olist DIR`: imports the Olist dataset, runs the engine in memory (America/Sao_Paulo)
/// and prints the sellers with the lowest rating in the chosen month.
fn olist(config: Option<&Path>, args: &DemoArgs, dir: &Path) -> Result<()> {
    let file = ConfigFile::load(config)?;
    let mut engine_config = file.engine_config(Some(args.timezone.as_deref().unwrap_or("America/Sao_Paulo")), None)?;
    if file.engine.state_ttl.is_none() {
        // Some Olist orders take months from purchase to delivery; keep them all (docs/olist.md).
        engine_config.state_ttl_ms = 365 * quality_engine::contract::DAY_MS;
    }
    let (lines, summary) = crate::import::olist::import(dir)?;
    let month = match &args.month {
        Some(m) => {
            anyhow::ensure!(
                m.len() == 7 && chrono::NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d").is_ok(),
                "--month must be YYYY-MM, got {m:?}"
            );
            m.clone()
        }
        None => busiest_month(&lines).ok_or_else(|| anyhow::anyhow!("no orders in {}", dir.display()))?,
    };
    let mut engine = Engine::new(engine_config);
    let mut out = Vec::new();
    let mut months: Vec<WindowRow> = Vec::new();
    let prefix = format!("{month}-01");
    let mut keep = |out: &mut Vec<Output>| {
        months.extend(out.drain(..).filter_map(|o| match o {
            Output::Row(r) if r.cadence == Cadence::Month && r.is_final && r.period_start.to_string() == prefix => Some(r),
            _ => None,
        }))
    };
    for line in &lines {
        engine.ingest(line.as_bytes());
        engine.drain(&mut out);
        keep(&mut out);
    }
    engine.finish(&mut out);
    keep(&mut out);
    let stats = engine.stats();
    let rows: Vec<&WindowRow> = months.iter().collect();
    let events: Vec<String> = summary.events.iter().map(|(k, n)| format!("{k} {n}")).collect();
    let rejected: Vec<String> = summary.rejected.iter().map(|(k, n)| format!("{k} {n}")).collect();
    println!("quality-pipeline demo on Olist data ({}), America/Sao_Paulo, month {month}", dir.display());
    println!(
        "import: {} events ({}); {} rows or steps rejected ({})",
        summary.events_total(),
        events.join(", "),
        summary.rejected_total(),
        rejected.join(", ")
    );
    let dead: Vec<String> = stats.rejected_by_reason().map(|(r, n)| format!("{r} {n}")).collect();
    println!(
        "engine: {} accepted, {} duplicates, {} dead letters ({})\n",
        stats.accepted_total(),
        stats.duplicates_total(),
        stats.rejected_total(),
        dead.join(", ")
    );
    print!("{}", crate::report::worst_of_month(&rows, args.top));
    println!("All rows: quality-pipeline import olist DIR --out olist.ndjson && quality-pipeline run --source file:olist.ndjson --sink file:out/ --timezone America/Sao_Paulo");
    Ok(())
}

/// The local month (YYYY-MM) with the most `order.created` events.
fn busiest_month(lines: &[String]) -> Option<String> {
    let mut counts: std::collections::BTreeMap<String, u64> = std::collections::BTreeMap::new();
    for line in lines {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        // occurred_at is written with its local offset, so its first 7 characters are the local month.
        if let (Some("order.created"), Some(at)) = (v["type"].as_str(), v["occurred_at"].as_str()) {
            *counts.entry(at.chars().take(7).collect()).or_default() += 1;
        }
    }
    counts.into_iter().max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(&a.0))).map(|(m, _)| m)
}
