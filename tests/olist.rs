//! The Olist import and the methodology on real data: the import summary pinned, and monthly
//! figures of the busiest sellers computed here straight from the CSV rows, compared with the
//! engine's final monthly rows from `run`.

mod common;

use common::{bin, ok};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// The dataset shipped beside the repository; a missing dataset fails, it is never skipped.
fn dataset() -> PathBuf {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/olist"));
    assert!(
        dir.join("olist_orders_dataset.csv").is_file(),
        "the Olist dataset is missing: expected {} (see its SOURCE.md); these tests need it",
        dir.display()
    );
    dir
}

/// Imports the dataset with JSON logs; returns the NDJSON path and the summary (type or reason -> count).
fn import(dir: &Path) -> (PathBuf, BTreeMap<String, u64>, BTreeMap<String, u64>) {
    let out = dir.join("olist.ndjson");
    let o = bin().env("QP_LOG", "info").args(["--log-format", "json", "import", "olist"]).arg(dataset()).arg("--out").arg(&out).output().unwrap();
    assert!(o.status.success(), "import failed: {}", String::from_utf8_lossy(&o.stderr));
    let (mut events, mut rejected) = (BTreeMap::new(), BTreeMap::new());
    for line in String::from_utf8(o.stderr).unwrap().lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}"));
        let f = &v["fields"];
        match f["message"].as_str() {
            Some("events written") => events.insert(f["event_type"].as_str().unwrap().to_string(), f["count"].as_u64().unwrap()),
            Some("rows rejected") => rejected.insert(f["reason"].as_str().unwrap().to_string(), f["count"].as_u64().unwrap()),
            _ => None,
        };
    }
    (out, events, rejected)
}

fn pairs(m: &BTreeMap<String, u64>) -> Vec<(&str, u64)> {
    m.iter().map(|(k, v)| (k.as_str(), *v)).collect()
}

#[test]
fn import_summary_is_pinned_and_every_line_is_in_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let (out, events, rejected) = import(dir.path());
    assert_eq!(
        pairs(&events),
        [
            ("order.cancelled", 88),
            ("order.confirmed", 15047),
            ("order.created", 15054),
            ("order.delivered", 14718),
            ("order.shipped", 14860),
            ("review.submitted", 15001)
        ]
    );
    assert_eq!(
        pairs(&rejected),
        [
            ("delivery_before_handover", 3),
            ("handover_before_purchase", 31),
            ("missing_approval", 7),
            ("order_without_items", 115),
            ("review_of_order_without_items", 112)
        ]
    );
    let text = std::fs::read_to_string(&out).unwrap();
    let mut per_type: BTreeMap<String, u64> = BTreeMap::new();
    let mut last = None;
    for line in text.lines() {
        let e = quality_engine::contract::decode(line.as_bytes()).unwrap_or_else(|r| panic!("{line}: {r}"));
        assert!(last.is_none_or(|t| t <= e.occurred_at), "sorted by event time: {line}");
        last = Some(e.occurred_at);
        *per_type.entry(e.body.event_type().as_str().to_string()).or_default() += 1;
    }
    assert_eq!(per_type, events, "the summary counts what was written");
    let ids: std::collections::HashSet<String> =
        text.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["event_id"].as_str().unwrap().to_string()).collect();
    assert_eq!(ids.len(), text.lines().count(), "event ids are unique");

    // Deterministic: the same bytes on stdout.
    let again = ok(bin().args(["import", "olist"]).arg(dataset()));
    assert_eq!(again, text);
}

/// Per seller and local month (YYYY-MM): numerator and denominator.
type Monthly = BTreeMap<(String, String), (f64, i64)>;

fn csv_rows(file: &str) -> Vec<HashMap<String, String>> {
    let mut r = csv::Reader::from_path(dataset().join(file)).unwrap();
    let headers = r.headers().unwrap().clone();
    r.records().map(|rec| headers.iter().zip(rec.unwrap().iter()).map(|(h, v)| (h.to_string(), v.to_string())).collect()).collect()
}

#[test]
fn monthly_csi_and_on_time_handover_match_figures_computed_from_the_csv() {
    let orders: HashMap<String, HashMap<String, String>> =
        csv_rows("olist_orders_dataset.csv").into_iter().map(|r| (r["order_id"].clone(), r)).collect();
    // (order, seller) -> that seller's earliest shipping limit (local time text, which sorts as time).
    let mut limits: BTreeMap<(String, String), String> = BTreeMap::new();
    for item in csv_rows("olist_order_items_dataset.csv") {
        let limit = limits.entry((item["order_id"].clone(), item["seller_id"].clone())).or_insert_with(|| item["shipping_limit_date"].clone());
        if item["shipping_limit_date"] < *limit {
            *limit = item["shipping_limit_date"].clone();
        }
    }
    // The three sellers with the most seller-orders.
    let mut per_seller: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, s) in limits.keys() {
        *per_seller.entry(s).or_default() += 1;
    }
    let mut ranked: Vec<(&str, usize)> = per_seller.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let chosen: Vec<String> = ranked.iter().take(3).map(|(s, _)| s.to_string()).collect();
    assert!(ranked[2].1 >= 150, "busy sellers: {:?}", &ranked[..3]);

    // CSI: every review of an order counts for each seller of the order, in the local month of
    // its creation date; ratings sum over reviews.
    let mut csi = Monthly::new();
    let mut positive = Monthly::new();
    for rv in csv_rows("olist_order_reviews_dataset.csv") {
        for s in &chosen {
            if limits.contains_key(&(rv["order_id"].clone(), s.clone())) {
                let score: i64 = rv["review_score"].parse().unwrap();
                let key = (s.clone(), rv["review_creation_date"][..7].to_string());
                let c = csi.entry(key.clone()).or_default();
                c.0 += score as f64;
                c.1 += 1;
                let p = positive.entry(key).or_default();
                p.0 += (score >= 4) as i64 as f64;
                p.1 += 1;
            }
        }
    }
    // On-time handover: counted in the local month of the handover to the carrier; on time when
    // at or before the seller's shipping limit; a handover dated before the purchase is no handover.
    let mut on_time = Monthly::new();
    let mut created = Monthly::new();
    for ((order_id, seller), limit) in &limits {
        if !chosen.contains(seller) {
            continue;
        }
        let o = &orders[order_id];
        let (purchase, carrier) = (&o["order_purchase_timestamp"], &o["order_delivered_carrier_date"]);
        created.entry((seller.clone(), purchase[..7].to_string())).or_default().1 += 1;
        if !carrier.is_empty() && carrier >= purchase {
            let c = on_time.entry((seller.clone(), carrier[..7].to_string())).or_default();
            c.0 += (carrier <= limit) as i64 as f64;
            c.1 += 1;
        }
    }

    // The engine, through the binary: import, then run over the file (monthly rows only, and
    // state kept long enough for Olist's slowest orders; see docs/olist.md).
    let dir = tempfile::tempdir().unwrap();
    let (events, _, _) = import(dir.path());
    let config = dir.path().join("olist.toml");
    let mut toml = String::from("[engine]\nstate_ttl = \"365d\"\n");
    for m in quality_engine::methodology::Standards::default().metrics() {
        toml.push_str(&format!("[standards.{m}]\ncadences = [\"month\"]\n"));
    }
    std::fs::write(&config, toml).unwrap();
    let sink = dir.path().join("out");
    ok(bin().arg("--config").arg(&config).args([
        "run",
        "--source",
        &format!("file:{}", events.display()),
        "--sink",
        &format!("file:{}", sink.display()),
        "--timezone",
        "America/Sao_Paulo",
    ]));
    let dead = std::fs::read_to_string(sink.join("dead_letter.ndjson")).unwrap();
    assert_eq!(dead, "", "every imported event is accepted");
    let mut engine: BTreeMap<&str, Monthly> = BTreeMap::new();
    for line in std::fs::read_to_string(sink.join("windows.ndjson")).unwrap().lines() {
        let r: serde_json::Value = serde_json::from_str(line).unwrap();
        let seller = r["seller_id"].as_str().unwrap().to_string();
        if r["cadence"] != "month" || !r["is_final"].as_bool().unwrap() || !chosen.contains(&seller) {
            continue;
        }
        let month = r["period_start"].as_str().unwrap()[..7].to_string();
        for m in r["metrics"].as_array().unwrap() {
            let den = m["denominator"].as_i64().unwrap();
            let id = match m["metric"].as_str().unwrap() {
                "csi" => "csi",
                "positive_review_share" => "positive",
                "on_time_handover_share" => "on_time",
                "seller_cancellation_share" => "created",
                _ => continue,
            };
            if den > 0 {
                if id == "csi" {
                    let v = m["value"].as_f64().unwrap();
                    let n = m["numerator"].as_f64().unwrap();
                    assert!((v - n / den as f64).abs() < 1e-12, "csi value is the mean rating");
                }
                let num = if id == "created" { 0.0 } else { m["numerator"].as_f64().unwrap() };
                engine.entry(id).or_default().insert((seller.clone(), month.clone()), (num, den));
            }
        }
    }
    let created: Monthly = created.into_iter().map(|(k, (_, d))| (k, (0.0, d))).collect();
    assert!(csi.len() >= 20 && on_time.len() >= 20, "enough months to compare: {} {}", csi.len(), on_time.len());
    assert_eq!(engine["csi"], csi, "monthly CSI (sum of ratings, reviews) per seller and month");
    assert_eq!(engine["positive"], positive, "monthly positive reviews");
    assert_eq!(engine["on_time"], on_time, "monthly on-time handovers");
    assert_eq!(engine["created"], created, "orders created per month (denominator of the cancellation share)");
}

#[test]
fn demo_on_olist_prints_the_worst_sellers_of_the_busiest_month() {
    let out = ok(bin().args(["demo", "--top", "5", "--olist"]).arg(dataset()));
    assert!(out.contains("month 2017-11"), "{out}");
    assert!(out.contains("Month 2017-11-01 .. 2017-11-30"), "{out}");
    assert_eq!(out.lines().filter(|l| l.len() > 32 && l.as_bytes()[..32].iter().all(u8::is_ascii_hexdigit)).count(), 5, "{out}");
    let chosen = ok(bin().args(["demo", "--olist"]).arg(dataset()).args(["--month", "2018-03"]));
    assert!(chosen.contains("Month 2018-03-01 .. 2018-03-31"), "{chosen}");
    let bad = bin().args(["demo", "--olist"]).arg(dataset()).args(["--month", "March"]).output().unwrap();
    assert!(!bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("YYYY-MM"));
}
