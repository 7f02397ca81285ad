//! Checkpoints: an engine stopped anywhere and restored from its checkpoint produces exactly
//! the outputs of an engine that never stopped.

use chrono::NaiveDate;
use quality_engine::{CheckpointError, Engine, EngineConfig, Output, Verdict};
use quality_pipeline::generate::{generate, GeneratorConfig};

fn config() -> EngineConfig {
    EngineConfig { timezone: chrono_tz::Europe::Berlin, ..EngineConfig::default() }
}

fn stream() -> Vec<String> {
    let g = GeneratorConfig {
        sellers: 12,
        days: 40,
        start: NaiveDate::from_ymd_opt(2026, 10, 5).unwrap(),
        timezone: chrono_tz::Europe::Berlin,
        seed: 77,
        ..GeneratorConfig::default()
    };
    generate(&g).collect()
}

fn feed(e: &mut Engine, lines: &[String], out: &mut Vec<Output>) -> Vec<Verdict> {
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let v = e.ingest(l.as_bytes());
            if i % 97 == 0 {
                e.drain(out);
            }
            v
        })
        .collect()
}

#[test]
fn a_restored_engine_continues_exactly_where_the_checkpoint_was_taken() {
    let lines = stream();
    let mut whole = Engine::new(config());
    let mut expected = Vec::new();
    let expected_verdicts = feed(&mut whole, &lines, &mut expected);
    whole.finish(&mut expected);
    assert!(expected.iter().filter(|o| matches!(o, Output::Row(r) if r.is_final)).count() > 500);

    for fraction in [0.0, 0.1, 0.37, 0.5, 0.83, 1.0] {
        let k = (lines.len() as f64 * fraction) as usize;
        let mut first = Engine::new(config());
        let mut got = Vec::new();
        let mut verdicts = feed(&mut first, &lines[..k], &mut got);
        let bytes = first.checkpoint(&mut got);
        drop(first);

        let mut second = Engine::restore(config(), &bytes).expect("the checkpoint restores");
        let mut again = Vec::new();
        assert_eq!(second.checkpoint(&mut again), bytes, "restoring and saving again gives the same bytes");
        assert!(again.is_empty());
        verdicts.extend(feed(&mut second, &lines[k..], &mut got));
        second.finish(&mut got);

        assert_eq!(verdicts, expected_verdicts, "split at {k}: same verdict for every line");
        assert_eq!(second.stats(), whole.stats(), "split at {k}: same counters");
        assert_eq!(got.len(), expected.len(), "split at {k}: as many outputs");
        for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
            assert_eq!(g, e, "split at {k}: output {i} differs");
        }
    }
}

#[test]
fn a_checkpoint_refuses_a_changed_calendar_and_garbage() {
    let lines = stream();
    let mut e = Engine::new(config());
    feed(&mut e, &lines[..2000], &mut Vec::new());
    let bytes = e.checkpoint(&mut Vec::new());
    let moscow = EngineConfig::default();
    match Engine::restore(moscow, &bytes) {
        Err(err @ CheckpointError::ConfigChanged { .. }) => assert!(err.to_string().contains("engine.timezone"), "{err}"),
        other => panic!("expected a config change error, got {:?}", other.map(|_| ())),
    }
    let err = Engine::restore(config(), &bytes[..bytes.len() / 2]).map(|_| ()).unwrap_err();
    assert!(matches!(err, CheckpointError::Corrupt(_)), "{err}");
    assert!(err.to_string().contains("discard it"), "{err}");
}

#[test]
fn a_rejected_event_sent_again_after_a_restore_is_judged_anew() {
    let received = r#"{"event_id":"e1","type":"message.received","occurred_at":"2026-11-16T10:00:00+03:00","seller_id":"s1","conversation_id":"k","message_id":"m1","customer_id":"c"}"#;
    let early = r#"{"event_id":"e2","type":"message.replied","occurred_at":"2026-11-16T09:00:00+03:00","seller_id":"s1","conversation_id":"k","message_id":"m1","reply_id":"r"}"#;
    let fixed = r#"{"event_id":"e2","type":"message.replied","occurred_at":"2026-11-16T10:10:00+03:00","seller_id":"s1","conversation_id":"k","message_id":"m1","reply_id":"r"}"#;
    let mut e = Engine::new(config());
    e.ingest(received.as_bytes());
    assert!(matches!(e.ingest(early.as_bytes()), Verdict::Rejected(_)));
    let bytes = e.checkpoint(&mut Vec::new());
    let mut restored = Engine::restore(config(), &bytes).unwrap();
    assert!(matches!(restored.ingest(fixed.as_bytes()), Verdict::Accepted(_)), "a corrected re-send of a rejected event counts");
    assert!(matches!(restored.ingest(fixed.as_bytes()), Verdict::Duplicate(_)));
}
