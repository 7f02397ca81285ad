//! Real servers for integration tests: ClickHouse (the real engine through the chDB adapter
//! in `tests/chdb_server/`, or the server `CLICKHOUSE_URL` points at) and Kafka (a tansu 0.6.0
//! broker with in-memory storage, see `docs/test-broker.md`, or the Kafka `KAFKA_BOOTSTRAP`
//! points at).
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

use std::time::{Duration, Instant};

/// A tansu Kafka broker (in-memory storage, so every broker starts empty); killed when dropped.
pub struct Broker {
    /// Its `bootstrap.servers` value, `127.0.0.1:PORT`.
    pub bootstrap: String,
    /// Its port (to restart it on the same one).
    pub port: u16,
    child: Child,
}

impl Broker {
    /// Starts a broker on a free loopback port, its output appended to `log` (one log per broker),
    /// and waits until it accepts connections.
    pub fn start(log: &Path) -> Broker {
        // Picking a port and then letting tansu bind it races with other processes; tansu exits
        // at once when the port was taken, so try a few ports.
        for _ in 0..3 {
            if let Some(broker) = Broker::try_start(log) {
                return broker;
            }
        }
        panic!(
            "tansu exited before it was ready, three times (log in {}); ./scripts/tansu.sh installs the right one (0.6.0 with dynostore)",
            log.display()
        );
    }

    /// One attempt: `None` if tansu exited before it was ready.
    fn try_start(log: &Path) -> Option<Broker> {
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free loopback port").port();
        let url = format!("tcp://127.0.0.1:{port}");
        let out = std::fs::OpenOptions::new().create(true).append(true).open(log).expect("tansu log");
        let logged = out.metadata().map_or(0, |m| m.len());
        let mut cmd = Command::new(tansu_binary());
        cmd.args(["broker", "--storage-engine", "memory://tansu/", "--listener-url", &url, "--advertised-listener-url", &url])
            // Quiet: at debug level tansu logs megabytes per test.
            .env("RUST_LOG", "warn")
            // tansu reads these too; a stray one would change the broker.
            .env_remove("SCHEMA_REGISTRY")
            .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("tansu log"))
            .stderr(out);
        let mut child = match spawn_tied(cmd) {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                panic!("tansu is not installed ({e}); install tansu 0.6.0 with ./scripts/tansu.sh (or set TANSU to its path)")
            }
            Err(e) => panic!("tansu did not start: {e}"),
        };
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if child.try_wait().expect("tansu status").is_some() {
                return None;
            }
            // Connecting alone could reach whoever took the port; tansu prints "ready in" once bound.
            if std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() && logged_since(log, logged).contains("ready in") {
                return Some(Broker { bootstrap: format!("127.0.0.1:{port}"), port, child });
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("tansu did not accept connections on port {port} within 20 s (log in {})", log.display());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the process at once, as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The Kafka bootstrap servers shared by a test binary: `KAFKA_BOOTSTRAP` (a real Kafka) if set
/// and not empty, or a tansu broker started once.
pub fn kafka_bootstrap() -> &'static str {
    static BOOTSTRAP: OnceLock<String> = OnceLock::new();
    static BROKER: OnceLock<(Broker, tempfile::TempDir)> = OnceLock::new();
    BOOTSTRAP.get_or_init(|| {
        if let Some(bootstrap) = std::env::var("KAFKA_BOOTSTRAP").ok().filter(|b| !b.is_empty()) {
            return bootstrap;
        }
        let (broker, _) = BROKER.get_or_init(|| {
            let dir = tempfile::tempdir().expect("a temp dir");
            (Broker::start(&dir.path().join("tansu.log")), dir)
        });
        broker.bootstrap.clone()
    })
}

/// The tansu binary: `TANSU`, else `tansu` on `PATH`, else `~/.cargo/bin/tansu` (where
/// `./scripts/tansu.sh` installs it).
fn tansu_binary() -> std::path::PathBuf {
    if let Some(path) = std::env::var_os("TANSU").filter(|p| !p.is_empty()) {
        return path.into();
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| std::env::split_paths(&paths).map(|d| d.join("tansu")).find(|p| p.is_file()));
    on_path.or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo/bin/tansu"))).unwrap_or_else(|| "tansu".into())
}

/// What `log` gained after its first `from` bytes.
fn logged_since(log: &Path, from: u64) -> String {
    let bytes = std::fs::read(log).unwrap_or_default();
    String::from_utf8_lossy(bytes.get(from as usize..).unwrap_or_default()).into_owned()
}

/// Spawns `cmd` so that it is killed when this process dies, even by SIGKILL, so no broker
/// outlives an interrupted test run (statics, like the shared broker, are never dropped).
///
/// `PR_SET_PDEATHSIG` fires when the *thread* that spawned the child exits, and libtest runs each
/// test on its own thread, so every spawn happens on one thread that lives as long as the process.
#[cfg(target_os = "linux")]
fn spawn_tied(mut cmd: Command) -> std::io::Result<Child> {
    use std::os::unix::process::CommandExt;
    use std::sync::mpsc::{channel, Sender};

    // From the C library std already links (no `libc` crate needed).
    unsafe extern "C" {
        fn prctl(option: std::ffi::c_int, ...) -> std::ffi::c_int;
    }
    const PR_SET_PDEATHSIG: std::ffi::c_int = 1;
    const SIGKILL: std::ffi::c_ulong = 9;

    type Job = (Command, Sender<std::io::Result<Child>>);
    static SPAWNER: OnceLock<Sender<Job>> = OnceLock::new();

    // SAFETY: runs between fork and exec, where only async-signal-safe calls are allowed;
    // prctl is a plain system call that touches no memory of ours.
    unsafe {
        cmd.pre_exec(|| if prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 { Err(std::io::Error::last_os_error()) } else { Ok(()) });
    }
    let spawner = SPAWNER.get_or_init(|| {
        let (jobs, rx) = channel::<Job>();
        std::thread::Builder::new()
            .name("server-spawner".into())
            .spawn(move || {
                for (mut cmd, reply) in rx {
                    let _ = reply.send(cmd.spawn());
                }
            })
            .expect("the spawner thread");
        jobs
    });
    let (reply, child) = channel();
    spawner.send((cmd, reply)).expect("the spawner thread is alive");
    child.recv().expect("the spawner thread replies")
}

/// Elsewhere the child is only killed by `Drop`, so an interrupted run can leave it running.
#[cfg(not(target_os = "linux"))]
fn spawn_tied(mut cmd: Command) -> std::io::Result<Child> {
    cmd.spawn()
}
