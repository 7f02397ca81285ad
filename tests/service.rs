//! The service-company profile end to end: the key-driver analysis finds the driver the
//! generator planted, the company and department roll-ups are exact sums, and the binary's
//! `demo --profile service` and `report --performer` explain ratings that add up.

mod common;

use common::{bin, ok};

use quality_engine::methodology::{company_rows, EntityKind, MetricId, Profile, StandardsBook};
use quality_engine::window::Cadence;
use quality_engine::{Engine, EngineConfig, Output, WindowRow};
use quality_pipeline::generate::service::{generate, ServiceConfig};

/// Final monthly rows of a generated service company, and the question the generator planted.
fn months(seed: u64) -> (Vec<WindowRow>, &'static str, EngineConfig) {
    let standards = StandardsBook::default().resolve(Profile::Service).unwrap();
    let config = EngineConfig { standards, ..EngineConfig::default() };
    let cfg = ServiceConfig { seed, days: 30, start: chrono::NaiveDate::from_ymd_opt(2026, 9, 1).unwrap(), ..ServiceConfig::default() };
    let gen = generate(&cfg);
    let planted = gen.planted_driver();
    let mut engine = Engine::new(config.clone());
    let mut out = Vec::new();
    for line in gen {
        engine.ingest(line.as_bytes());
    }
    engine.finish(&mut out);
    let rows = out
        .into_iter()
        .filter_map(|o| match o {
            Output::Row(r)
                if r.is_final && r.cadence == Cadence::Month && r.period_start == quality_engine::window::LocalDate::parse("2026-09-01").unwrap() =>
            {
                Some(r)
            }
            _ => None,
        })
        .collect();
    (rows, planted, config)
}

#[test]
fn the_planted_driver_ranks_first_company_wide_and_in_every_department_on_three_seeds() {
    let mut planted_seen = std::collections::BTreeSet::new();
    for seed in [1, 2, 3] {
        let (rows, planted, config) = months(seed);
        planted_seen.insert(planted);
        let company = company_rows(&rows, &config.standards, "company");
        assert_eq!(company.len(), 1, "seed {seed}: one company month");
        let drivers = &company[0].drivers;
        assert_eq!(drivers.len(), 4, "seed {seed}: four questions besides the main one: {drivers:?}");
        assert_eq!(&*drivers[0].question_id, planted, "seed {seed}: {drivers:?}");
        assert_eq!(drivers[0].rank, Some(1));
        assert!(drivers.iter().all(|d| d.reliable && d.sample >= 30), "seed {seed}: company samples are large: {drivers:?}");
        for d in rows.iter().filter(|r| r.entity == EntityKind::Department) {
            assert_eq!(&*d.drivers[0].question_id, planted, "seed {seed}, {}: {:?}", d.seller_id, d.drivers);
        }
        // A performer's month is a small sample: its drivers are shown but flagged.
        assert!(rows.iter().filter(|r| r.entity == EntityKind::Performer).any(|r| r.drivers.iter().any(|d| !d.reliable)), "seed {seed}");
    }
    assert!(planted_seen.len() >= 2, "the seeds should plant different questions: {planted_seen:?}");
}

#[test]
fn the_company_is_the_sum_of_its_departments_and_a_department_of_its_performers() {
    let (rows, _, config) = months(4);
    let company = &company_rows(&rows, &config.standards, "company")[0];
    // Integer sums (milliseconds for durations), as the engine keeps them.
    let cell = |r: &WindowRow, m: MetricId| r.metrics.iter().find(|c| c.metric == m).map(|c| (m.raw_numerator(c.numerator), c.denominator)).unwrap();
    let departments: Vec<&WindowRow> = rows.iter().filter(|r| r.entity == EntityKind::Department).collect();
    assert_eq!(departments.len(), 4);
    for m in [
        MetricId::CsatAvg,
        MetricId::Nps,
        MetricId::OnTimeClosureShare,
        MetricId::ClosureTimeAvg,
        MetricId::ReopenShare,
        MetricId::SurveyCoverageShare,
    ] {
        let (num, den) = departments.iter().map(|d| cell(d, m)).fold((0, 0), |(a, b), (n, d)| (a + n, b + d));
        assert_eq!(cell(company, m), (num, den), "{m}");
        let value = company.metrics.iter().find(|c| c.metric == m).unwrap().value.unwrap();
        let expected = m.value(num, den).unwrap();
        assert!((value - expected).abs() < 1e-9, "{m}: the company's value is its sums' ratio, not an average of ratios");
    }
    for d in &departments {
        let performers: Vec<&WindowRow> =
            rows.iter().filter(|r| r.entity == EntityKind::Performer && r.department_id.as_deref() == Some(&*d.seller_id)).collect();
        assert!(performers.len() >= 5, "{}: {} performers", d.seller_id, performers.len());
        // Every request figure of a department is its performers'; NPS without a request is the department's alone.
        for m in [MetricId::CsatSatisfiedShare, MetricId::CsatAvg, MetricId::OnTimeClosureShare, MetricId::ClosureTimeAvg, MetricId::ReopenShare] {
            let (num, den) = performers.iter().map(|p| cell(p, m)).fold((0, 0), |(a, b), (n, d)| (a + n, b + d));
            assert_eq!(cell(d, m), (num, den), "{} {m}", d.seller_id);
        }
        let mut ranks: Vec<u32> = performers.iter().map(|p| p.composite.as_ref().unwrap().rank.unwrap()).collect();
        ranks.sort();
        assert_eq!(ranks, (1..=performers.len() as u32).collect::<Vec<_>>(), "{}: ranks within the department", d.seller_id);
    }
    let overall = company.questions.iter().find(|q| &*q.question_id == "overall").unwrap();
    let csat = company.metrics.iter().find(|c| c.metric == MetricId::CsatAvg).unwrap();
    assert_eq!((overall.surveys, overall.moments.sx), (csat.denominator, csat.numerator as i64), "the main question's sums are CSAT's");
}

#[test]
fn the_performer_report_explains_the_stored_rating_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("service.ndjson");
    let out = dir.path().join("out");
    ok(bin().args(["generate", "--profile", "service", "--start", "2026-10-01", "--days", "35", "--seed", "5", "--out"]).arg(&events));
    ok(bin()
        .args(["run", "--profile", "service", "--source"])
        .arg(format!("file:{}", events.display()))
        .arg("--sink")
        .arg(format!("file:{}", out.display())));
    let windows = std::fs::read_to_string(out.join("windows.ndjson")).unwrap();
    let stored: WindowRow = windows
        .lines()
        .map(|l| serde_json::from_str::<WindowRow>(l).unwrap())
        .filter(|r| r.is_final && r.entity == EntityKind::Performer && &*r.seller_id == "perf-003" && r.cadence == Cadence::Month)
        .find(|r| r.period_start == quality_engine::window::LocalDate::parse("2026-10-01").unwrap())
        .expect("perf-003's final October row");
    let rating = stored.composite.as_ref().unwrap();
    let report = |format: &str| ok(bin().args(["report", "--performer", "perf-003", "--month", "2026-10", "--format", format, "--from"]).arg(&out));

    let json: serde_json::Value = serde_json::from_str(&report("json")).unwrap();
    assert_eq!(json["rating"].as_f64(), Some(rating.score));
    assert_eq!(json["department_id"], "dept-01");
    let points: f64 = json["components"].as_array().unwrap().iter().map(|c| c["points"].as_f64().unwrap()).sum();
    assert!((points - rating.score).abs() < 1e-9, "the components add up to the rating: {points} vs {}", rating.score);
    let ids: Vec<&str> = json["components"].as_array().unwrap().iter().map(|c| c["component"].as_str().unwrap()).collect();
    assert_eq!(ids, ["nps", "csat_satisfied_share", "csat_avg", "on_time_closure_share", "closure_time_avg", "reopen_share", "volume"]);
    let rank = json["rank"].as_array().unwrap();
    assert_eq!((rank[0].as_u64(), rank[1].as_u64()), (rating.rank.map(u64::from), rating.ranked_sellers.map(u64::from)));
    assert_eq!(json["excluded_feedback"].as_i64(), Some(stored.excluded_feedback));
    let performers: Vec<f64> = windows
        .lines()
        .map(|l| serde_json::from_str::<WindowRow>(l).unwrap())
        .filter(|r| r.is_final && r.entity == EntityKind::Performer && r.cadence == Cadence::Month && r.period_start == stored.period_start)
        .map(|r| r.composite.unwrap().score)
        .collect();
    let company_rank = 1 + performers.iter().filter(|s| **s > rating.score).count() as u64;
    assert_eq!(json["company_rank"], serde_json::json!([company_rank, performers.len()]), "ranked among all {} performers", performers.len());
    assert!(windows.lines().any(|l| l.contains("\"excluded_feedback\":")), "the stream has disputed feedback");

    let md = report("md");
    assert!(md.contains(&format!("rating **{:.1}** of 100", rating.score)), "{md}");
    assert!(md.contains("| Requests closed |") && md.contains("Disputing a rating"), "{md}");
    let html = report("html");
    assert!(html.contains(&format!("data-field=\"rating\" data-value=\"{}\"", rating.score)), "{html}");
    assert_eq!(html.matches("data-component=").count(), 7);

    let department: serde_json::Value =
        serde_json::from_str(&ok(bin().args(["report", "--department", "dept-02", "--month", "2026-10", "--format", "json", "--from"]).arg(&out)))
            .unwrap();
    let stored_department = windows
        .lines()
        .map(|l| serde_json::from_str::<WindowRow>(l).unwrap())
        .find(|r| {
            r.is_final
                && r.entity == EntityKind::Department
                && &*r.seller_id == "dept-02"
                && r.cadence == Cadence::Month
                && r.period_start == stored.period_start
        })
        .expect("dept-02's final October row");
    assert_eq!(
        (department["entity"].as_str(), department["rating"].as_f64()),
        (Some("department"), Some(stored_department.composite.unwrap().score))
    );
    assert!(department["company_rank"].is_null(), "departments rank among departments only");
    let fails = bin().args(["report", "--performer", "nobody", "--month", "2026-10", "--from"]).arg(&out).output().unwrap();
    let err = String::from_utf8_lossy(&fails.stderr);
    assert!(!fails.status.success() && err.contains("performers with one: perf-001"), "{err}");
    let fails = bin().args(["report", "--performer", "perf-003", "--month", "October", "--from"]).arg(&out).output().unwrap();
    assert!(String::from_utf8_lossy(&fails.stderr).contains("write it as YYYY-MM"));
}

#[test]
fn the_service_demo_reports_goals_ratings_and_the_planted_driver() {
    let text = ok(bin().args(["demo", "--profile", "service", "--seed", "3"]));
    assert!(text.contains("Satisfied clients") && text.contains("(target 60%") && text.contains("NPS") && text.contains("(target 15,"), "{text}");
    assert!(text.contains("Departments, 2026-10") && text.contains("Performers of dept-01"), "{text}");
    let planted = text.split("the generator planted `").nth(1).and_then(|t| t.split('`').next()).expect("the planted driver is named");
    let first = text.lines().skip_while(|l| !l.starts_with("rank ")).nth(1).expect("a key-driver table");
    assert!(first.starts_with("1 ") && first.contains(planted), "the planted driver {planted} ranks first: {first}");
}

#[test]
fn a_service_engine_restored_from_its_checkpoints_gives_the_same_outputs() {
    let standards = StandardsBook::default().resolve(Profile::Service).unwrap();
    let config = EngineConfig { standards, ..EngineConfig::default() };
    let cfg = ServiceConfig { seed: 9, days: 20, ..ServiceConfig::default() };
    let lines: Vec<String> = generate(&cfg).collect();
    let run = |restart_every: usize| {
        let mut engine = Engine::new(config.clone());
        let mut out = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            engine.ingest(line.as_bytes());
            if restart_every > 0 && i % restart_every == restart_every - 1 {
                let bytes = engine.checkpoint(&mut out);
                engine = Engine::restore(config.clone(), &bytes).expect("the checkpoint restores");
            }
        }
        engine.finish(&mut out);
        let mut finals: Vec<String> = out
            .iter()
            .filter_map(|o| match o {
                Output::Row(r) if r.is_final => Some(serde_json::to_string(r).unwrap()),
                Output::Critic(c) => Some(serde_json::to_string(c).unwrap()),
                Output::SurveyRequest(s) => Some(serde_json::to_string(s).unwrap()),
                Output::DeadLetter(d) => Some(serde_json::to_string(d).unwrap()),
                _ => None,
            })
            .collect();
        finals.sort();
        finals
    };
    let plain = run(0);
    assert!(plain.iter().any(|l| l.contains("\"entity\":\"performer\"")) && plain.iter().any(|l| l.contains("\"questions\"")));
    assert_eq!(run(997), plain, "restarts from checkpoints change nothing");
}
