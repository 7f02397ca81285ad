//! Web helpers for the report tests: a headless Chromium (Debian package `chromium`; a missing
//! browser is a failure, never a skip), a plain HTTP GET, and a reader of the figures an HTML
//! report carries in its `data-metric` / `data-field` / `data-value` attributes.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The Chromium binary: `CHROMIUM`, else `chromium`, `chromium-headless-shell` or
/// `chromium-browser` on `PATH`. Panics with what to install when there is none.
pub fn chromium() -> PathBuf {
    if let Some(path) = std::env::var_os("CHROMIUM").filter(|p| !p.is_empty()) {
        return path.into();
    }
    let paths = std::env::var_os("PATH").unwrap_or_default();
    for name in ["chromium", "chromium-headless-shell", "chromium-browser"] {
        if let Some(p) = std::env::split_paths(&paths).map(|d| d.join(name)).find(|p| p.is_file()) {
            return p;
        }
    }
    panic!("Chromium is not installed; run ./scripts/test.sh once (it installs the Debian package chromium) or set CHROMIUM to its path")
}

/// Runs headless Chromium on `url` with `args`; returns its stdout. Fails after 120 s.
pub fn headless(url: &str, args: &[&str]) -> String {
    let profile = tempfile::tempdir().expect("a temp dir");
    let mut child = Command::new(chromium())
        .args(["--headless", "--disable-gpu", "--no-sandbox", "--hide-scrollbars", "--no-first-run", "--disable-extensions"])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start Chromium ({}): {e}", chromium().display()));
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().expect("Chromium status") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("Chromium did not finish within 120 s:\n{}", err.join().unwrap_or_default());
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let (out, err) = (out.join().unwrap_or_default(), err.join().unwrap_or_default());
    assert!(status.success(), "Chromium failed ({status}):\n{err}");
    out
}

/// The DOM of a page after Chromium rendered it.
pub fn dump_dom(page: &Path) -> String {
    let dom = headless(&format!("file://{}", page.display()), &["--dump-dom"]);
    assert!(dom.contains("</html>"), "no DOM from Chromium:\n{dom}");
    dom
}

/// A PNG screenshot of a page, 1280 x 2000 CSS pixels, written to `png`.
pub fn screenshot(page: &Path, png: &Path) {
    let _ = std::fs::remove_file(png);
    headless(&format!("file://{}", page.display()), &[&format!("--screenshot={}", png.display()), "--window-size=1280,2000"]);
}

/// One figure of an HTML report: the attributes of its element and its text.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub attrs: BTreeMap<String, String>,
    pub text: String,
}

impl Figure {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.get(name).map(String::as_str)
    }
}

/// Every element with a `data-field` attribute, in document order, with the text up to the
/// next tag (figures are leaf elements). Quote-aware, entities decoded.
pub fn figures(html: &str) -> Vec<Figure> {
    let b = html.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(open) = html[i..].find('<').map(|k| i + k) {
        // The end of the tag: the first '>' outside quotes.
        let (mut j, mut quote) = (open + 1, None);
        while j < b.len() {
            match (quote, b[j]) {
                (None, b'"' | b'\'') => quote = Some(b[j]),
                (Some(q), c) if c == q => quote = None,
                (None, b'>') => break,
                _ => {}
            }
            j += 1;
        }
        let tag = &html[open + 1..j.min(html.len())];
        i = (j + 1).min(html.len());
        if tag.starts_with('/') || tag.starts_with('!') || !tag.contains("data-field") {
            continue;
        }
        let attrs = attributes(tag);
        let text_end = html[i..].find('<').map_or(html.len(), |k| i + k);
        out.push(Figure { attrs, text: decode(&html[i..text_end]) });
    }
    out
}

fn attributes(tag: &str) -> BTreeMap<String, String> {
    let mut attrs = BTreeMap::new();
    let rest = tag.split_once(char::is_whitespace).map_or("", |(_, r)| r);
    let mut chars = rest.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        if c.is_whitespace() || c == '/' {
            continue;
        }
        let mut end = start + c.len_utf8();
        while let Some(&(k, c)) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            end = k + c.len_utf8();
            chars.next();
        }
        let name = rest[start..end].to_ascii_lowercase();
        let mut value = String::new();
        if chars.peek().is_some_and(|&(_, c)| c == '=') {
            chars.next();
            match chars.peek().map(|&(_, c)| c) {
                Some(q @ ('"' | '\'')) => {
                    chars.next();
                    for (_, c) in chars.by_ref() {
                        if c == q {
                            break;
                        }
                        value.push(c);
                    }
                }
                _ => {
                    while let Some(&(_, c)) = chars.peek() {
                        if c.is_whitespace() {
                            break;
                        }
                        value.push(c);
                        chars.next();
                    }
                }
            }
        }
        attrs.insert(name, decode(&value));
    }
    attrs
}

/// Decodes the entities an HTML serializer writes.
pub fn decode(s: &str) -> String {
    s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").replace("&nbsp;", "\u{a0}").replace("&amp;", "&")
}

/// The response of an HTTP/1.1 GET: status code, head and body.
pub struct Response {
    pub status: u16,
    pub head: String,
    pub body: String,
}

/// `GET path` on `addr` (`host:port`), with extra header lines.
pub fn get(addr: &str, path: &str, headers: &[&str]) -> Response {
    let mut s = std::net::TcpStream::connect(addr).unwrap_or_else(|e| panic!("cannot connect to {addr}: {e}"));
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n");
    for h in headers {
        req.push_str(h);
        req.push_str("\r\n");
    }
    req.push_str("Connection: close\r\n\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let raw = String::from_utf8(raw).expect("a UTF-8 response");
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or_else(|| panic!("no status line: {head}"));
    Response { status, head: head.to_owned(), body: body.to_owned() }
}
