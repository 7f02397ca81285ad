//! Fuzzes the decoder and the engine together: every line of the input is decoded and ingested
//! into one engine, with flushes, a checkpoint/restore round trip and the end of the stream.
//! Nothing may panic, and every line must be counted exactly once.

#![no_main]

use libfuzzer_sys::fuzz_target;
use quality_engine::contract::decode;
use quality_engine::{Engine, EngineConfig, Output};

fuzz_target!(|data: &[u8]| {
    let config = EngineConfig::default();
    let mut engine = Engine::new(config.clone());
    let mut out: Vec<Output> = Vec::new();
    let mut lines = 0u64;
    for (i, line) in data.split(|b| *b == b'\n').enumerate() {
        let _ = decode(line);
        engine.ingest(line);
        lines += 1;
        if i % 7 == 3 {
            engine.flush(&mut out);
        }
        if i % 11 == 5 {
            let bytes = engine.checkpoint(&mut out);
            engine = Engine::restore(config.clone(), &bytes).expect("a checkpoint always restores");
        }
    }
    engine.finish(&mut out);
    let s = engine.stats();
    assert_eq!(s.accepted_total() + s.duplicates_total() + s.rejected_total() - orphans(&out), lines, "every line counted once");
});

/// Dead letters the engine made from its own state (not from a line).
fn orphans(out: &[Output]) -> u64 {
    out.iter().filter(|o| matches!(o, Output::DeadLetter(d) if d.source.starts_with("engine:"))).count() as u64
}
