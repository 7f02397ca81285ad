//! One partition number's engine: its three inputs (the partition in each input topic), their
//! offsets and idleness, and what it hands to the next commit cycle.

use super::checkpoints::CheckpointRow;
use super::outbox::{Outgoing, OUTPUTS};
use crate::telemetry::EventCounters;
use quality_engine::contract::Timestamp;
use quality_engine::{DeadLetter, Engine, Output, Verdict};
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// Number of inputs of a shard: the orders, messages and feedback topics.
pub const INPUTS: usize = 3;

/// One partition number's state.
pub struct Shard {
    /// The partition number.
    pub partition: i32,
    /// Its engine (with a driven clock).
    pub engine: Engine,
    /// Next offset to read in each input; -1 until a record was read (start of the topic).
    pub next: [i64; INPUTS],
    /// Where this shard's records end in each output topic.
    pub positions: [i64; OUTPUTS],
    suppressed: HashSet<u64>,
    seen: [bool; INPUTS],
    caught_up: [bool; INPUTS],
    last_record: [Instant; INPUTS],
    seq: u64,
    dirty: bool,
    out: Vec<Output>,
}

/// What one shard contributes to a commit cycle.
pub struct ShardCycle {
    /// The partition number.
    pub partition: i32,
    /// Everything the engine emitted, for ClickHouse.
    pub outputs: Vec<Output>,
    /// Records for the output topics (those published before a crash are left out).
    pub publish: Vec<Outgoing>,
    /// The checkpoint to write once the outputs are durable.
    pub checkpoint: CheckpointRow,
}

/// How event time moves when inputs go quiet.
#[derive(Debug, Clone, Copy)]
pub struct Quiet {
    /// An input with no record for this long no longer holds event time back.
    pub idle_timeout: Duration,
    /// When every input is idle, event time follows the wall clock.
    pub wall_clock: bool,
}

impl Shard {
    /// A shard resuming from `checkpoint` (its engine already restored), or starting fresh.
    pub fn new(
        partition: i32,
        engine: Engine,
        checkpoint: Option<&CheckpointRow>,
        published: HashSet<u64>,
        positions: [i64; OUTPUTS],
        now: Instant,
    ) -> Shard {
        let mut next = [-1; INPUTS];
        let mut suppressed = published;
        let mut seq = 0;
        if let Some(c) = checkpoint {
            next.iter_mut().zip(&c.offsets).for_each(|(n, o)| *n = *o);
            suppressed.extend(c.suppressed.iter().copied());
            seq = c.seq();
        }
        Shard {
            partition,
            engine,
            next,
            positions,
            suppressed,
            seen: [false; INPUTS],
            caught_up: [false; INPUTS],
            last_record: [now; INPUTS],
            seq,
            dirty: false,
            out: Vec::new(),
        }
    }

    /// Feeds one record of input `input` to the engine and counts its verdict.
    pub fn ingest(&mut self, input: usize, topic: &str, offset: i64, payload: &[u8], counters: &EventCounters) {
        let verdict = self.engine.ingest_from(input, payload);
        counters.count(&verdict);
        if let Verdict::Rejected(r) = verdict {
            self.out.push(Output::DeadLetter(DeadLetter::new(r, payload, format!("{topic}/{}@{offset}", self.partition))));
        }
        self.next[input] = offset + 1;
        self.seen[input] = true;
        self.dirty = true;
    }

    /// Does not count `blocked` (time the poll loop could not read) as quiet time.
    pub fn excuse(&mut self, blocked: Duration) {
        self.last_record.iter_mut().for_each(|t| *t += blocked);
    }

    /// Quiet for the idle timeout, and caught up all that time (see [`Shard::tick`]).
    fn idle(&self, input: usize, now: Instant, quiet: Quiet) -> bool {
        self.caught_up[input] && now.saturating_duration_since(self.last_record[input]) >= quiet.idle_timeout
    }

    /// Whether every input has been caught up and quiet for the idle timeout.
    pub fn all_idle(&self, now: Instant, quiet: Quiet) -> bool {
        (0..INPUTS).all(|i| self.idle(i, now, quiet))
    }

    /// Moves event time: to the slowest active input, or when all are idle to the latest
    /// input (and the wall clock, if enabled). `high` is each input's high watermark as last
    /// seen by the consumer (`None`: not known yet); an input with records left to read
    /// (lag) is never idle, however long it has been quiet.
    pub fn tick(&mut self, now: Instant, wall: Timestamp, quiet: Quiet, high: [Option<i64>; INPUTS]) {
        for (i, high) in high.into_iter().enumerate() {
            self.caught_up[i] = high.is_some_and(|h| self.next[i].max(0) >= h);
            if std::mem::take(&mut self.seen[i]) || !self.caught_up[i] {
                self.last_record[i] = now;
            }
        }
        let active: Vec<Option<Timestamp>> = (0..INPUTS).filter(|i| !self.idle(*i, now, quiet)).map(|i| self.engine.input_time(i)).collect();
        let target = if active.is_empty() {
            let latest = (0..INPUTS).filter_map(|i| self.engine.input_time(i)).max();
            if quiet.wall_clock {
                Some(latest.map_or(wall, |t| t.max(wall)))
            } else {
                latest
            }
        } else {
            active.into_iter().collect::<Option<Vec<_>>>().and_then(|times| times.into_iter().min())
        };
        if let Some(t) = target {
            let before = self.engine.watermark();
            self.engine.advance_clock(t);
            self.dirty |= self.engine.watermark() != before;
        }
    }

    /// Records left to read in each input, when the end is known.
    pub fn lag(&self, high: [Option<i64>; INPUTS]) -> [Option<i64>; INPUTS] {
        std::array::from_fn(|i| high[i].map(|h| (h - self.next[i].max(0)).max(0)))
    }

    /// Takes everything since the last cycle, with a checkpoint; `None` if nothing changed.
    /// Dead letters the engine made from its own state (orphans given up) are counted on `state`.
    pub fn cycle(&mut self, provisional: bool, group: &str, topics: &[&str; INPUTS], state: &EventCounters) -> Option<ShardCycle> {
        if !self.dirty && self.out.is_empty() {
            return None;
        }
        if provisional {
            self.engine.flush(&mut self.out);
        }
        let snapshot = self.engine.checkpoint(&mut self.out);
        let outputs = std::mem::take(&mut self.out);
        for o in &outputs {
            if let Output::DeadLetter(d) = o {
                if d.source.starts_with("engine:") {
                    state.count_rejection(d.reason);
                }
            }
        }
        let publish: Vec<Outgoing> = outputs.iter().filter_map(Outgoing::of).filter(|r| !self.suppressed.remove(&r.identity)).collect();
        self.seq += 1;
        self.dirty = false;
        let checkpoint = CheckpointRow {
            consumer_group: group.to_owned(),
            partition: self.partition as u32,
            version: CheckpointRow::version_of(&self.next, self.seq),
            topics: topics.iter().map(|t| t.to_string()).collect(),
            offsets: self.next.to_vec(),
            output_positions: self.positions.to_vec(),
            suppressed: self.suppressed.iter().copied().collect(),
            state: snapshot,
        };
        Some(ShardCycle { partition: self.partition, outputs, publish, checkpoint })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quality_engine::engine::Clock;
    use quality_engine::EngineConfig;

    fn shard(start: Instant) -> Shard {
        let engine = Engine::new(EngineConfig { clock: Clock::Driven, ..EngineConfig::default() });
        Shard::new(0, engine, None, HashSet::new(), [0; OUTPUTS], start)
    }

    const QUIET: Quiet = Quiet { idle_timeout: Duration::from_secs(1), wall_clock: true };

    #[test]
    fn an_input_with_records_left_is_never_idle() {
        let start = Instant::now();
        let mut s = shard(start);
        let later = start + Duration::from_secs(5);
        s.tick(later, Timestamp(0), QUIET, [Some(0), Some(0), Some(10)]);
        assert!(!s.all_idle(later + Duration::from_secs(5), QUIET), "input 2 has 10 records to read");
        s.tick(later, Timestamp(0), QUIET, [Some(0), Some(0), None]);
        assert!(!s.all_idle(later + Duration::from_millis(500), QUIET), "an unknown end is not caught up");
    }

    #[test]
    fn caught_up_quiet_inputs_let_time_follow_the_wall_clock_unless_backfilling() {
        let start = Instant::now();
        let wall = Timestamp::parse_rfc3339("2025-02-01T00:00:00Z").unwrap();
        let mut s = shard(start);
        let event = r#"{"event_id":"e1","type":"order.created","occurred_at":"2025-01-06T10:00:00Z","seller_id":"s1","order_id":"o1","customer_id":"c1","ship_by":"2025-01-08T10:00:00Z"}"#;
        s.ingest(0, "orders", 0, event.as_bytes(), &EventCounters::new("orders"));
        s.tick(start, wall, QUIET, [Some(1), Some(0), Some(0)]);
        assert_eq!(s.engine.watermark(), None, "input 1 and 2 have no time yet and are not idle yet");
        let later = start + Duration::from_secs(2);
        let mut backfill = shard(start);
        backfill.ingest(0, "orders", 0, event.as_bytes(), &EventCounters::new("orders"));
        backfill.tick(start, wall, QUIET, [Some(1), Some(0), Some(0)]);
        backfill.tick(later, wall, Quiet { wall_clock: false, ..QUIET }, [Some(1), Some(0), Some(0)]);
        assert_eq!(backfill.engine.watermark().map(|w| w.to_string()).as_deref(), Some("2025-01-04T10:00:00.000Z"), "the latest input time");
        s.tick(later, wall, QUIET, [Some(1), Some(0), Some(0)]);
        assert_eq!(s.engine.watermark().map(|w| w.to_string()).as_deref(), Some("2025-01-30T00:00:00.000Z"), "wall clock minus the lateness");
    }
}
