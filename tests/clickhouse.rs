//! The ClickHouse sink against the real ClickHouse engine: schema migrations (and an upgrade
//! that keeps the stored rows as sellers' rows), a file replay landing exactly the file sink's
//! rows for the marketplace and for the service profile (departments and performers, ranks
//! included; survey-question sums, the `key_drivers` view equal to the engine's drivers, critics'
//! sites), an outage in the middle of a run, and a clear error when the server is unreachable.

mod common;

use clickhouse::{Client, Row};
use common::servers::{clickhouse_url, database, Adapter};
use common::{bin, event, ok, replay_into_clickhouse};
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

fn generate(dir: &Path, sellers: u32, days: u32, seed: u64) -> std::path::PathBuf {
    let events = dir.join("events.ndjson");
    ok(bin().args(["generate", "--sellers", &sellers.to_string(), "--days", &days.to_string(), "--seed", &seed.to_string(), "--out"]).arg(&events));
    events
}

/// One metric of one window, as the `standards` view and the file sink both give it.
#[derive(Debug, Clone, PartialEq, Row, Deserialize)]
struct Standard {
    seller_id: String,
    entity: String,
    department_id: String,
    cadence: String,
    period_start: String,
    metric: String,
    numerator: f64,
    denominator: i64,
    value: Option<f64>,
    status: String,
    overdue: i64,
}

/// (entity, department_id, seller_id, cadence, period_start, metric).
type Key = (String, String, String, String, String, String);

impl Standard {
    fn key(&self) -> Key {
        let s = self.clone();
        (s.entity, s.department_id, s.seller_id, s.cadence, s.period_start, s.metric)
    }
}

/// A file row's entity and department as the tables store them (a marketplace row names neither).
fn entity_of(r: &serde_json::Value) -> (String, String) {
    (r["entity"].as_str().unwrap_or("seller").into(), r["department_id"].as_str().unwrap_or_default().into())
}

fn from_file(windows: &Path) -> BTreeMap<Key, Standard> {
    let mut out = BTreeMap::new();
    for line in std::fs::read_to_string(windows).unwrap().lines() {
        let r: serde_json::Value = serde_json::from_str(line).unwrap();
        let (entity, department_id) = entity_of(&r);
        for c in r["metrics"].as_array().unwrap() {
            let s = Standard {
                seller_id: r["seller_id"].as_str().unwrap().into(),
                entity: entity.clone(),
                department_id: department_id.clone(),
                cadence: r["cadence"].as_str().unwrap().into(),
                period_start: r["period_start"].as_str().unwrap().into(),
                metric: c["metric"].as_str().unwrap().into(),
                numerator: c["numerator"].as_f64().unwrap(),
                denominator: c["denominator"].as_i64().unwrap(),
                value: c["value"].as_f64(),
                status: c["status"].as_str().unwrap().into(),
                overdue: c["overdue"].as_i64().unwrap(),
            };
            // Later lines are later versions of the window.
            out.insert(s.key(), s);
        }
    }
    out
}

async fn from_clickhouse(client: &Client) -> BTreeMap<Key, Standard> {
    let rows: Vec<Standard> = client
        .query(
            "SELECT seller_id, entity, department_id, cadence, toString(period_start) AS period_start, metric, numerator, denominator, value, \
             status, overdue FROM standards",
        )
        .fetch_all()
        .await
        .expect("the standards view answers");
    rows.into_iter().map(|s| (s.key(), s)).collect()
}

/// The monthly rating of one seller, department or performer, as the `performer_rating` view and
/// the file sink's monthly rows both give it.
#[derive(Debug, Clone, PartialEq, Row, Deserialize)]
struct Rating {
    entity: String,
    department_id: String,
    seller_id: String,
    period_start: String,
    score: f64,
    rank: Option<u32>,
    ranked_sellers: Option<u32>,
}

type RatingKey = (String, String, String, String);

impl Rating {
    fn key(&self) -> RatingKey {
        (self.entity.clone(), self.department_id.clone(), self.seller_id.clone(), self.period_start.clone())
    }
}

fn ratings_from_file(windows: &Path) -> BTreeMap<RatingKey, Rating> {
    let mut out = BTreeMap::new();
    for line in std::fs::read_to_string(windows).unwrap().lines() {
        let r: serde_json::Value = serde_json::from_str(line).unwrap();
        let Some(c) = r.get("composite") else { continue };
        let (entity, department_id) = entity_of(&r);
        let rating = Rating {
            entity,
            department_id,
            seller_id: r["seller_id"].as_str().unwrap().into(),
            period_start: r["period_start"].as_str().unwrap().into(),
            score: c["score"].as_f64().unwrap(),
            rank: c["rank"].as_u64().map(|n| n as u32),
            ranked_sellers: c["ranked_sellers"].as_u64().map(|n| n as u32),
        };
        out.insert(rating.key(), rating);
    }
    out
}

async fn ratings_from_clickhouse(client: &Client) -> BTreeMap<RatingKey, Rating> {
    let rows: Vec<Rating> = client
        .query(
            "SELECT entity, department_id, seller_id, toString(period_start) AS period_start, score, rank, ranked_sellers \
             FROM performer_rating",
        )
        .fetch_all()
        .await
        .expect("the performer_rating view answers");
    rows.into_iter().map(|r| (r.key(), r)).collect()
}

async fn count(client: &Client, sql: &str) -> u64 {
    client.query(sql).fetch_one::<u64>().await.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn assert_same(file: &BTreeMap<Key, Standard>, ch: &BTreeMap<Key, Standard>) {
    assert!(!file.is_empty());
    assert_eq!(file.len(), ch.len(), "as many metric rows in ClickHouse as in the file sink");
    for (k, f) in file {
        assert_eq!(Some(f), ch.get(k), "{k:?}");
    }
}

fn client(url: &str, db: &str) -> Client {
    Client::default().with_url(url).with_database(db)
}

#[tokio::test(flavor = "multi_thread")]
async fn migrations_create_the_schema_once() {
    let (url, db) = (clickhouse_url(), database("migrate"));
    for _ in 0..2 {
        ok(bin().args(["migrate", "--clickhouse-url", url, "--clickhouse-database", &db]));
    }
    let c = client(url, &db);
    let migrations = quality_pipeline::sink::clickhouse::MIGRATIONS.len() as u64;
    assert_eq!(count(&c, "SELECT count() FROM schema_migrations FINAL").await, migrations);
    for t in [
        "window_day",
        "window_week",
        "window_month",
        "window_quarter",
        "window_rolling_7d",
        "window_rolling_30d",
        "composite_month",
        "dead_letters",
        "standards",
        "performer_rating",
        "checkpoints",
        "escalations",
        "survey_requests",
        "critics",
        "negative_reasons",
        "leaders",
        "incentives",
        "incentive_tiers",
        "survey_questions",
        "key_drivers",
    ] {
        assert_eq!(count(&c, &format!("SELECT count() FROM system.tables WHERE database = '{db}' AND name = '{t}'")).await, 1, "{t}");
    }
    assert_entity_keys(&c, &db).await;
}

/// Every window table and `composite_month` is keyed by entity and department too, with the
/// defaults that make rows without them sellers' rows.
async fn assert_entity_keys(c: &Client, db: &str) {
    #[derive(Row, Deserialize)]
    struct Table {
        name: String,
        sorting_key: String,
    }
    let tables: Vec<Table> = c
        .query(
            "SELECT name, sorting_key FROM system.tables WHERE database = ? AND (startsWith(name, 'window_') OR name = 'composite_month') ORDER BY name",
        )
        .bind(db)
        .fetch_all()
        .await
        .unwrap();
    assert_eq!(tables.len(), 7, "six window tables and composite_month");
    for t in tables {
        let metric = if t.name == "composite_month" { "" } else { ", metric" };
        assert_eq!(t.sorting_key, format!("seller_id, period_start{metric}, entity, department_id"), "{}", t.name);
        let defaults: Vec<(String, String)> = c
            .query("SELECT name, default_expression FROM system.columns WHERE database = ? AND table = ? AND name IN ('entity', 'department_id') ORDER BY name")
            .bind(db)
            .bind(&t.name)
            .fetch_all()
            .await
            .unwrap();
        assert_eq!(defaults, [("department_id".into(), "''".into()), ("entity".into(), "'seller'".into())], "{}", t.name);
    }
}

/// The statements of a migration file, as `migrate` runs them.
fn statements(sql: &str) -> Vec<String> {
    let code: Vec<&str> = sql.lines().filter(|l| !l.trim_start().starts_with("--")).collect();
    code.join("\n").split(';').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_upgrade_keeps_the_stored_rows_as_sellers_rows() {
    use quality_pipeline::sink::clickhouse::{MetricRow, MIGRATIONS};
    let (url, db) = (clickhouse_url(), database("upgrade"));
    // A database of the release before entities: migrations 1 to 6, and rows written then.
    Client::default().with_url(url).query(&format!("CREATE DATABASE `{db}`")).execute().await.unwrap();
    let c = client(url, &db);
    c.query("CREATE TABLE schema_migrations (version UInt32, name String, applied_at DateTime DEFAULT now()) ENGINE = ReplacingMergeTree ORDER BY version")
        .execute()
        .await
        .unwrap();
    for (version, name, sql) in MIGRATIONS.iter().filter(|m| m.0 <= 6) {
        for statement in statements(sql) {
            c.query(&statement).execute().await.unwrap_or_else(|e| panic!("{statement}: {e}"));
        }
        c.query("INSERT INTO schema_migrations (version, name) VALUES (?, ?)").bind(*version).bind(*name).execute().await.unwrap();
    }
    let old = "(seller_id, period_start, period_end, metric, numerator, denominator, value, target, deviation, previous, change, status, \
               overdue, is_final, version, standards_version)";
    for table in ["window_month", "window_quarter"] {
        c.query(&format!(
            "INSERT INTO {table} {old} VALUES ('s1', '2025-01-01', '2025-02-01', 'csi', 9, 2, 4.5, 4.5, 0, NULL, NULL, 'pass', 0, true, 1, '')"
        ))
        .execute()
        .await
        .unwrap();
    }
    c.query("INSERT INTO composite_month (seller_id, period_start, period_end, score, rank, ranked_sellers, is_final, version) VALUES ('s1', '2025-01-01', '2025-02-01', 70, 1, 1, true, 1)")
        .execute()
        .await
        .unwrap();

    ok(bin().args(["migrate", "--clickhouse-url", url, "--clickhouse-database", &db]));
    assert_entity_keys(&c, &db).await;
    assert_eq!(count(&c, "SELECT count() FROM schema_migrations FINAL").await, MIGRATIONS.len() as u64);
    let stored = "SELECT count() FROM standards WHERE seller_id = 's1' AND entity = 'seller' AND department_id = '' AND numerator = 9";
    assert_eq!(count(&c, stored).await, 2, "the stored rows are sellers' rows");
    assert_eq!(count(&c, "SELECT count() FROM performer_rating WHERE seller_id = 's1' AND entity = 'seller' AND rank = 1").await, 1);

    // A newer version of the seller's row replaces the stored one; a department's and a
    // performer's row of the same id are other windows.
    let row = |entity: &str, department: &str, numerator: f64, version: u64| MetricRow {
        seller_id: "s1".into(),
        entity: entity.into(),
        department_id: department.into(),
        period_start: 20089, // 2025-01-01
        period_end: 20120,
        metric: "csi".into(),
        numerator,
        denominator: 2,
        value: Some(numerator / 2.0),
        target: 4.5,
        deviation: Some(numerator / 2.0 - 4.5),
        previous: None,
        change: None,
        status: "pass".into(),
        overdue: 0,
        is_final: true,
        version,
        standards_version: "v1".into(),
        excluded_feedback: 0,
    };
    let mut insert = c.insert::<MetricRow>("window_month").await.unwrap();
    for r in [row("seller", "", 10.0, 2), row("department", "", 8.0, 1), row("performer", "d1", 7.0, 1), row("performer", "d2", 6.0, 1)] {
        insert.write(&r).await.unwrap();
    }
    insert.end().await.unwrap();
    for _ in 0..2 {
        #[derive(Row, Deserialize)]
        struct Cell {
            entity: String,
            department_id: String,
            numerator: f64,
            version: u64,
        }
        let cells: Vec<Cell> = c
            .query("SELECT entity, department_id, numerator, version FROM window_month FINAL WHERE seller_id = 's1' ORDER BY entity, department_id")
            .fetch_all()
            .await
            .unwrap();
        let cells: Vec<(&str, &str, f64, u64)> =
            cells.iter().map(|x| (x.entity.as_str(), x.department_id.as_str(), x.numerator, x.version)).collect();
        assert_eq!(cells, [("department", "", 8.0, 1), ("performer", "d1", 7.0, 1), ("performer", "d2", 6.0, 1), ("seller", "", 10.0, 2)]);
        // The same once the parts written before and after the migration are merged.
        c.query("OPTIMIZE TABLE window_month FINAL").execute().await.unwrap();
    }
    assert_eq!(count(&c, "SELECT count() FROM window_month").await, 4, "the seller's two versions merged into one row");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replay_lands_the_file_sinks_rows_and_dead_letters() {
    let (url, db) = (clickhouse_url(), database("replay"));
    let dir = tempfile::tempdir().unwrap();
    let events = generate(dir.path(), 8, 20, 11);
    let out = dir.path().join("out");
    ok(bin().args(["run", "--source", &format!("file:{}", events.display()), "--sink", &format!("file:{}", out.display())]));
    // Twice into ClickHouse: a replay re-sends identical upserts and changes nothing.
    for _ in 0..2 {
        replay_into_clickhouse(&events, url, &db, &[]);
    }
    let c = client(url, &db);
    assert_same(&from_file(&out.join("windows.ndjson")), &from_clickhouse(&c).await);
    let dead = std::fs::read_to_string(out.join("dead_letter.ndjson")).unwrap().lines().count() as u64;
    assert!(dead > 0);
    assert_eq!(count(&c, "SELECT count() FROM dead_letters FINAL").await, dead);
    let months = count(&c, "SELECT count() FROM performer_rating WHERE rank IS NOT NULL").await;
    assert!(months > 0, "monthly ratings with ranks");
    assert_eq!(count(&c, "SELECT count() FROM survey_questions").await, 0, "the marketplace asks no survey questions");
}

/// Events that make ids meet in the service stream: performer perf-001 (of dept-01) also closes
/// a request of dept-02, and a department named perf-002 has a request closed by performer
/// perf-002 (who works in dept-01 too). They go where their time falls in the stream.
fn with_colliding_ids(events: &Path) {
    let created = |id: &str, department: &str, performer: &str, at: &str| {
        event(
            &format!("{id}.created"),
            "request.created",
            &format!("2026-11-10T{at}:00+03:00"),
            department,
            json!({"request_id": id, "client_id": "client-x", "performer_id": performer, "department_id": department, "site_id": "site-01",
                   "category": "cleaning", "due_by": "2026-11-11T09:00:00+03:00"}),
        )
    };
    let closed = |id: &str, department: &str, performer: &str, at: &str| {
        let fields = json!({"request_id": id, "performer_id": performer, "closed_in": "app"});
        event(&format!("{id}.closed"), "request.closed", &format!("2026-11-10T{at}:00+03:00"), department, fields)
    };
    let answered = |id: &str, department: &str, score: u8, at: &str| {
        let fields = json!({"survey_id": format!("srv-{id}"), "request_id": id, "client_id": "client-x",
                            "answers": [{"question_id": "overall", "score": score}], "channel": "app"});
        event(&format!("{id}.answered"), "survey.answered", &format!("2026-11-10T{at}:00+03:00"), department, fields)
    };
    let extra = [
        created("req-x1", "dept-02", "perf-001", "09:00"),
        created("req-x2", "perf-002", "perf-002", "09:05"),
        closed("req-x1", "dept-02", "perf-001", "11:00"),
        closed("req-x2", "perf-002", "perf-002", "11:05"),
        answered("req-x1", "dept-02", 5, "12:00"),
        answered("req-x2", "perf-002", 2, "12:05"),
    ];
    let text = std::fs::read_to_string(events).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    let at = |l: &str| serde_json::from_str::<serde_json::Value>(l).ok().and_then(|v| v["occurred_at"].as_str().map(str::to_owned));
    let i = lines.iter().position(|l| at(l).is_some_and(|t| t.as_str() > "2026-11-10T09:00:00+03:00")).expect("the stream runs past 2026-11-10");
    lines.splice(i..i, extra.iter().map(String::as_str));
    std::fs::write(events, lines.join("\n") + "\n").unwrap();
}

/// The service stream of these tests (ids colliding as in [`with_colliding_ids`]) run into the
/// file sink and replayed `runs` times into ClickHouse database `db` (a replay re-sends
/// identical upserts).
struct ServiceReplay {
    _dir: tempfile::TempDir,
    /// The config file that selects the service profile.
    config: String,
    /// The file sink's directory.
    out: std::path::PathBuf,
}

fn service_replay(url: &str, db: &str, runs: usize) -> ServiceReplay {
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("service.ndjson");
    ok(bin().args(["generate", "--profile", "service", "--days", "21", "--seed", "3", "--out"]).arg(&events));
    with_colliding_ids(&events);
    let config = dir.path().join("service.toml");
    std::fs::write(&config, "[engine]\nprofile = \"service\"\n").unwrap();
    let config = config.to_str().unwrap().to_owned();
    let out = dir.path().join("out");
    ok(bin().args(["--config", &config, "run", "--source", &format!("file:{}", events.display()), "--sink", &format!("file:{}", out.display())]));
    for _ in 0..runs {
        replay_into_clickhouse(&events, url, db, &["--config", &config]);
    }
    ServiceReplay { _dir: dir, config, out }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_service_replay_lands_departments_and_performers_with_their_ranks() {
    let (url, db) = (clickhouse_url(), database("service"));
    let replay = service_replay(url, &db, 1);
    let (config, out) = (replay.config.as_str(), &replay.out);
    let c = client(url, &db);

    let windows = out.join("windows.ndjson");
    let (file, ch) = (from_file(&windows), from_clickhouse(&c).await);
    assert_same(&file, &ch);
    let entities: std::collections::BTreeSet<&str> = ch.keys().map(|k| k.0.as_str()).collect();
    assert_eq!(entities, ["department", "performer"].into(), "a service database holds departments and performers only");
    let has = |entity: &str, department: &str, id: &str| ch.keys().any(|k| (k.0.as_str(), k.1.as_str(), k.2.as_str()) == (entity, department, id));
    assert!(has("performer", "dept-01", "perf-001") && has("performer", "dept-02", "perf-001"), "one performer, two departments, two windows");
    assert!(has("department", "", "perf-002") && has("performer", "perf-002", "perf-002") && has("performer", "dept-01", "perf-002"));
    assert!(!has("department", "", "perf-001") && !has("seller", "", "dept-01"));

    // Ratings: the view ranks departments among departments and performers within their
    // department, which one engine does too, so every score and rank is the file sink's.
    let ratings = ratings_from_clickhouse(&c).await;
    assert_eq!(ratings, ratings_from_file(&windows));
    let mut groups: BTreeMap<(String, String, String), Vec<(u32, u32)>> = BTreeMap::new();
    for r in ratings.values() {
        let (rank, n) = (r.rank.expect("final months are ranked"), r.ranked_sellers.unwrap());
        groups.entry((r.period_start.clone(), r.entity.clone(), r.department_id.clone())).or_default().push((rank, n));
    }
    let month = |m: &str, entity: &str, department: &str| groups[&(m.to_owned(), entity.to_owned(), department.to_owned())].clone();
    assert_eq!(month("2026-11-01", "department", "").len(), 5, "four departments and perf-002");
    assert_eq!(month("2026-11-01", "performer", "dept-02").len(), 7, "dept-02's six performers and perf-001");
    assert_eq!(month("2026-11-01", "performer", "perf-002"), [(1, 1)], "alone in its department");
    for ((start, entity, department), ranks) in &groups {
        let n = ranks.len() as u32;
        assert!(ranks.iter().all(|&(rank, of)| of == n && (1..=n).contains(&rank)), "{start} {entity} {department}: {ranks:?}");
        assert!(ranks.iter().any(|&(rank, _)| rank == 1), "{start} {entity} {department}: {ranks:?}");
    }
    assert!(groups.keys().filter(|k| k.1 == "performer").count() >= 8, "performers of every department of both months");

    // Disputed feedback: every final window's excluded count is stored (on each of its metric
    // rows) and equals the file sink's, and the performer report read from ClickHouse shows it.
    type Window = (String, String, String, String, String);
    let mut excluded_file: BTreeMap<Window, i64> = BTreeMap::new();
    for line in std::fs::read_to_string(&windows).unwrap().lines() {
        let r: serde_json::Value = serde_json::from_str(line).unwrap();
        let (entity, department) = entity_of(&r);
        if r["is_final"].as_bool() == Some(true) && r["cadence"] != "quarter" {
            let key = (
                r["cadence"].as_str().unwrap().into(),
                entity,
                department,
                r["seller_id"].as_str().unwrap().into(),
                r["period_start"].as_str().unwrap().into(),
            );
            excluded_file.insert(key, r["excluded_feedback"].as_i64().unwrap_or(0));
        }
    }
    excluded_file.retain(|_, n| *n != 0);
    #[derive(Debug, Row, Deserialize)]
    struct Excluded {
        entity: String,
        department_id: String,
        seller_id: String,
        period_start: String,
        excluded: i64,
    }
    let mut excluded_ch: BTreeMap<Window, i64> = BTreeMap::new();
    for cadence in ["day", "week", "month", "rolling_7d", "rolling_30d"] {
        let sql = format!(
            "SELECT entity, department_id, seller_id, toString(period_start) AS period_start, any(excluded_feedback) AS excluded \
             FROM window_{cadence} FINAL WHERE is_final AND excluded_feedback != 0 GROUP BY entity, department_id, seller_id, period_start"
        );
        for r in c.query(&sql).fetch_all::<Excluded>().await.unwrap() {
            excluded_ch.insert((cadence.into(), r.entity, r.department_id, r.seller_id, r.period_start), r.excluded);
        }
    }
    assert!(excluded_file.keys().any(|k| k.0 == "month" && k.1 == "performer"), "the stream has disputed feedback");
    assert_eq!(excluded_ch, excluded_file);
    let ((_, _, department, performer, start), n) = excluded_file.iter().find(|(k, _)| k.0 == "month" && k.1 == "performer").unwrap();
    let month = &start[..7];
    let report = ok(bin()
        .args([
            "--config",
            config,
            "report",
            "--clickhouse",
            "--performer",
            performer,
            "--department",
            department,
            "--month",
            month,
            "--format",
            "json",
        ])
        .args(["--clickhouse-url", url, "--clickhouse-database", &db]));
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    assert_eq!(report["excluded_feedback"].as_i64(), Some(*n), "{performer} in {department}, {month}");

    // The company's month: sums of the departments' numerators and denominators (the README's
    // query). A closed request and a survey about it count for its owner and its department, so
    // the performers' rows sum to the same figures.
    #[derive(Debug, Row, Deserialize)]
    struct Company {
        period_start: String,
        metric: String,
        num: f64,
        den: i64,
    }
    let company = |entity: &str| {
        format!(
            "SELECT toString(period_start) AS period_start, metric, sum(numerator) AS num, sum(denominator) AS den FROM standards \
             WHERE entity = '{entity}' AND cadence = 'month' AND is_final \
               AND metric IN ('csat_satisfied_share', 'csat_avg', 'on_time_closure_share', 'closure_time_avg', 'reopen_share') \
             GROUP BY period_start, metric ORDER BY period_start, metric"
        )
    };
    let departments: Vec<Company> = c.query(&company("department")).fetch_all().await.unwrap();
    let performers: Vec<Company> = c.query(&company("performer")).fetch_all().await.unwrap();
    assert_eq!(departments.len(), 10, "five metrics, two months: {departments:?}");
    assert_eq!(departments.len(), performers.len());
    for (d, p) in departments.iter().zip(&performers) {
        assert_eq!((&d.period_start, &d.metric, d.den), (&p.period_start, &p.metric, p.den), "{d:?} {p:?}");
        assert!((d.num - p.num).abs() <= 1e-9 * d.num.abs().max(1.0), "{d:?} {p:?}");
    }
    assert!(departments.iter().any(|d| d.metric == "closure_time_avg" && d.den > 100));

    // A backfill judges every entity's rows again and ranks them as the engine does, in both stores.
    for from in [format!("file:{}", out.display()), "clickhouse".into()] {
        let store = ["--clickhouse-url", url, "--clickhouse-database", &db];
        let stdout = ok(bin().args(["--config", config, "backfill", "--from", &from, "--standards-version", "v1"]).args(store));
        assert!(stdout.contains("Wrote "), "{stdout}");
    }
    assert_same(&from_file(&windows), &from_clickhouse(&c).await);
    assert_eq!(ratings_from_clickhouse(&c).await, ratings_from_file(&windows));
    assert_eq!(count(&c, "SELECT count() FROM composite_month FINAL WHERE version = 4611686018427387905").await, ratings.len() as u64);
    // The question sums come along with their rows' new version.
    let questions = questions_from_file(&windows);
    assert_eq!(questions_from_clickhouse(&c).await, questions);
    assert!(questions.values().all(|q| q.version == 4611686018427387905), "backfilled once in both stores");
}

/// One survey question of one window, as the `survey_questions` table and the file sink's rows
/// (their `questions`) both give it.
#[derive(Debug, Clone, PartialEq, Row, Deserialize)]
struct QuestionSums {
    entity: String,
    department_id: String,
    seller_id: String,
    cadence: String,
    period_start: String,
    period_end: String,
    question_id: String,
    surveys: i64,
    sum_score: i64,
    sum_overall: i64,
    sum_score_sq: i64,
    sum_overall_sq: i64,
    sum_cross: i64,
    is_final: bool,
    version: u64,
}

/// (entity, department_id, seller_id, cadence, period_start, question_id).
type QuestionKey = Key;

impl QuestionSums {
    fn key(&self) -> QuestionKey {
        let q = self.clone();
        (q.entity, q.department_id, q.seller_id, q.cadence, q.period_start, q.question_id)
    }
}

/// The latest line of every window of a file sink's `windows.ndjson`.
fn latest_rows(windows: &Path) -> Vec<quality_engine::WindowRow> {
    let mut latest = BTreeMap::new();
    for line in std::fs::read_to_string(windows).unwrap().lines() {
        let r: quality_engine::WindowRow = serde_json::from_str(line).unwrap();
        let key = (r.entity.as_str(), r.department_id.clone(), r.seller_id.clone(), r.cadence, r.period_start);
        // Later lines are later versions of the window: their questions replace the earlier ones.
        latest.insert(key, r);
    }
    latest.into_values().collect()
}

fn questions_from_file(windows: &Path) -> BTreeMap<QuestionKey, QuestionSums> {
    let mut out = BTreeMap::new();
    for r in latest_rows(windows) {
        for q in &r.questions {
            let m = q.moments;
            let sums = QuestionSums {
                entity: r.entity.as_str().into(),
                department_id: r.department_id.as_deref().unwrap_or_default().into(),
                seller_id: r.seller_id.to_string(),
                cadence: r.cadence.as_str().into(),
                period_start: r.period_start.to_string(),
                period_end: r.period_end.to_string(),
                question_id: q.question_id.to_string(),
                surveys: q.surveys,
                sum_score: m.sx,
                sum_overall: m.sy,
                sum_score_sq: m.sxx,
                sum_overall_sq: m.syy,
                sum_cross: m.sxy,
                is_final: r.is_final,
                version: r.version,
            };
            assert_eq!(m.n, q.surveys);
            out.insert(sums.key(), sums);
        }
    }
    out
}

async fn questions_from_clickhouse(client: &Client) -> BTreeMap<QuestionKey, QuestionSums> {
    let rows: Vec<QuestionSums> = client
        .query(
            "SELECT entity, department_id, seller_id, cadence, toString(period_start) AS period_start, toString(period_end) AS period_end, \
             question_id, surveys, sum_score, sum_overall, sum_score_sq, sum_overall_sq, sum_cross, is_final, version FROM survey_questions FINAL",
        )
        .fetch_all()
        .await
        .expect("the survey_questions table answers");
    rows.into_iter().map(|q| (q.key(), q)).collect()
}

/// One question's place among the drivers of a department or the company in a month, as the
/// `key_drivers` view gives it.
#[derive(Debug, Clone, PartialEq, Row, Deserialize)]
struct KeyDriver {
    entity: String,
    seller_id: String,
    period_start: String,
    question_id: String,
    sample: i64,
    mean_score: f64,
    correlation: Option<f64>,
    reliable: bool,
    rank: Option<u32>,
    fix_first: bool,
}

/// The engine's drivers of monthly rows, keyed like the view's: (entity, seller_id, period_start, question_id).
fn drivers_of<'a>(
    rows: impl Iterator<Item = &'a quality_engine::WindowRow>,
) -> BTreeMap<(String, String, String, String), quality_engine::methodology::Driver> {
    let mut out = BTreeMap::new();
    for r in rows.filter(|r| r.cadence == quality_engine::window::Cadence::Month && r.is_final) {
        for d in &r.drivers {
            out.insert((r.entity.as_str().to_owned(), r.seller_id.to_string(), r.period_start.to_string(), d.question_id.to_string()), d.clone());
        }
    }
    out
}

fn assert_same_drivers(engine: &BTreeMap<(String, String, String, String), quality_engine::methodology::Driver>, view: &[KeyDriver]) {
    let view: BTreeMap<(String, String, String, String), &KeyDriver> =
        view.iter().map(|d| ((d.entity.clone(), d.seller_id.clone(), d.period_start.clone(), d.question_id.clone()), d)).collect();
    assert!(!engine.is_empty());
    assert_eq!(engine.keys().collect::<Vec<_>>(), view.keys().collect::<Vec<_>>(), "the same groups and questions");
    let close = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() <= 1e-9,
        (a, b) => a == b,
    };
    for (k, e) in engine {
        let v = view[k];
        assert_eq!((v.sample, v.rank, v.reliable, v.fix_first), (e.sample, e.rank, e.reliable, e.fix_first), "{k:?}: {v:?} vs {e:?}");
        assert!(close(Some(v.mean_score), e.mean_score) && close(v.correlation, e.correlation), "{k:?}: {v:?} vs {e:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_service_replay_stores_the_question_sums_and_the_key_drivers_are_the_engines() {
    use quality_engine::methodology::{company_rows, EntityKind, Profile, StandardsBook};
    let (url, db) = (clickhouse_url(), database("drivers"));
    // Twice: the question rows are upserts like the window rows.
    let replay = service_replay(url, &db, 2);
    let c = client(url, &db);
    let windows = replay.out.join("windows.ndjson");

    // Every entity and cadence: the table holds the file rows' question sums, version and finality.
    let questions = questions_from_file(&windows);
    assert_eq!(questions_from_clickhouse(&c).await, questions);
    let kinds: std::collections::BTreeSet<(&str, &str)> = questions.keys().map(|k| (k.0.as_str(), k.3.as_str())).collect();
    assert_eq!(kinds.len(), 2 * 6, "departments and performers, every cadence: {kinds:?}");
    assert!(questions.keys().any(|k| k.5 == "overall") && questions.keys().any(|k| k.5 != "overall"));

    let drivers: Vec<KeyDriver> = c
        .query(
            "SELECT entity, seller_id, toString(period_start) AS period_start, question_id, sample, mean_score, correlation, reliable, rank, \
             fix_first FROM key_drivers",
        )
        .fetch_all()
        .await
        .expect("the key_drivers view answers");
    let (departments, company): (Vec<KeyDriver>, Vec<KeyDriver>) = drivers.into_iter().partition(|d| d.entity == "department");
    assert!(company.iter().all(|d| d.entity == "company" && d.seller_id == "company"), "{company:?}");

    // Departments: the drivers of the department month rows.
    let rows = latest_rows(&windows);
    assert_same_drivers(&drivers_of(rows.iter().filter(|r| r.entity == EntityKind::Department)), &departments);
    // The company: the departments' sums added up, as the engine's company roll-up.
    let standards = StandardsBook::default().resolve(Profile::Service).unwrap();
    let company_months = company_rows(&rows, &standards, "company");
    assert_same_drivers(&drivers_of(company_months.iter()), &company);
    assert!(company.iter().any(|d| d.rank == Some(1)) && departments.iter().any(|d| d.fix_first), "{company:?}");

    // Critics carry the request's site.
    let mut sites = BTreeMap::new();
    for line in std::fs::read_to_string(replay.out.join("critics.ndjson")).unwrap().lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        sites.insert(v["critic_id"].as_str().unwrap().to_owned(), v["site_id"].as_str().unwrap_or_default().to_owned());
    }
    let stored: BTreeMap<String, String> =
        c.query("SELECT critic_id, site_id FROM critics FINAL").fetch_all::<(String, String)>().await.unwrap().into_iter().collect();
    assert_eq!(stored, sites);
    assert!(stored.values().filter(|s| s.starts_with("site-")).count() > stored.len() / 2, "{stored:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_outage_pauses_the_run_and_nothing_is_lost() {
    let data = tempfile::tempdir().unwrap();
    let mut adapter = Adapter::start(0, data.path());
    let (url, port, db) = (adapter.url.clone(), adapter.port, "qp_outage".to_string());
    let dir = tempfile::tempdir().unwrap();
    let events = generate(dir.path(), 6, 20, 12);
    let out = dir.path().join("out");
    ok(bin().args(["run", "--source", &format!("file:{}", events.display()), "--sink", &format!("file:{}", out.display())]));
    let lines: Vec<String> = std::fs::read_to_string(&events).unwrap().lines().map(str::to_owned).collect();
    let (first, rest) = lines.split_at(lines.len() / 2);

    let mut run = bin()
        .env("QP_LOG", "error")
        .args(["run", "--source", "file:-", "--sink", "clickhouse", "--commit-every", "1000", "--clickhouse-url", &url, "--clickhouse-database", &db])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = run.stdin.take().unwrap();
    stdin.write_all((first.join("\n") + "\n").as_bytes()).unwrap();
    stdin.flush().unwrap();
    let c = client(&url, &db);
    let deadline = Instant::now() + Duration::from_secs(60);
    while count(&c, "SELECT count() FROM dead_letters").await == 0 {
        assert!(Instant::now() < deadline, "the run never committed");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    adapter.kill();
    // The run stops reading while it waits for ClickHouse, so feed it from another thread.
    let rest = rest.join("\n") + "\n";
    let feeder = std::thread::spawn(move || stdin.write_all(rest.as_bytes()));
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(run.try_wait().unwrap().is_none(), "the run waits for ClickHouse instead of failing or dropping rows");
    let adapter = Adapter::start(port, data.path());
    let status = tokio::task::spawn_blocking(move || run.wait()).await.unwrap().unwrap();
    assert!(status.success());
    feeder.join().unwrap().unwrap();
    let c = client(&adapter.url, &db);
    assert_same(&from_file(&out.join("windows.ndjson")), &from_clickhouse(&c).await);
}

#[test]
fn an_unreachable_server_is_a_clear_error_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("e.ndjson");
    std::fs::write(&events, "").unwrap();
    let out = bin()
        .args(["run", "--source", &format!("file:{}", events.display()), "--sink", "clickhouse", "--clickhouse-url", "http://127.0.0.1:9"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot reach ClickHouse at http://127.0.0.1:9") && err.contains("QP_CLICKHOUSE_URL"), "{err}");
}
