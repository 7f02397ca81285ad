//! Incentive tiers end to end: the file sink's `incentives.ndjson` against what `quality-pipeline
//! incentives --clickhouse --publish` writes to ClickHouse and to the incentive topic, after a
//! file replay of the same events into ClickHouse; each change exactly once in both, across
//! repeated runs and crashes between the ClickHouse insert and the publication.
//!
//! And over a partitioned Kafka run, only the months every partition has closed are decided.
//!
//! Servers: the chDB adapter and a tansu broker (or `CLICKHOUSE_URL` / `KAFKA_BOOTSTRAP`).

mod common;

use common::servers::{clickhouse_url, database, kafka_bootstrap};
use common::{bin, event, ok, replay_into_clickhouse};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Every number as f64, so that ClickHouse's `90` equals serde's `90.0`.
fn norm(v: Value) -> Value {
    match v {
        Value::Number(n) => n.as_f64().map_or(Value::Null, Value::from),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, norm(v))).collect()),
        other => other,
    }
}

/// The changes as (change_id -> record), numbers normalized.
fn by_id(records: impl IntoIterator<Item = Value>) -> BTreeMap<String, Value> {
    records.into_iter().map(|r| (r["change_id"].as_str().unwrap().to_owned(), norm(r))).collect()
}

/// Every record of `topic`: (key, payload as JSON).
fn read_topic(topic: &str) -> Vec<(String, Value)> {
    let reader: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", kafka_bootstrap())
        .set("group.id", format!("{topic}.check"))
        .set("enable.partition.eof", "true")
        .set("fetch.wait.max.ms", "50")
        .create()
        .unwrap();
    let md = reader.fetch_metadata(Some(topic), Duration::from_secs(10)).unwrap();
    let partitions = md.topics()[0].partitions().len() as i32;
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition_offset(topic, p, Offset::Beginning).unwrap();
    }
    reader.assign(&tpl).unwrap();
    let (mut open, mut out) = (partitions, Vec::new());
    let deadline = Instant::now() + Duration::from_secs(60);
    while open > 0 {
        assert!(Instant::now() < deadline, "reading topic {topic} timed out");
        match reader.poll(Duration::from_millis(200)) {
            Some(Ok(m)) => {
                let key = String::from_utf8(m.key().unwrap().to_vec()).unwrap();
                out.push((key, serde_json::from_slice(m.payload().unwrap()).unwrap()));
            }
            Some(Err(KafkaError::PartitionEOF(_))) => open -= 1,
            Some(Err(e)) => panic!("reading topic {topic}: {e}"),
            None => {}
        }
    }
    out
}

/// The `name<TAB>value` lines the command prints.
fn summary(stdout: &str) -> BTreeMap<String, u64> {
    stdout.lines().filter_map(|l| l.split_once('\t')).map(|(k, v)| (k.to_owned(), v.parse().unwrap())).collect()
}

async fn rows(c: &clickhouse::Client) -> Vec<Value> {
    let bytes = c
        .query("SELECT * FROM incentives FINAL ORDER BY month_start, seller_id, tier SETTINGS output_format_json_quote_64bit_integers = 0")
        .fetch_bytes("JSONEachRow")
        .unwrap()
        .collect()
        .await
        .unwrap();
    String::from_utf8(bytes.to_vec()).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

async fn count(c: &clickhouse::Client, sql: &str) -> u64 {
    c.query(sql).fetch_one::<u64>().await.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn command(config: &Path, db: &str, publish: bool) -> Command {
    let mut c = bin();
    c.arg("--config").arg(config).args(["incentives", "--clickhouse", "--clickhouse-url", clickhouse_url(), "--clickhouse-database", db]);
    if publish {
        c.arg("--publish");
    }
    c
}

#[tokio::test(flavor = "multi_thread")]
async fn the_command_records_and_publishes_the_file_sinks_changes_exactly_once() {
    let name = format!("tiers_{}", std::process::id());
    let (dir, db) = (tempfile::tempdir().unwrap(), database("incentives"));
    let topic = format!("{name}.incentives");
    let config = dir.path().join("quality.toml");
    std::fs::write(&config, format!("[kafka]\nbrokers = \"{}\"\ngroup_id = \"{name}\"\nincentive_topic = \"{topic}\"\n", kafka_bootstrap())).unwrap();
    let events = dir.path().join("events.ndjson");
    // September and October whole, then nine days of November.
    ok(bin().args(["generate", "--sellers", "24", "--days", "70", "--start", "2026-09-01", "--seed", "3", "--out"]).arg(&events));
    let file = file_run(&config, &events, &dir.path().join("out"));
    let expected = by_id(file.clone());
    let kinds = |change: &str| file.iter().filter(|c| c["change"] == change).count();
    assert!(kinds("entered") > 0 && kinds("left") > 0, "the data enters and leaves tiers: {file:#?}");
    let months: std::collections::BTreeSet<&str> = file.iter().map(|c| c["month_start"].as_str().unwrap()).collect();
    assert!(months.len() >= 2, "changes in several months: {months:?}");

    replay_into_clickhouse(&events, clickhouse_url(), &db, &["--config", config.to_str().unwrap()]);
    let c = clickhouse::Client::default().with_url(clickhouse_url()).with_database(&db);

    // A crash between the ClickHouse insert and the publication: the topic does not exist yet,
    // so the run records every change and then fails, saying what to do.
    let failed = command(&config, &db, true).output().unwrap();
    let err = String::from_utf8_lossy(&failed.stderr);
    assert_eq!(failed.status.code(), Some(2), "{err}");
    assert!(err.contains(&format!("topic {topic:?} does not exist")) && err.contains("quality-pipeline topics"), "{err}");
    assert_eq!(by_id(rows(&c).await), expected, "ClickHouse holds the file sink's changes, field for field");

    // A crash part-way through the publication: the first three changes made it to the topic.
    ok(bin().arg("--config").arg(&config).args(["topics", "--partitions", "3"]));
    let producer: BaseProducer = ClientConfig::new().set("bootstrap.servers", kafka_bootstrap()).create().unwrap();
    for change in &file[..3] {
        let payload = change.to_string();
        producer.send(BaseRecord::to(&topic).key(change["seller_id"].as_str().unwrap()).payload(&payload)).unwrap();
    }
    producer.flush(Duration::from_secs(30)).unwrap();

    let first = summary(&ok(&mut command(&config, &db, true)));
    let n = file.len() as u64;
    assert_eq!(first, BTreeMap::from([("months".into(), 3), ("changes".into(), n), ("published".into(), n - 3), ("already_published".into(), 3)]));
    let again = summary(&ok(&mut command(&config, &db, true)));
    assert_eq!((again["published"], again["already_published"]), (0, n), "a second run publishes nothing");
    ok(&mut command(&config, &db, false));

    // Each change once on the topic, as the file sink wrote it, keyed by seller.
    let published = read_topic(&topic);
    assert_eq!(published.len(), file.len(), "each change exactly once");
    assert!(published.iter().all(|(key, v)| v["seller_id"] == key.as_str()));
    assert_eq!(by_id(published.into_iter().map(|(_, v)| v)), expected);
    // And once in ClickHouse, even after merging the repeated inserts.
    assert_eq!(count(&c, "SELECT count() FROM incentives FINAL").await, n);
    c.query("OPTIMIZE TABLE incentives FINAL").execute().await.unwrap();
    assert_eq!(count(&c, "SELECT count() FROM incentives").await, n);
    assert_eq!(by_id(rows(&c).await), expected);

    // The `incentive_tiers` view: the tiers held after the last evaluated month.
    let mut held: BTreeMap<(String, String), &Value> = BTreeMap::new();
    for change in &file {
        held.insert((change["seller_id"].as_str().unwrap().to_owned(), change["tier"].as_str().unwrap().to_owned()), change);
    }
    held.retain(|_, c| c["change"] == "entered");
    let view = count(&c, "SELECT count() FROM incentive_tiers").await;
    assert_eq!(view, held.len() as u64);
    for ((seller, tier), change) in &held {
        let sql = format!(
            "SELECT count() FROM incentive_tiers WHERE seller_id = '{seller}' AND tier = '{tier}' AND entered_month = toDate('{}')",
            change["month_start"].as_str().unwrap()
        );
        assert_eq!(count(&c, &sql).await, 1, "{seller} {tier}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_partitioned_run_has_only_the_months_every_partition_closed_decided() {
    let name = format!("tiers_kafka_{}", std::process::id());
    let (dir, db) = (tempfile::tempdir().unwrap(), database("incentives_kafka"));
    let config = dir.path().join("quality.toml");
    std::fs::write(
        &config,
        format!(
            "[kafka]\nbrokers = \"{}\"\ngroup_id = \"{name}\"\norders_topic = \"{name}.orders\"\nmessages_topic = \"{name}.messages\"\nfeedback_topic = \"{name}.feedback\"\ndead_letter_topic = \"{name}.dead\"\nescalation_topic = \"{name}.esc\"\nsurvey_topic = \"{name}.survey\"\nincentive_topic = \"{name}.incentives\"\nidle_timeout = \"2s\"\ncommit_interval = \"500ms\"\n",
            kafka_bootstrap()
        ),
    )
    .unwrap();
    let events = dir.path().join("events.ndjson");
    // 2026-09-20 .. 2026-11-08, then one seller alone orders in December: its partition closes
    // November, the other partition (holding other sellers) stays in early November.
    ok(bin().args(["generate", "--sellers", "12", "--days", "50", "--start", "2026-09-20", "--seed", "8", "--clean", "--out"]).arg(&events));
    let mut text = std::fs::read_to_string(&events).unwrap();
    for d in 1..=10 {
        let at = format!("2026-12-{d:02}T12:00:00Z");
        text += &event(
            &format!("late-{d}"),
            "order.created",
            &at,
            "late-seller",
            serde_json::json!({"order_id": format!("late-{d}"), "customer_id": "c", "ship_by": at}),
        );
        text.push('\n');
    }
    std::fs::write(&events, text).unwrap();
    let file = file_run(&config, &events, &dir.path().join("out"));
    let closed: Vec<Value> = file.iter().filter(|c| c["month_start"].as_str().unwrap() < "2026-11-01").cloned().collect();
    assert!(!closed.is_empty() && closed.len() < file.len(), "changes in September or October, and later: {file:#?}");

    ok(bin().arg("--config").arg(&config).args(["topics", "--partitions", "2"]));
    ok(bin().arg("--config").arg(&config).args(["produce", "--input"]).arg(&events));
    ok(bin().arg("--config").arg(&config).args(["run", "--source", "kafka", "--sink", "clickhouse", "--backfill", "--stop-when-idle"]).args([
        "--clickhouse-url",
        clickhouse_url(),
        "--clickhouse-database",
        &db,
        "--metrics-addr",
        "off",
    ]));
    let c = clickhouse::Client::default().with_url(clickhouse_url()).with_database(&db);
    // The premise: one partition made November final for some sellers, the other did not.
    let october = count(&c, "SELECT count() FROM composite_month FINAL WHERE is_final AND period_start = '2026-10-01'").await;
    let november = count(&c, "SELECT count() FROM composite_month FINAL WHERE is_final AND period_start = '2026-11-01'").await;
    assert!(november > 0 && november < october, "November final for {november} of {october} sellers");

    let run = summary(&ok(&mut command(&config, &db, false)));
    assert_eq!(run, BTreeMap::from([("months".into(), 2), ("changes".into(), closed.len() as u64)]));
    assert_eq!(by_id(rows(&c).await), by_id(closed), "September and October exactly as the file sink decided them, November left for later");
}

/// Replays `events` into a file sink at `out` under `config`; returns its incentives.ndjson records.
fn file_run(config: &std::path::Path, events: &std::path::Path, out: &std::path::Path) -> Vec<Value> {
    ok(bin().arg("--config").arg(config).args([
        "run",
        "--source",
        &format!("file:{}", events.display()),
        "--sink",
        &format!("file:{}", out.display()),
    ]));
    std::fs::read_to_string(out.join("incentives.ndjson")).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}
