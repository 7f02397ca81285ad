//! One NDJSON file per output table in a directory: `windows.ndjson`, `dead_letter.ndjson`,
//! and the acting-on-quality tables (`escalations`, `survey_requests`, `critics`, `reasons`,
//! `leaders`, `incentives`).

use super::Sink;
use anyhow::{Context, Result};
use quality_engine::actions::{leaders, tier_changes, ActionPolicy, Leader, SellerMonth, StageChange};
use quality_engine::window::Cadence;
use quality_engine::{Output, WindowRow};
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// File name of the window-row table.
pub const WINDOWS_FILE: &str = "windows.ndjson";
/// File name of the dead-letter table.
pub const DEAD_LETTER_FILE: &str = "dead_letter.ndjson";
/// File name of the escalation transitions.
pub const ESCALATIONS_FILE: &str = "escalations.ndjson";
/// File name of the survey requests.
pub const SURVEYS_FILE: &str = "survey_requests.ndjson";
/// File name of the critics' states (upserts: the last line of a `critic_id` is its state).
pub const CRITICS_FILE: &str = "critics.ndjson";
/// File name of the weekly reasons for negative reviews.
pub const REASONS_FILE: &str = "reasons.ndjson";
/// File name of the month leaders (rewritten at each commit).
pub const LEADERS_FILE: &str = "leaders.ndjson";
/// File name of the incentive tier changes (rewritten at each commit).
pub const INCENTIVES_FILE: &str = "incentives.ndjson";

/// Appends each output to its table's NDJSON file (created fresh at open); rewrites the
/// leaders and the incentive tier changes of every final month at each commit (they need all
/// sellers' month rows at once).
pub struct FileSink {
    dir: PathBuf,
    /// In the order of [`FileSink::TABLES`].
    files: Vec<BufWriter<File>>,
    policy: ActionPolicy,
    /// Final month rows, the input of the leaders and tiers (one per seller and month).
    months: Vec<WindowRow>,
    /// Every escalation so far: the ladder stages the tiers read.
    stages: Vec<StageChange>,
}

impl FileSink {
    /// The table files, in the order outputs are routed to them.
    const TABLES: [&'static str; 6] = [WINDOWS_FILE, DEAD_LETTER_FILE, ESCALATIONS_FILE, SURVEYS_FILE, CRITICS_FILE, REASONS_FILE];

    /// Creates the directory if needed and truncates the table files.
    pub fn create(dir: &Path, policy: ActionPolicy) -> Result<FileSink> {
        fs::create_dir_all(dir).with_context(|| format!("cannot create output directory {}", dir.display()))?;
        let files = FileSink::TABLES.iter().map(|name| create(&dir.join(name))).collect::<Result<_>>()?;
        let sink = FileSink { dir: dir.to_owned(), files, policy, months: Vec::new(), stages: Vec::new() };
        sink.write_monthly()?;
        Ok(sink)
    }

    /// Rewrites `leaders.ndjson` and `incentives.ndjson` from the final month rows and
    /// escalations seen so far: every final month is closed for every seller in a file run.
    fn write_monthly(&self) -> Result<()> {
        let mut months: Vec<&WindowRow> = self.months.iter().collect();
        months.sort_by_key(|r| r.period_start);
        let all: Vec<Leader> =
            months.chunk_by(|a, b| a.period_start == b.period_start).flat_map(|month| leaders(month, &self.policy.leaders)).collect();
        write_table(&self.dir.join(LEADERS_FILE), &all)?;
        let months: Vec<SellerMonth> = self.months.iter().filter_map(SellerMonth::of).collect();
        let changes = tier_changes(&months, &self.stages, &self.policy.incentives, &self.policy.leaders);
        write_table(&self.dir.join(INCENTIVES_FILE), &changes)
    }

    /// The output directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

fn create(path: &Path) -> Result<BufWriter<File>> {
    Ok(BufWriter::with_capacity(1 << 16, File::create(path).with_context(|| format!("cannot create {}", path.display()))?))
}

/// Writes `items` as a whole NDJSON file (a table computed from several outputs, like leaders).
fn write_table<T: serde::Serialize>(path: &Path, items: &[T]) -> Result<()> {
    let mut w = create(path)?;
    for item in items {
        write_line(&mut w, item)?;
    }
    w.flush().with_context(|| format!("writing {}", path.display()))
}

impl Sink for FileSink {
    async fn write(&mut self, batch: &[Output]) -> Result<()> {
        for o in batch {
            let f = &mut self.files;
            match o {
                Output::Row(row) => {
                    write_line(&mut f[0], row)?;
                    if row.cadence == Cadence::Month && row.is_final {
                        self.months.push(row.clone());
                    }
                }
                Output::DeadLetter(d) => write_line(&mut f[1], d)?,
                Output::Escalation(e) => {
                    write_line(&mut f[2], e)?;
                    self.stages.push(e.into());
                }
                Output::SurveyRequest(s) => write_line(&mut f[3], s)?,
                Output::Critic(c) => write_line(&mut f[4], c)?,
                Output::Reasons(r) => write_line(&mut f[5], r)?,
            }
        }
        Ok(())
    }

    async fn commit(&mut self) -> Result<()> {
        for w in &mut self.files {
            w.flush().context("writing output files")?;
            w.get_ref().sync_data().context("syncing output files")?;
        }
        self.write_monthly()
    }
}

fn write_line<T: serde::Serialize>(w: &mut BufWriter<File>, value: &T) -> Result<()> {
    serde_json::to_writer(&mut *w, value).context("serializing an output row")?;
    w.write_all(b"\n").context("writing output files")
}
