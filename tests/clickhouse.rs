//! The ClickHouse sink against the real ClickHouse engine: schema migrations, a file replay
//! landing exactly the file sink's rows, an outage in the middle of a run, and a clear error
//! when the server is unreachable.

mod common;

use clickhouse::{Client, Row};
use common::servers::{clickhouse_url, database, Adapter};
use common::{bin, ok, replay_into_clickhouse};
use serde::Deserialize;
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
    cadence: String,
    period_start: String,
    metric: String,
    numerator: f64,
    denominator: i64,
    value: Option<f64>,
    status: String,
    overdue: i64,
}

type Key = (String, String, String, String);

fn from_file(windows: &Path) -> BTreeMap<Key, Standard> {
    let mut out = BTreeMap::new();
    for line in std::fs::read_to_string(windows).unwrap().lines() {
        let r: serde_json::Value = serde_json::from_str(line).unwrap();
        for c in r["metrics"].as_array().unwrap() {
            let s = Standard {
                seller_id: r["seller_id"].as_str().unwrap().into(),
                cadence: r["cadence"].as_str().unwrap().into(),
                period_start: r["period_start"].as_str().unwrap().into(),
                metric: c["metric"].as_str().unwrap().into(),
                numerator: c["numerator"].as_f64().unwrap(),
                denominator: c["denominator"].as_i64().unwrap(),
                value: c["value"].as_f64(),
                status: c["status"].as_str().unwrap().into(),
                overdue: c["overdue"].as_i64().unwrap(),
            };
            out.insert((s.seller_id.clone(), s.cadence.clone(), s.period_start.clone(), s.metric.clone()), s);
        }
    }
    out
}

async fn from_clickhouse(client: &Client) -> BTreeMap<Key, Standard> {
    let rows: Vec<Standard> = client
        .query("SELECT seller_id, cadence, toString(period_start) AS period_start, metric, numerator, denominator, value, status, overdue FROM standards")
        .fetch_all()
        .await
        .expect("the standards view answers");
    rows.into_iter().map(|s| ((s.seller_id.clone(), s.cadence.clone(), s.period_start.clone(), s.metric.clone()), s)).collect()
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
    ] {
        assert_eq!(count(&c, &format!("SELECT count() FROM system.tables WHERE database = '{db}' AND name = '{t}'")).await, 1, "{t}");
    }
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
