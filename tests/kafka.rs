//! The production path against real servers: Kafka (tansu, or `KAFKA_BOOTSTRAP`) in,
//! ClickHouse (chDB behind the adapter, or `CLICKHOUSE_URL`) out.
//!
//! Every test ends by comparing ClickHouse with a file replay of the same events (`run
//! --until`, the rows of a stream whose clock has passed that time; the file replay itself is
//! checked against the independent reference model in `tests/reference.rs`), and the
//! dead-letter topic with the replay's dead letters: exactly the rejected events, once each.

mod common;

use clickhouse::Client;
use common::servers::{clickhouse_url, database, kafka_bootstrap, Adapter};
use common::{bin, ok};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Headers;
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Tables compared between a Kafka run and the file replay.
const TABLES: [&str; 7] = ["window_day", "window_week", "window_month", "window_quarter", "window_rolling_7d", "window_rolling_30d", "critics"];
/// Acting-on-quality tables keyed by the output's identity (no version column).
const ACTION_TABLES: [&str; 3] = ["escalations", "survey_requests", "negative_reasons"];

/// One test's topics, group, databases and files.
struct World {
    name: String,
    dir: tempfile::TempDir,
    config: PathBuf,
    events: PathBuf,
    url: String,
}

impl World {
    /// Topics with `partitions` partitions and a generated marketplace stream (with every anomaly).
    fn new(name: &str, partitions: u32, sellers: u32, days: u32) -> World {
        World::with(name, partitions, "", &["--sellers", &sellers.to_string(), "--days", &days.to_string()])
    }

    /// The same for a service company's stream (4 departments), run in the service profile.
    fn service(name: &str, partitions: u32, days: u32) -> World {
        World::with(name, partitions, "[engine]\nprofile = \"service\"\n", &["--profile", "service", "--days", &days.to_string()])
    }

    fn with(name: &str, partitions: u32, engine: &str, generate: &[&str]) -> World {
        let dir = tempfile::tempdir().unwrap();
        let name = format!("{name}_{}", std::process::id());
        let config = dir.path().join("quality.toml");
        std::fs::write(
            &config,
            format!(
                "{engine}[kafka]\nbrokers = \"{}\"\ngroup_id = \"{name}\"\norders_topic = \"{name}.orders\"\nmessages_topic = \"{name}.messages\"\nfeedback_topic = \"{name}.feedback\"\ndead_letter_topic = \"{name}.dead\"\nescalation_topic = \"{name}.esc\"\nsurvey_topic = \"{name}.survey\"\nidle_timeout = \"3s\"\ncommit_interval = \"500ms\"\n",
                kafka_bootstrap()
            ),
        )
        .unwrap();
        let events = dir.path().join("events.ndjson");
        ok(bin().arg("generate").args(generate).args(["--seed", "5", "--start", "2025-03-03", "--out"]).arg(&events));
        let w = World { name, dir, config, events, url: clickhouse_url().to_owned() };
        ok(w.cmd().args(["topics", "--partitions", &partitions.to_string()]));
        w
    }

    fn cmd(&self) -> Command {
        let mut c = bin();
        c.arg("--config").arg(&self.config);
        c
    }

    fn db(&self) -> String {
        database(&self.name)
    }

    /// Publishes the events; one record per batch when a consumer must resume exactly
    /// (the test broker skips to the next batch when asked to fetch from inside one).
    fn produce(&self, exact_resume: bool) -> Child {
        self.produce_file(&self.events, exact_resume)
    }

    fn produce_file(&self, events: &std::path::Path, exact_resume: bool) -> Child {
        let mut c = self.cmd();
        c.args(["produce", "--input"]).arg(events);
        if exact_resume {
            c.args(["-X", "batch.num.messages=1", "-X", "linger.ms=0"]);
        }
        c.stdout(Stdio::null()).spawn().unwrap()
    }

    /// Starts a pipeline instance that exits once its partitions are idle; logs to `log`.
    fn instance(&self, log: &str, url: &str) -> Child {
        self.instance_with(log, url, &[])
    }

    /// An instance that commits every 100 ms with provisional rows: many small cycles, so
    /// that it can be interrupted between them.
    fn busy_instance(&self, log: &str, url: &str) -> Child {
        self.instance_with(log, url, &["--commit-interval", "100ms", "--provisional"])
    }

    fn instance_with(&self, log: &str, url: &str, extra: &[&str]) -> Child {
        let log = std::fs::File::create(self.dir.path().join(log)).unwrap();
        self.cmd()
            .env("QP_LOG", "info")
            .args([
                "run",
                "--source",
                "kafka",
                "--sink",
                "clickhouse",
                "--stop-when-idle",
                "--clickhouse-url",
                url,
                "--clickhouse-database",
                &self.db(),
            ])
            .args(["--metrics-addr", "127.0.0.1:0"])
            .args(extra)
            .stderr(log)
            .stdout(Stdio::null())
            .spawn()
            .unwrap()
    }

    /// Waits until the group has written at least `n` checkpoints (the run is under way).
    async fn wait_for_checkpoints(&self, url: &str, n: u64) {
        let c = Client::default().with_url(url);
        let sql = format!("SELECT count() FROM {}.checkpoints WHERE consumer_group = '{}'", self.db(), self.name);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if c.query(&sql).fetch_one::<u64>().await.is_ok_and(|k| k >= n) {
                return;
            }
            assert!(Instant::now() < deadline, "no {n} checkpoints within a minute; logs:\n{}", self.all_logs());
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    /// Every instance log of the test, for failure messages.
    fn all_logs(&self) -> String {
        let mut names: Vec<PathBuf> =
            std::fs::read_dir(self.dir.path()).unwrap().flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "log")).collect();
        names.sort();
        names.iter().map(|p| format!("== {}\n{}", p.display(), std::fs::read_to_string(p).unwrap_or_default())).collect()
    }

    fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default()
    }

    /// The file replay of the same events, into `<db>_file`, its clock run on past the data.
    fn replay(&self) -> String {
        let db = format!("{}_file", self.db());
        ok(self
            .cmd()
            .args(["run", "--source", &format!("file:{}", self.events.display()), "--sink", "clickhouse", "--until", "2026-01-01T00:00:00Z"])
            .args(["--clickhouse-url", &self.url, "--clickhouse-database", &db]));
        db
    }

    /// Events in the stream (non-blank lines).
    fn line_count(&self) -> usize {
        std::fs::read_to_string(&self.events).unwrap().lines().filter(|l| !l.trim().is_empty()).count()
    }

    /// The events split in two files: what is published before and after an interruption.
    fn halves(&self) -> (PathBuf, PathBuf) {
        let text = std::fs::read_to_string(&self.events).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let (a, b) = lines.split_at(lines.len() / 2);
        let paths = (self.dir.path().join("first.ndjson"), self.dir.path().join("second.ndjson"));
        std::fs::write(&paths.0, a.join("\n") + "\n").unwrap();
        std::fs::write(&paths.1, b.join("\n") + "\n").unwrap();
        paths
    }

    /// Asserts ClickHouse and the dead-letter topic hold exactly what the file replay gives.
    async fn assert_exact(&self, url: &str) {
        let file_db = self.replay();
        let c = Client::default().with_url(url);
        let db = self.db();
        for t in TABLES {
            let rows = count(&c, &format!("SELECT count() FROM {file_db}.{t} FINAL")).await;
            assert!(rows > 0 || t == "critics", "{t} has rows");
            assert_eq!(count(&c, &format!("SELECT count() FROM {db}.{t} FINAL")).await, rows, "{t}: as many rows as the replay");
            for (a, b) in [(&db, &file_db), (&file_db, &db)] {
                let sql =
                    format!("SELECT count() FROM (SELECT * EXCEPT version FROM {a}.{t} FINAL EXCEPT SELECT * EXCEPT version FROM {b}.{t} FINAL)");
                assert_eq!(count(&c, &sql).await, 0, "{t}: rows of {a} not in {b}");
            }
        }
        for t in ACTION_TABLES {
            let rows = count(&c, &format!("SELECT count() FROM {file_db}.{t} FINAL")).await;
            assert_eq!(count(&c, &format!("SELECT count() FROM {db}.{t} FINAL")).await, rows, "{t}: as many rows as the replay");
            for (a, b) in [(&db, &file_db), (&file_db, &db)] {
                let sql = format!("SELECT count() FROM (SELECT * FROM {a}.{t} FINAL EXCEPT SELECT * FROM {b}.{t} FINAL)");
                assert_eq!(count(&c, &sql).await, 0, "{t}: rows of {a} not in {b}");
            }
        }
        for (a, b) in [(&db, &file_db), (&file_db, &db)] {
            let sql = format!("SELECT count() FROM (SELECT * FROM {a}.performer_rating EXCEPT SELECT * FROM {b}.performer_rating)");
            assert_eq!(count(&c, &sql).await, 0, "performer ratings (global ranks) of {a} not in {b}");
        }
        for (topic, table, id) in [("esc", "escalations", "escalation_id"), ("survey", "survey_requests", "survey_id")] {
            let expected: Vec<String> = c.query(&format!("SELECT {id} FROM {file_db}.{table} FINAL ORDER BY 1")).fetch_all().await.unwrap();
            let mut published: Vec<String> = self.published(topic).iter().map(|v| v[id].as_str().unwrap().to_owned()).collect();
            published.sort();
            assert_eq!(published, expected, "topic {topic} holds each {table} record exactly once");
        }
        let expected: Vec<(String, String)> = c
            .query(&format!("SELECT reason, ifNull(payload, ifNull(payload_hex, '')) FROM {file_db}.dead_letters FINAL ORDER BY 1, 2"))
            .fetch_all()
            .await
            .unwrap();
        let table: Vec<(String, String)> = c
            .query(&format!("SELECT reason, ifNull(payload, ifNull(payload_hex, '')) FROM {db}.dead_letters FINAL ORDER BY 1, 2"))
            .fetch_all()
            .await
            .unwrap();
        assert_eq!(table, expected, "the dead_letters table holds exactly the rejected events");
        let topic = self.dead_letters();
        assert_eq!(topic.len(), expected.len(), "the dead-letter topic holds each rejected event once");
        assert_eq!(topic, expected, "the dead-letter topic holds exactly the rejected events");
    }

    /// (reason, payload) of every record on the dead-letter topic, sorted.
    fn dead_letters(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .published("dead")
            .into_iter()
            .map(|v| {
                let payload = v.get("payload").or_else(|| v.get("payload_hex")).and_then(|p| p.as_str()).unwrap().to_owned();
                (v["reason"].as_str().unwrap().to_owned(), payload)
            })
            .collect();
        out.sort();
        out
    }

    /// Every record of one of this world's output topics (`dead`, `esc`, `survey`), as JSON.
    fn published(&self, suffix: &str) -> Vec<serde_json::Value> {
        let topic = format!("{}.{suffix}", self.name);
        let reader: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", kafka_bootstrap())
            .set("group.id", format!("{}.check", self.name))
            .set("enable.partition.eof", "true")
            .set("fetch.wait.max.ms", "50")
            .create()
            .unwrap();
        let md = reader.fetch_metadata(Some(&topic), Duration::from_secs(10)).unwrap();
        let partitions = md.topics()[0].partitions().len() as i32;
        let mut tpl = TopicPartitionList::new();
        for p in 0..partitions {
            tpl.add_partition_offset(&topic, p, Offset::Beginning).unwrap();
        }
        reader.assign(&tpl).unwrap();
        let mut open = partitions;
        let mut out = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while open > 0 {
            assert!(Instant::now() < deadline, "reading topic {topic} timed out");
            match reader.poll(Duration::from_millis(200)) {
                // Other deployments (a backfill under another group) may share the topic.
                Some(Ok(m)) if m.headers().is_some_and(|h| h.iter().any(|x| x.key == "qp-group" && x.value == Some(self.name.as_bytes()))) => {
                    out.push(serde_json::from_slice(m.payload().unwrap()).unwrap())
                }
                Some(Ok(_)) => {}
                Some(Err(KafkaError::PartitionEOF(_))) => open -= 1,
                Some(Err(e)) => panic!("reading topic {topic}: {e}"),
                None => {}
            }
        }
        out
    }

    /// Records consumed by an instance, from its final log line.
    fn records(&self, log: &str) -> u64 {
        let text = self.log(log);
        let line =
            text.lines().rev().find(|l| l.contains("stopped; everything consumed")).unwrap_or_else(|| panic!("{log} did not stop cleanly:\n{text}"));
        line.split_whitespace().find_map(|w| w.strip_prefix("records=")).unwrap().parse().unwrap()
    }
}

async fn count(c: &Client, sql: &str) -> u64 {
    c.query(sql).fetch_one::<u64>().await.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn wait(mut child: Child, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{what} failed: {status}");
            return;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{what} did not finish within 3 minutes");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn signal(child: &Child, sig: &str) {
    ok(Command::new("kill").args([sig, &child.id().to_string()]));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_kafka_run_lands_exactly_the_file_replay_and_a_restart_reads_nothing_again() {
    let w = World::new("exact", 4, 30, 21);
    wait(w.produce(false), "produce");
    wait(w.instance("first.log", &w.url), "the pipeline");
    let reasons = w.dead_letters();
    for reason in ["invalid_json", "too_late", "missing_field", "order_without_creation"] {
        assert!(reasons.iter().any(|(r, _)| r == reason), "the stream has {reason} events");
    }
    w.assert_exact(&w.url).await;
    for (t, topic) in [("escalations", "esc"), ("survey_requests", "survey"), ("critics", "")] {
        assert!(count(&Client::default().with_url(&w.url), &format!("SELECT count() FROM {}.{t}", w.db())).await > 0, "the stream has {t}");
        assert!(topic.is_empty() || !w.published(topic).is_empty(), "topic {topic} has records");
    }
    let lines = w.line_count() as u64;
    assert_eq!(w.records("first.log"), lines, "every record consumed once");
    wait(w.instance("second.log", &w.url), "the restarted pipeline");
    assert_eq!(w.records("second.log"), 0, "a restart resumes at the checkpoint instead of replaying the topics");
    w.assert_exact(&w.url).await;
}

/// Section 15: a service company's stream (requests on the orders topic, surveys on the
/// feedback topic, keyed by department) goes through the same Kafka path to the same rows as
/// its file replay: departments, performers ranked within their department, critics, survey
/// requests and dead letters.
#[tokio::test(flavor = "multi_thread")]
async fn a_service_company_stream_lands_exactly_the_file_replay() {
    let w = World::service("service", 3, 21);
    wait(w.produce(false), "produce");
    wait(w.instance("first.log", &w.url), "the pipeline");
    assert_eq!(w.records("first.log"), w.line_count() as u64, "every record consumed once");
    w.assert_exact(&w.url).await;
    let c = Client::default().with_url(&w.url);
    for (entity, table) in [("performer", "window_month"), ("department", "window_week"), ("performer", "window_day")] {
        let sql = format!("SELECT count() FROM {}.{table} FINAL WHERE entity = '{entity}'", w.db());
        assert!(count(&c, &sql).await > 0, "{table} has {entity} rows");
    }
    let sql = format!("SELECT count() FROM {}.survey_requests FINAL", w.db());
    assert!(count(&c, &sql).await > 0, "requests get survey requests");
}

#[tokio::test(flavor = "multi_thread")]
async fn two_instances_split_the_partitions_and_one_takes_over_when_the_other_stops() {
    let w = World::new("split", 4, 40, 28);
    let (first, second) = w.halves();
    let wait_long = ["--idle-timeout", "20s"];
    let a = w.instance_with("a.log", &w.url, &wait_long);
    let b = w.instance_with("b.log", &w.url, &wait_long);
    let deadline = Instant::now() + Duration::from_secs(60);
    while !(w.log("a.log").contains("partition assigned") && w.log("b.log").contains("partition assigned")) {
        assert!(Instant::now() < deadline, "both instances get partitions:\n{}\n{}", w.log("a.log"), w.log("b.log"));
        std::thread::sleep(Duration::from_millis(50));
    }
    // Produced only now that both own partitions, so that each consumes its share (an
    // instance alone would take every partition and read the whole half in a second). Stop
    // `a` only once it has consumed (its 5-second progress line counts records).
    wait(w.produce_file(&first, true), "produce the first half");
    let consumed = |log: &str| {
        w.log(log)
            .lines()
            .filter(|l| l.contains("consuming"))
            .any(|l| l.split_whitespace().find_map(|t| t.strip_prefix("records=")).and_then(|n| n.parse::<u64>().ok()).is_some_and(|n| n > 0))
    };
    let deadline = Instant::now() + Duration::from_secs(90);
    while !(consumed("a.log") && consumed("b.log")) {
        assert!(Instant::now() < deadline, "both instances consume:\n{}\n{}", w.log("a.log"), w.log("b.log"));
        std::thread::sleep(Duration::from_millis(100));
    }
    w.wait_for_checkpoints(&w.url, 4).await;
    signal(&a, "-TERM");
    wait(a, "instance a (stopped with SIGTERM)");
    wait(w.produce_file(&second, true), "produce the second half");
    wait(b, "instance b");
    let b_log = w.log("b.log");
    assert!(b_log.contains("from_checkpoint=true"), "b resumed a's partitions from their checkpoints:\n{b_log}");
    assert!(w.records("a.log") > 0 && w.records("b.log") > 0, "both instances consumed");
    w.assert_exact(&w.url).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_mid_stream_then_restart_loses_and_repeats_nothing() {
    let w = World::new("kill", 3, 40, 28);
    let (first, second) = w.halves();
    wait(w.produce_file(&first, true), "produce the first half");
    let mut crashed = w.busy_instance("first.log", &w.url);
    // Killed after a varying number of commit cycles, anywhere inside one.
    w.wait_for_checkpoints(&w.url, 1 + u64::from(std::process::id() % 4)).await;
    crashed.kill().unwrap();
    crashed.wait().unwrap();
    let killed = Instant::now();
    wait(w.produce_file(&second, true), "produce the second half");
    // The test broker gives a dead member's partitions to a newcomer only once the dead
    // member's session (10 s) has expired (docs/test-broker.md); Apache Kafka also waits for
    // the session to expire before the dead member's partitions move.
    std::thread::sleep(Duration::from_secs(11).saturating_sub(killed.elapsed()));
    wait(w.instance("second.log", &w.url), "the restarted pipeline");
    assert!(w.log("second.log").contains("from_checkpoint=true"), "the restart resumed from checkpoints");
    assert!(w.records("second.log") > 0);
    w.assert_exact(&w.url).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_clickhouse_outage_pauses_the_stream_and_it_resumes_by_itself() {
    let data = tempfile::tempdir().unwrap();
    let mut adapter = Adapter::start(0, data.path());
    let w = World::new("outage", 2, 40, 28);
    wait(w.produce(true), "produce");
    let mut run = w.busy_instance("run.log", &adapter.url);
    w.wait_for_checkpoints(&adapter.url, 1).await;
    adapter.kill();
    std::thread::sleep(Duration::from_secs(4));
    assert!(run.try_wait().unwrap().is_none(), "the pipeline waits for ClickHouse instead of failing");
    let adapter = Adapter::start(adapter.port, data.path());
    wait(run, "the pipeline");
    assert!(w.log("run.log").contains("retrying"), "the outage was noticed:\n{}", w.log("run.log"));
    // The replay goes to the same server, so the comparison runs there.
    let w = World { url: adapter.url.clone(), ..w };
    w.assert_exact(&adapter.url).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_quiet_stream_still_closes_its_week_unless_backfilling() {
    let w = World::new("quiet", 1, 2, 7);
    wait(w.produce(false), "produce");
    let c = Client::default().with_url(&w.url);
    let week = |db: String| format!("SELECT count() FROM {db}.window_week FINAL WHERE is_final AND period_start = '2025-03-03'");
    let backfill = w
        .cmd()
        .args([
            "run",
            "--source",
            "kafka",
            "--sink",
            "clickhouse",
            "--stop-when-idle",
            "--backfill",
            "--metrics-addr",
            "off",
            "--group-id",
            &format!("{}_backfill", w.name),
        ])
        .args(["--clickhouse-url", &w.url, "--clickhouse-database", &format!("{}_backfill", w.db())])
        .status()
        .unwrap();
    assert!(backfill.success());
    assert_eq!(count(&c, &week(format!("{}_backfill", w.db()))).await, 0, "a backfill waits for later events to close the week");
    wait(w.instance("run.log", &w.url), "the pipeline");
    assert!(count(&c, &week(w.db())).await > 0, "with no event after the week, its rows became final once the stream was idle");
    w.assert_exact(&w.url).await;
}

#[test]
fn topics_that_are_not_co_partitioned_are_refused_with_the_reason() {
    let name = format!("copart_{}", std::process::id());
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("q.toml");
    std::fs::write(
        &config,
        format!(
            "[kafka]\norders_topic = \"{name}.o\"\nmessages_topic = \"{name}.m\"\nfeedback_topic = \"{name}.f\"\ndead_letter_topic = \"{name}.d\"\n"
        ),
    )
    .unwrap();
    let topics =
        |partitions: &str| ok(bin().arg("--config").arg(&config).args(["topics", "--brokers", kafka_bootstrap(), "--partitions", partitions]));
    // Make one topic differ: create the feedback topic alone with 2 partitions first.
    let alone = dir.path().join("f.toml");
    std::fs::write(
        &alone,
        format!(
            "[kafka]\norders_topic = \"{name}.x\"\nmessages_topic = \"{name}.y\"\nfeedback_topic = \"{name}.f\"\ndead_letter_topic = \"{name}.z\"\n"
        ),
    )
    .unwrap();
    ok(bin().arg("--config").arg(&alone).args(["topics", "--brokers", kafka_bootstrap(), "--partitions", "2"]));
    topics("4");
    let out = bin()
        .arg("--config")
        .arg(&config)
        .args(["run", "--source", "kafka", "--sink", "clickhouse", "--brokers", kafka_bootstrap(), "--clickhouse-url", clickhouse_url()])
        .args(["--clickhouse-database", &database("copart"), "--metrics-addr", "off"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not co-partitioned") && err.contains(&format!("{name}.f: 2")), "{err}");
}

#[test]
fn a_missing_topic_is_a_clear_error() {
    let out = bin()
        .args(["run", "--source", "kafka", "--sink", "clickhouse", "--brokers", kafka_bootstrap(), "--clickhouse-url", clickhouse_url()])
        .args(["--clickhouse-database", &database("missing"), "--group-id", "missing", "--metrics-addr", "off"])
        .env("QP_CONFIG", write_config_with_topic("nope_missing"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("does not exist") && err.contains("quality-pipeline topics"), "{err}");
}

fn write_config_with_topic(prefix: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("{prefix}_{}.toml", std::process::id()));
    std::fs::write(&path, format!("[kafka]\norders_topic = \"{prefix}.o\"\n")).unwrap();
    path
}

/// GET on the pipeline's HTTP endpoint: (status code, body).
fn get(addr: &str, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    let status = text.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default())
}

/// Sum of the samples of a metric whose labels contain every `filter` pair.
fn sample_sum(metrics: &str, name: &str, filter: &[(&str, &str)]) -> f64 {
    metrics
        .lines()
        .filter(|l| l.starts_with(name) && l[name.len()..].starts_with(['{', ' ']))
        .filter(|l| filter.iter().all(|(k, v)| l.contains(&format!("{k}=\"{v}\""))))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_every_record_once_and_show_the_latest_closed_periods() {
    // 45 days from 2025-03-03: with --backfill the watermark stops two days before the end,
    // so the latest closed day, week and month (March) all have data.
    let w = World::new("metrics", 2, 12, 45);
    wait(w.produce(false), "produce");
    let log = std::fs::File::create(w.dir.path().join("run.log")).unwrap();
    let mut run = w
        .cmd()
        .env("QP_LOG", "info")
        .args(["run", "--source", "kafka", "--sink", "clickhouse", "--backfill", "--metrics-addr", "127.0.0.1:0", "--worst-sellers", "2"])
        .args(["--clickhouse-url", &w.url, "--clickhouse-database", &w.db()])
        .stderr(log)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let addr = loop {
        let text = w.log("run.log");
        if let Some(line) = text.lines().find(|l| l.contains("serving /metrics")) {
            break line.split_whitespace().find_map(|t| t.strip_prefix("address=")).unwrap().to_owned();
        }
        assert!(Instant::now() < deadline, "no metrics endpoint:\n{text}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(get(&addr, "/healthz").0, 200);
    let lines = w.line_count() as f64;
    let inputs = [format!("{}.orders", w.name), format!("{}.messages", w.name), format!("{}.feedback", w.name)];
    let counted = |m: &str| -> f64 {
        inputs
            .iter()
            .map(|t| {
                sample_sum(m, "quality_pipeline_events_total", &[("topic", t)])
                    + sample_sum(m, "quality_pipeline_events_rejected_total", &[("topic", t)])
            })
            .sum()
    };
    // Idle after 3 s: time moves to the latest event and the gauges show the last closed periods.
    let metrics = loop {
        let (_, m) = get(&addr, "/metrics");
        if counted(&m) == lines && sample_sum(&m, "quality_pipeline_standard_sellers", &[("cadence", "month")]) > 0.0 {
            break m;
        }
        assert!(Instant::now() < deadline, "the counters never reached {lines} records:\n{m}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(get(&addr, "/readyz").0, 200, "caught up, so ready");
    signal(&run, "-TERM");
    assert!(run.wait().unwrap().success());

    let c = Client::default().with_url(&w.url);
    let dead = count(&c, &format!("SELECT count() FROM {}.dead_letters FINAL", w.db())).await as f64;
    let rejected: f64 =
        inputs.iter().chain([&"state".to_string()]).map(|t| sample_sum(&metrics, "quality_pipeline_events_rejected_total", &[("topic", t)])).sum();
    assert_eq!(rejected, dead, "every dead letter counted once");
    let csi = sample_sum(&metrics, "quality_pipeline_standard_value", &[("cadence", "week"), ("metric", "csi")]);
    assert!((1.0..=5.0).contains(&csi), "platform CSI of the last week: {csi}");
    for cadence in ["day", "week", "month", "rolling_7d", "rolling_30d"] {
        assert!(sample_sum(&metrics, "quality_pipeline_standard_sellers", &[("cadence", cadence)]) > 0.0, "{cadence} has sellers with data");
        for metric in ["csi", "nps", "on_time_handover_share", "confirmation_time_avg", "response_time_avg"] {
            let labels = [("cadence", cadence), ("metric", metric)];
            let sellers = sample_sum(&metrics, "quality_pipeline_standard_sellers", &labels);
            let breaching = sample_sum(&metrics, "quality_pipeline_standard_breaching_sellers", &labels);
            assert!(sellers <= 12.0 && breaching <= sellers, "{cadence} {metric}: {breaching} of {sellers}");
        }
    }
    let per_seller: Vec<&str> = metrics.lines().filter(|l| l.contains("seller_id=")).collect();
    assert!(per_seller.iter().all(|l| l.starts_with("quality_pipeline_seller_standard_value{")), "seller ids only in the opt-in gauge");
    for cadence in ["day", "week", "month"] {
        for metric in ["csi", "on_time_handover_share", "response_time_avg"] {
            let n =
                per_seller.iter().filter(|l| l.contains(&format!("cadence=\"{cadence}\"")) && l.contains(&format!("metric=\"{metric}\""))).count();
            assert!(n <= 2, "at most --worst-sellers series per cadence and metric, got {n}");
        }
    }
    assert!(sample_sum(&metrics, "quality_pipeline_commits_total", &[]) >= 1.0);
    assert!(sample_sum(&metrics, "quality_pipeline_sink_rows_total", &[("sink", "clickhouse"), ("table", "window_day")]) > 0.0);
    assert!(metrics.contains("process_resident_memory_bytes"));
}

#[test]
fn produce_pace_publishes_each_event_when_its_time_comes() {
    let w = World::new("pace", 1, 1, 1);
    let soon = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64 + 1500;
    let at = chrono::DateTime::from_timestamp_millis(soon).unwrap().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let events = w.dir.path().join("soon.ndjson");
    let past = r#"{"event_id":"p1","type":"review.submitted","occurred_at":"2025-01-06T10:00:00Z","seller_id":"s1","order_id":"o1","customer_id":"c1","rating":5}"#;
    let future = past.replace("p1", "p2").replace("2025-01-06T10:00:00Z", &at);
    std::fs::write(&events, format!("{past}\n{future}\n")).unwrap();
    let started = Instant::now();
    ok(w.cmd().args(["produce", "--pace", "--input"]).arg(&events));
    assert!(started.elapsed() >= Duration::from_millis(1200), "the future event waited for its time: {:?}", started.elapsed());
    let quick = Instant::now();
    ok(w.cmd().args(["produce", "--input"]).arg(&events));
    assert!(quick.elapsed() < Duration::from_millis(1200), "without --pace nothing waits");
}
