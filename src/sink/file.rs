//! One NDJSON file per output table in a directory: `windows.ndjson`, `dead_letter.ndjson`.

use super::Sink;
use anyhow::{Context, Result};
use quality_engine::Output;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// File name of the window-row table.
pub const WINDOWS_FILE: &str = "windows.ndjson";
/// File name of the dead-letter table.
pub const DEAD_LETTER_FILE: &str = "dead_letter.ndjson";

/// Appends rows and dead letters to NDJSON files (created fresh at open).
pub struct FileSink {
    dir: PathBuf,
    windows: BufWriter<File>,
    dead: BufWriter<File>,
}

impl FileSink {
    /// Creates the directory if needed and truncates the table files.
    pub fn create(dir: &Path) -> Result<FileSink> {
        fs::create_dir_all(dir).with_context(|| format!("cannot create output directory {}", dir.display()))?;
        let open = |name: &str| -> Result<BufWriter<File>> {
            let p = dir.join(name);
            Ok(BufWriter::with_capacity(1 << 20, File::create(&p).with_context(|| format!("cannot create {}", p.display()))?))
        };
        Ok(FileSink { dir: dir.to_owned(), windows: open(WINDOWS_FILE)?, dead: open(DEAD_LETTER_FILE)? })
    }

    /// The output directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Sink for FileSink {
    async fn write(&mut self, batch: &[Output]) -> Result<()> {
        for o in batch {
            match o {
                Output::Row(row) => write_line(&mut self.windows, row)?,
                Output::DeadLetter(d) => write_line(&mut self.dead, d)?,
            }
        }
        Ok(())
    }

    async fn commit(&mut self) -> Result<()> {
        for w in [&mut self.windows, &mut self.dead] {
            w.flush().context("writing output files")?;
            w.get_ref().sync_data().context("syncing output files")?;
        }
        Ok(())
    }
}

fn write_line<T: serde::Serialize>(w: &mut BufWriter<File>, value: &T) -> Result<()> {
    serde_json::to_writer(&mut *w, value).context("serializing an output row")?;
    w.write_all(b"\n").context("writing output files")
}
