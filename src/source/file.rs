//! NDJSON from a file or stdin (`-`): one event per line, blank lines ignored.

use anyhow::{Context, Result};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

/// Reads NDJSON lines as bytes, remembering the line number for dead letters.
pub struct FileSource {
    name: String,
    reader: Box<dyn BufRead + Send>,
    line: u64,
    buf: Vec<u8>,
}

impl FileSource {
    /// Opens a path, or stdin for `-`.
    pub fn open(path: &Path) -> Result<FileSource> {
        let (name, reader): (String, Box<dyn Read + Send>) = if path == Path::new("-") {
            ("stdin".into(), Box::new(io::stdin()))
        } else {
            let f = File::open(path).with_context(|| format!("cannot open event file {}; pass an NDJSON file or - for stdin", path.display()))?;
            (path.display().to_string(), Box::new(f))
        };
        Ok(FileSource { name, reader: Box::new(BufReader::with_capacity(1 << 20, reader)), line: 0, buf: Vec::with_capacity(1024) })
    }

    /// The path this source reads (for messages).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The next non-blank line (its 1-based line number and bytes without the line ending), or `None` at end of input.
    pub fn next_line(&mut self) -> Result<Option<(u64, &[u8])>> {
        loop {
            self.buf.clear();
            let n = self.reader.read_until(b'\n', &mut self.buf).with_context(|| format!("reading {}", self.name))?;
            if n == 0 {
                return Ok(None);
            }
            self.line += 1;
            while matches!(self.buf.last(), Some(b'\n' | b'\r')) {
                self.buf.pop();
            }
            if !self.buf.iter().all(u8::is_ascii_whitespace) {
                return Ok(Some((self.line, &self.buf)));
            }
        }
    }
}
