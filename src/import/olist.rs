//! The Olist Brazilian e-commerce dataset (orders, items, reviews CSV) to contract events.
//!
//! The mapping, every decision and every rejection reason are documented in `docs/olist.md`.
//! Output is deterministic: lines sorted by event time, then by order, seller, step and review,
//! and event ids derived from the order, the seller and the step.

use super::Summary;
use anyhow::{Context, Result};
use chrono::{LocalResult, NaiveDateTime, TimeZone};
use chrono_tz::America::Sao_Paulo;
use chrono_tz::Tz;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// The zone of Olist's local timestamps (written without an offset).
pub const TIMEZONE: Tz = Sao_Paulo;

/// The CSV files read from the dataset directory.
pub const ORDERS: &str = "olist_orders_dataset.csv";
/// Items: one row per item, with its seller and shipping limit.
pub const ITEMS: &str = "olist_order_items_dataset.csv";
/// Reviews: one row per review of an order.
pub const REVIEWS: &str = "olist_order_reviews_dataset.csv";

/// An instant from an Olist local time `YYYY-MM-DD HH:MM:SS` in America/Sao_Paulo.
///
/// An ambiguous local time (the repeated hour when summer time ends) is read as the earlier
/// instant (summer time, -02:00); a nonexistent one (the skipped hour when it starts, e.g.
/// 2017-10-15 00:00 to 00:59) as the same wall time one hour later, i.e. the instant the clock
/// showed with the standard offset -03:00. Empty or malformed text gives `None`.
pub fn local_time(text: &str) -> Option<chrono::DateTime<Tz>> {
    let naive = NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%d %H:%M:%S").ok()?;
    match TIMEZONE.from_local_datetime(&naive) {
        LocalResult::Single(t) => Some(t),
        LocalResult::Ambiguous(earlier, _) => Some(earlier),
        LocalResult::None => TIMEZONE.from_local_datetime(&(naive + chrono::Duration::hours(1))).earliest(),
    }
}

/// RFC 3339 with the zone's offset, e.g. `2017-11-24T10:15:00-02:00`.
pub fn rfc3339(t: &chrono::DateTime<Tz>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

/// One produced event, with its sort key.
struct Line {
    at_ms: i64,
    key: (String, String, u8, String),
    kind: &'static str,
    json: String,
}

struct Order {
    customer_id: String,
    status: String,
    purchase: String,
    approved: String,
    carrier: String,
    delivered: String,
}

fn reader(dir: &Path, file: &str) -> Result<csv::Reader<std::fs::File>> {
    let path = dir.join(file);
    csv::Reader::from_path(&path).with_context(|| format!("cannot read {} (is {} the Olist dataset directory?)", path.display(), dir.display()))
}

fn columns(r: &mut csv::Reader<std::fs::File>, file: &str, names: &[&str]) -> Result<Vec<usize>> {
    let headers = r.headers().with_context(|| format!("{file}: no header row"))?.clone();
    names.iter().map(|n| headers.iter().position(|h| h == *n).with_context(|| format!("{file}: column {n:?} missing from the header"))).collect()
}

/// Reads the dataset in `dir` and returns the NDJSON lines (sorted) and the summary.
pub fn import(dir: &Path) -> Result<(Vec<String>, Summary)> {
    let mut summary = Summary::default();

    let mut orders: HashMap<String, Order> = HashMap::new();
    let mut r = reader(dir, ORDERS)?;
    let c = columns(
        &mut r,
        ORDERS,
        &[
            "order_id",
            "customer_id",
            "order_status",
            "order_purchase_timestamp",
            "order_approved_at",
            "order_delivered_carrier_date",
            "order_delivered_customer_date",
        ],
    )?;
    for row in r.records() {
        let row = row.with_context(|| format!("{ORDERS}: unreadable row"))?;
        let f = |i: usize| row.get(c[i]).unwrap_or("").trim().to_string();
        if f(0).is_empty() || f(1).is_empty() {
            summary.reject("order_without_id");
            continue;
        }
        if orders.contains_key(&f(0)) {
            summary.reject("duplicate_order");
            continue;
        }
        orders.insert(f(0), Order { customer_id: f(1), status: f(2), purchase: f(3), approved: f(4), carrier: f(5), delivered: f(6) });
    }

    // Per order, its sellers and each seller's earliest shipping limit.
    let mut sellers: BTreeMap<String, BTreeMap<String, Option<chrono::DateTime<Tz>>>> = BTreeMap::new();
    let mut r = reader(dir, ITEMS)?;
    let c = columns(&mut r, ITEMS, &["order_id", "seller_id", "shipping_limit_date"])?;
    for row in r.records() {
        let row = row.with_context(|| format!("{ITEMS}: unreadable row"))?;
        let (order_id, seller_id, limit) = (row.get(c[0]).unwrap_or("").trim(), row.get(c[1]).unwrap_or("").trim(), row.get(c[2]).unwrap_or(""));
        if !orders.contains_key(order_id) {
            summary.reject("item_of_unknown_order");
            continue;
        }
        if seller_id.is_empty() {
            summary.reject("item_without_seller");
            continue;
        }
        let Some(limit) = local_time(limit) else {
            summary.reject("item_without_shipping_limit");
            continue;
        };
        let slot = sellers.entry(order_id.to_string()).or_default().entry(seller_id.to_string()).or_insert(Some(limit));
        if let Some(earliest) = slot {
            if limit < *earliest {
                *slot = Some(limit);
            }
        }
    }

    let mut lines: Vec<Line> = Vec::new();
    let mut ids: Vec<&String> = orders.keys().collect();
    ids.sort();
    for order_id in ids {
        let o = &orders[order_id];
        let Some(order_sellers) = sellers.get(order_id) else {
            summary.reject("order_without_items");
            continue;
        };
        for (seller_id, ship_by) in order_sellers {
            seller_order(order_id, seller_id, ship_by.as_ref(), o, &mut lines, &mut summary);
        }
    }

    let mut r = reader(dir, REVIEWS)?;
    let c = columns(
        &mut r,
        REVIEWS,
        &["review_id", "order_id", "review_score", "review_comment_title", "review_comment_message", "review_creation_date"],
    )?;
    let mut seen: std::collections::HashSet<(String, String)> = std::collections::HashSet::new();
    for row in r.records() {
        let row = row.with_context(|| format!("{REVIEWS}: unreadable row"))?;
        let f = |i: usize| row.get(c[i]).unwrap_or("").trim().to_string();
        let (review_id, order_id) = (f(0), f(1));
        if review_id.is_empty() {
            summary.reject("review_without_id");
            continue;
        }
        let Some(order) = orders.get(&order_id) else {
            summary.reject("review_of_unknown_order");
            continue;
        };
        let Some(order_sellers) = sellers.get(&order_id) else {
            summary.reject("review_of_order_without_items");
            continue;
        };
        if !seen.insert((review_id.clone(), order_id.clone())) {
            summary.reject("duplicate_review");
            continue;
        }
        let Some(rating) = f(2).parse::<i64>().ok().filter(|s| (1..=5).contains(s)) else {
            summary.reject("review_score_invalid");
            continue;
        };
        let Some(at) = local_time(&f(5)) else {
            summary.reject("review_without_creation_date");
            continue;
        };
        let comment: Vec<String> = [f(3), f(4)].into_iter().filter(|s| !s.is_empty()).collect();
        for seller_id in order_sellers.keys() {
            let mut v = Map::new();
            v.insert("event_id".into(), json!(format!("olist:{order_id}:{seller_id}:review:{review_id}")));
            v.insert("type".into(), json!("review.submitted"));
            v.insert("occurred_at".into(), json!(rfc3339(&at)));
            v.insert("seller_id".into(), json!(seller_id));
            v.insert("review_id".into(), json!(format!("{review_id}:{order_id}:{seller_id}")));
            v.insert("order_id".into(), json!(order_id));
            v.insert("customer_id".into(), json!(order.customer_id));
            v.insert("rating".into(), json!(rating));
            if !comment.is_empty() {
                v.insert("comment".into(), json!(comment.join("\n")));
            }
            v.insert("channel".into(), json!("survey"));
            push(&mut lines, &mut summary, at.timestamp_millis(), (order_id.clone(), seller_id.clone(), 9, review_id.clone()), "review.submitted", v);
        }
    }

    lines.sort_by(|a, b| a.at_ms.cmp(&b.at_ms).then_with(|| a.key.cmp(&b.key)));
    for l in &lines {
        summary.event(l.kind);
    }
    Ok((lines.into_iter().map(|l| l.json).collect(), summary))
}

/// The events of one seller's part of an order.
fn seller_order(order_id: &str, seller_id: &str, ship_by: Option<&chrono::DateTime<Tz>>, o: &Order, lines: &mut Vec<Line>, summary: &mut Summary) {
    let Some(purchase) = local_time(&o.purchase) else {
        summary.reject("order_without_purchase_time");
        return;
    };
    let Some(ship_by) = ship_by else {
        summary.reject("order_without_shipping_limit");
        return;
    };
    if *ship_by < purchase {
        summary.reject("shipping_limit_before_purchase");
        return;
    }
    let step = |kind: &'static str, at: &chrono::DateTime<Tz>, rank: u8, extra: Value| {
        let mut v = Map::new();
        v.insert("event_id".into(), json!(format!("olist:{order_id}:{seller_id}:{}", kind.trim_start_matches("order."))));
        v.insert("type".into(), json!(kind));
        v.insert("occurred_at".into(), json!(rfc3339(at)));
        v.insert("seller_id".into(), json!(seller_id));
        v.insert("order_id".into(), json!(order_id));
        if let Some(extra) = extra.as_object() {
            v.extend(extra.clone());
        }
        (at.timestamp_millis(), (order_id.to_string(), seller_id.to_string(), rank, String::new()), kind, v)
    };
    let mut out = vec![step("order.created", &purchase, 0, json!({"customer_id": o.customer_id, "ship_by": rfc3339(ship_by)}))];
    let mut latest = purchase;

    match (o.approved.is_empty(), local_time(&o.approved)) {
        (true, _) => summary.reject("missing_approval"),
        (false, None) => summary.reject("invalid_approval_time"),
        (false, Some(t)) if t < purchase => summary.reject("approval_before_purchase"),
        (false, Some(t)) => {
            latest = latest.max(t);
            out.push(step("order.confirmed", &t, 1, json!({})));
        }
    }

    let shipped_status = matches!(o.status.as_str(), "shipped" | "delivered");
    let mut handover = None;
    match (o.carrier.is_empty(), local_time(&o.carrier)) {
        (true, _) if shipped_status => summary.reject("missing_handover"),
        (true, _) => {}
        (false, None) => summary.reject("invalid_handover_time"),
        (false, Some(t)) if t < purchase => summary.reject("handover_before_purchase"),
        (false, Some(t)) => {
            latest = latest.max(t);
            handover = Some(t);
            out.push(step("order.shipped", &t, 2, json!({})));
        }
    }

    match (o.delivered.is_empty(), local_time(&o.delivered)) {
        (true, _) if o.status == "delivered" => summary.reject("missing_delivery"),
        (true, _) => {}
        (false, None) => summary.reject("invalid_delivery_time"),
        (false, Some(_)) if o.carrier.is_empty() => summary.reject("delivery_without_handover"),
        (false, Some(t)) if handover.is_some_and(|h| t < h) => summary.reject("delivery_before_handover"),
        (false, Some(t)) if t < purchase => summary.reject("delivery_before_purchase"),
        (false, Some(t)) => out.push(step("order.delivered", &t, 3, json!({}))),
    }

    match o.status.as_str() {
        // Olist does not record when an order was cancelled: the latest step known is used.
        "unavailable" => out.push(step("order.cancelled", &latest, 4, json!({"cancelled_by": "seller", "reason": "unavailable"}))),
        "canceled" => out.push(step("order.cancelled", &latest, 4, json!({"cancelled_by": "platform", "reason": "canceled"}))),
        _ => {}
    }
    for (at_ms, key, kind, v) in out {
        push(lines, summary, at_ms, key, kind, v);
    }
}

/// Keeps a line only if the contract's decoder accepts it; counts it otherwise.
fn push(lines: &mut Vec<Line>, summary: &mut Summary, at_ms: i64, key: (String, String, u8, String), kind: &'static str, v: Map<String, Value>) {
    let json = Value::Object(v).to_string();
    match quality_engine::contract::decode(json.as_bytes()) {
        Ok(_) => lines.push(Line { at_ms, key, kind, json }),
        Err(r) => summary.reject(&format!("contract_{}", r.reason)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_times_get_the_sao_paulo_offset() {
        assert_eq!(rfc3339(&local_time("2017-06-01 10:00:00").unwrap()), "2017-06-01T10:00:00-03:00");
        assert_eq!(rfc3339(&local_time("2017-12-01 10:00:00").unwrap()), "2017-12-01T10:00:00-02:00");
        // Summer time began at midnight on 2017-10-15: 00:30 never showed; read as 01:30 -02:00.
        assert_eq!(rfc3339(&local_time("2017-10-15 00:30:00").unwrap()), "2017-10-15T01:30:00-02:00");
        // It ended at midnight on 2018-02-18: 23:30 on the 17th showed twice; the earlier is taken.
        assert_eq!(rfc3339(&local_time("2018-02-17 23:30:00").unwrap()), "2018-02-17T23:30:00-02:00");
        assert!(local_time("").is_none());
        assert!(local_time("2018-02-17").is_none());
    }

    #[test]
    fn imports_a_small_dataset_with_its_rejections() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(ORDERS),
            "order_id,customer_id,order_status,order_purchase_timestamp,order_approved_at,order_delivered_carrier_date,order_delivered_customer_date,order_estimated_delivery_date\n\
             o1,c1,delivered,2018-03-01 10:00:00,2018-03-01 10:30:00,2018-03-02 09:00:00,2018-03-05 12:00:00,2018-03-20 00:00:00\n\
             o2,c2,unavailable,2018-03-02 10:00:00,2018-03-02 11:00:00,,,2018-03-20 00:00:00\n\
             o3,c3,delivered,2018-03-03 10:00:00,,2018-03-02 09:00:00,2018-03-06 12:00:00,2018-03-20 00:00:00\n\
             o4,c4,canceled,2018-03-03 10:00:00,,,,2018-03-20 00:00:00\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join(ITEMS),
            "order_id,order_item_id,product_id,seller_id,shipping_limit_date,price,freight_value\n\
             o1,1,p,sA,2018-03-03 10:00:00,1,1\no1,2,p,sA,2018-03-02 08:00:00,1,1\no1,3,p,sB,2018-03-04 10:00:00,1,1\n\
             o2,1,p,sA,2018-03-04 10:00:00,1,1\no3,1,p,sB,2018-03-05 10:00:00,1,1\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join(REVIEWS),
            "review_id,order_id,review_score,review_comment_title,review_comment_message,review_creation_date,review_answer_timestamp\n\
             r1,o1,5,Ótimo,\"chegou\nrápido\",2018-03-06 00:00:00,2018-03-07 10:00:00\n\
             r2,o9,4,,,2018-03-06 00:00:00,\nr3,o4,1,,,2018-03-06 00:00:00,\n",
        )
        .unwrap();
        let (lines, s) = import(dir.path()).unwrap();
        let count = |k: &str| s.events.get(k).copied().unwrap_or(0);
        assert_eq!((count("order.created"), count("order.confirmed"), count("order.shipped"), count("order.delivered")), (4, 3, 2, 3));
        assert_eq!((count("order.cancelled"), count("review.submitted")), (1, 2));
        let rej: Vec<(&str, u64)> = s.rejected.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        assert_eq!(
            rej,
            [
                ("handover_before_purchase", 1),
                ("missing_approval", 1),
                ("order_without_items", 1),
                ("review_of_order_without_items", 1),
                ("review_of_unknown_order", 1)
            ]
        );
        // o1/sA's ship_by is its earliest item limit; o1 is two seller-orders; lines are sorted by time.
        assert!(lines[0].contains(r#""ship_by":"2018-03-02T08:00:00-03:00""#), "{}", lines[0]);
        let at = |l: &String| quality_engine::contract::decode(l.as_bytes()).unwrap().occurred_at;
        assert!(lines.windows(2).all(|w| at(&w[0]) <= at(&w[1])));
        assert!(lines.iter().any(|l| l.contains(r#""comment":"Ótimo\nchegou\nrápido""#) && l.contains(r#""seller_id":"sB""#)));
        assert!(lines.iter().any(|l| l.contains(r#""cancelled_by":"seller""#) && l.contains(r#""occurred_at":"2018-03-02T11:00:00-03:00""#)));
        assert_eq!(import(dir.path()).unwrap().0, lines, "deterministic");
    }
}
