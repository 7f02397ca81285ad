//! Hostile input: every case gets a machine-readable rejection (or counts as documented),
//! nothing panics, and none of it changes the results of the good events around it.
//! Inputs found by fuzzing (`scripts/fuzz.sh`) are kept in `tests/corpus/` and replayed here.

mod common;

use common::{bin, event, ok, run_lines};
use quality_engine::contract::{decode, RejectReason, MAX_EVENT_BYTES};
use quality_engine::{EngineConfig, Output, Verdict};
use serde_json::json;

/// A payload and the verdict it must get (`None`: accepted).
fn cases() -> Vec<(&'static str, Vec<u8>, Option<RejectReason>)> {
    let created = |id: &str, at: &str, order: &str| {
        event(id, "order.created", at, "s1", json!({"order_id": order, "customer_id": "c1", "ship_by": "2026-11-20T10:00:00Z"}))
    };
    let step = |id: &str, kind: &str, at: &str, order: &str| event(id, kind, at, "s1", json!({"order_id": order}));
    let nested = format!("{}{}", "[".repeat(20_000), "]".repeat(20_000));
    let deep_object = format!(
        r#"{{"event_id":"n1","type":"order.created","occurred_at":"2026-11-16T10:00:00Z","seller_id":"s1","order_id":"on","customer_id":"c1","ship_by":"2026-11-20T10:00:00Z","x":{}1{}}}"#,
        "{\"a\":".repeat(5_000),
        "}".repeat(5_000)
    );
    vec![
        ("oversized", vec![b' '; MAX_EVENT_BYTES + 1], Some(RejectReason::Oversized)),
        ("invalid utf-8", b"{\"event_id\":\"\xff\xfe\"}".to_vec(), Some(RejectReason::InvalidUtf8)),
        ("deeply nested array", nested.into_bytes(), Some(RejectReason::InvalidJson)),
        ("deeply nested object", deep_object.into_bytes(), Some(RejectReason::InvalidJson)),
        ("nul bytes", b"\0\0\0".to_vec(), Some(RejectReason::InvalidJson)),
        ("not an object", b"[1,2,3]".to_vec(), Some(RejectReason::NotAnObject)),
        ("far future", created("f1", "2999-01-01T00:00:00Z", "of").into_bytes(), Some(RejectReason::OutOfRange)),
        ("far past", created("f2", "1900-01-01T00:00:00Z", "op").into_bytes(), Some(RejectReason::OutOfRange)),
        ("huge number", br#"{"event_id":"h1","type":"review.submitted","occurred_at":"2026-11-16T10:00:00Z","seller_id":"s1","order_id":"o9","customer_id":"c1","rating":1e400}"#.to_vec(), Some(RejectReason::InvalidJson)),
        ("empty seller", event("u1", "order.created", "2026-11-16T10:00:00Z", "", json!({"order_id": "ou", "customer_id": "c1", "ship_by": "2026-11-20T10:00:00Z"})).into_bytes(), Some(RejectReason::InvalidField)),
        ("created", created("c1", "2026-11-16T10:00:00Z", "o1").into_bytes(), None),
        ("confirmed before created", step("c2", "order.confirmed", "2026-11-16T09:00:00Z", "o1").into_bytes(), Some(RejectReason::NegativeDuration)),
        ("cancelled", event("c3", "order.cancelled", "2026-11-16T12:00:00Z", "s1", json!({"order_id": "o1", "cancelled_by": "customer"})).into_bytes(), None),
        ("cancelled twice", event("c4", "order.cancelled", "2026-11-16T13:00:00Z", "s1", json!({"order_id": "o1", "cancelled_by": "seller"})).into_bytes(), Some(RejectReason::ConflictingLifecycle)),
        ("message", event("m1", "message.received", "2026-11-16T10:00:00Z", "s1", json!({"conversation_id": "k1", "message_id": "q1", "customer_id": "c1"})).into_bytes(), None),
        ("reply before message", event("m2", "message.replied", "2026-11-16T09:00:00Z", "s1", json!({"conversation_id": "k1", "message_id": "q1", "reply_id": "r1"})).into_bytes(), Some(RejectReason::NegativeDuration)),
    ]
}

#[test]
fn every_hostile_case_gets_its_reason_code() {
    // The cases before "created" are rejected by the decoder alone; the later ones need state.
    for (name, payload, expected) in cases().into_iter().take_while(|c| c.0 != "created") {
        let got = std::panic::catch_unwind(|| decode(&payload).err().map(|r| r.reason));
        assert_eq!(got.unwrap_or_else(|_| panic!("{name}: the decoder panicked")), expected, "{name}");
    }
    let lines: Vec<Vec<u8>> = cases().into_iter().map(|c| c.1).collect();
    let mut engine = quality_engine::Engine::new(EngineConfig::default());
    for ((name, _, expected), line) in cases().into_iter().zip(&lines) {
        let verdict = engine.ingest(line);
        match (expected, &verdict) {
            (None, Verdict::Accepted(_)) => {}
            (Some(reason), Verdict::Rejected(r)) => assert_eq!(r.reason, reason, "{name}: {}", r.detail),
            _ => panic!("{name}: expected {expected:?}, got {verdict:?}"),
        }
    }
}

#[test]
fn hostile_lines_change_no_accepted_result() {
    let out = ok(bin().args(["generate", "--sellers", "4", "--days", "10", "--clean", "--start", "2026-11-09"]));
    let clean: Vec<String> = out.lines().map(str::to_owned).collect();
    // The cases before "created" are rejected whatever comes before or after them.
    let hostile: Vec<String> = cases().into_iter().take_while(|c| c.0 != "created").map(|c| String::from_utf8_lossy(&c.1).into_owned()).collect();
    let mut mixed = Vec::new();
    for (i, line) in clean.iter().enumerate() {
        mixed.push(line.clone());
        if i % 97 == 0 {
            mixed.push(hostile[(i / 97) % hostile.len()].clone());
        }
    }
    let rows = |out: Vec<Output>| -> Vec<String> {
        out.into_iter().filter_map(|o| if let Output::Row(r) = o { Some(serde_json::to_string(&r).unwrap()) } else { None }).collect()
    };
    let (a, _, _) = run_lines(EngineConfig::default(), &clean);
    let (b, verdicts, _) = run_lines(EngineConfig::default(), &mixed);
    assert_eq!(rows(a), rows(b), "the hostile lines changed accepted results");
    let rejected = verdicts.iter().filter(|v| matches!(v, Verdict::Rejected(_))).count();
    assert_eq!(rejected, mixed.len() - clean.len(), "each hostile line is rejected, nothing else");
}

#[test]
fn inputs_found_by_fuzzing_never_panic_and_count_every_line_once() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus");
    let mut files = 0;
    for entry in std::fs::read_dir(dir).expect("tests/corpus exists") {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let lines: Vec<&[u8]> = data.split(|b| *b == b'\n').collect();
        let mut engine = quality_engine::Engine::new(EngineConfig::default());
        for line in &lines {
            engine.ingest(line);
        }
        let mut out = Vec::new();
        engine.finish(&mut out);
        let orphans = out.iter().filter(|o| matches!(o, Output::DeadLetter(d) if d.source.starts_with("engine:"))).count() as u64;
        let s = engine.stats();
        assert_eq!(s.accepted_total() + s.duplicates_total() + s.rejected_total() - orphans, lines.len() as u64, "{}", path.display());
        files += 1;
    }
    assert!(files > 0, "the corpus is empty");
}
