//! The service-company profile end to end in memory: the key-driver analysis finds the driver
//! the generator planted, and the company and department roll-ups are exact sums.

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
