//! Real servers for integration tests: ClickHouse (the real engine through the chDB adapter
//! in `tests/chdb_server/`, or the server `CLICKHOUSE_URL` points at).
//!
//! A missing server is a failure, never a skip: `./scripts/test.sh` installs what is needed.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

/// A chDB adapter process; killed when dropped.
pub struct Adapter {
    /// Its base URL.
    pub url: String,
    /// Its port (to restart it on the same one).
    pub port: u16,
    child: Child,
}

impl Adapter {
    /// Starts the adapter on `port` (0: a free one) with its data in `data`.
    pub fn start(port: u16, data: &Path) -> Adapter {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/chdb_server/server.py");
        let log = std::fs::OpenOptions::new().create(true).append(true).open(data.with_extension("log")).expect("adapter log");
        let mut child = Command::new("python3")
            .arg(script)
            .args(["--port", &port.to_string(), "--exit-with-parent", "--data"])
            .arg(data)
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("python3 must be installed to run the ClickHouse adapter (./scripts/test.sh installs it)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped stdout")).read_line(&mut line).expect("adapter output");
        let Some(addr) = line.trim().strip_prefix("listening on ") else {
            let _ = child.kill();
            panic!(
                "the chDB adapter did not start ({line:?}, log in {}); install its packages: python3 -m pip install -r tests/chdb_server/requirements.txt",
                data.with_extension("log").display()
            );
        };
        let port = addr.rsplit(':').next().and_then(|p| p.parse().ok()).expect("a port");
        Adapter { url: format!("http://{addr}"), port, child }
    }

    /// Kills the process at once, as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Adapter {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The ClickHouse URL shared by a test binary: `CLICKHOUSE_URL`, or an adapter started once.
pub fn clickhouse_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    static ADAPTER: OnceLock<(Adapter, tempfile::TempDir)> = OnceLock::new();
    URL.get_or_init(|| {
        if let Ok(url) = std::env::var("CLICKHOUSE_URL") {
            return url;
        }
        let (adapter, _) = ADAPTER.get_or_init(|| {
            let dir = tempfile::tempdir().expect("a temp dir");
            (Adapter::start(0, dir.path()), dir)
        });
        adapter.url.clone()
    })
}

/// A database name unique to one test and process, so tests never see each other's rows.
pub fn database(test: &str) -> String {
    format!("qp_{test}_{}", std::process::id())
}
