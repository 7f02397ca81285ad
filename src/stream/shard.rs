//! One partition number's engine: its three inputs (the partition in each input topic), their
//! offsets and idleness, and what it hands to the next commit cycle.

use super::checkpoints::CheckpointRow;
use super::dead_letters::identity_of;
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
    /// Where this shard's dead letters end in the dead-letter topic.
    pub dead_letter_position: i64,
    suppressed: HashSet<u64>,
    seen: [bool; INPUTS],
    last_record: [Instant; INPUTS],
    seq: u64,
    dirty: bool,
    out: Vec<Output>,
}

/// What one shard contributes to a commit cycle.
pub struct ShardCycle {
    /// The partition number.
    pub partition: i32,
    /// Rows and dead letters, for ClickHouse.
    pub outputs: Vec<Output>,
    /// Dead letters to publish (those published before a crash are left out).
    pub publish: Vec<DeadLetter>,
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
    pub fn new(partition: i32, engine: Engine, checkpoint: Option<&CheckpointRow>, published: HashSet<u64>, position: i64, now: Instant) -> Shard {
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
            dead_letter_position: position,
            suppressed,
            seen: [false; INPUTS],
            last_record: [now; INPUTS],
            seq,
            dirty: false,
            out: Vec::new(),
        }
    }

    /// Feeds one record of input `input` to the engine.
    pub fn ingest(&mut self, input: usize, topic: &str, offset: i64, payload: &[u8]) {
        if let Verdict::Rejected(r) = self.engine.ingest_from(input, payload) {
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

    fn idle(&self, input: usize, now: Instant, quiet: Quiet) -> bool {
        now.saturating_duration_since(self.last_record[input]) >= quiet.idle_timeout
    }

    /// Whether every input has been quiet for the idle timeout.
    pub fn all_idle(&self, now: Instant, quiet: Quiet) -> bool {
        (0..INPUTS).all(|i| self.idle(i, now, quiet))
    }

    /// Moves event time: to the slowest active input, or when all are idle to the latest
    /// input (and the wall clock, if enabled).
    pub fn tick(&mut self, now: Instant, wall: Timestamp, quiet: Quiet) {
        for i in 0..INPUTS {
            if std::mem::take(&mut self.seen[i]) {
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

    /// Takes everything since the last cycle, with a checkpoint; `None` if nothing changed.
    pub fn cycle(&mut self, provisional: bool, group: &str, topics: &[&str; INPUTS]) -> Option<ShardCycle> {
        if !self.dirty && self.out.is_empty() {
            return None;
        }
        if provisional {
            self.engine.flush(&mut self.out);
        }
        let state = self.engine.checkpoint(&mut self.out);
        let outputs = std::mem::take(&mut self.out);
        let publish: Vec<DeadLetter> = outputs
            .iter()
            .filter_map(|o| match o {
                Output::DeadLetter(d) if !self.suppressed.remove(&identity_of(d)) => Some(d.clone()),
                _ => None,
            })
            .collect();
        self.seq += 1;
        self.dirty = false;
        let checkpoint = CheckpointRow {
            consumer_group: group.to_owned(),
            partition: self.partition as u32,
            version: CheckpointRow::version_of(&self.next, self.seq),
            topics: topics.iter().map(|t| t.to_string()).collect(),
            offsets: self.next.to_vec(),
            dead_letter_position: self.dead_letter_position,
            suppressed: self.suppressed.iter().copied().collect(),
            state,
        };
        Some(ShardCycle { partition: self.partition, outputs, publish, checkpoint })
    }
}
