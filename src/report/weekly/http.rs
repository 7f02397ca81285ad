//! `/reports/{seller}/{week}` on the service's HTTP endpoint: the HTML report from ClickHouse.
//!
//! Exposure rule: on a non-loopback address the route needs a bearer token, and the process
//! refuses to start without one; on loopback the token is optional, and enforced when set.

use super::stored::NoFinalRow;
use super::week::{BadWeek, IsoWeek};
use crate::sink::clickhouse::ClickHouseSettings;
use anyhow::{bail, Result};
use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

/// What serving reports needs: where the results are, the calendar's zone, and the token.
#[derive(Clone)]
pub struct ReportService {
    settings: ClickHouseSettings,
    timezone: chrono_tz::Tz,
    token: Option<String>,
}

/// An HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Status line after `HTTP/1.1 `, e.g. `200 OK`.
    pub status: &'static str,
    /// The `Content-Type`.
    pub content_type: &'static str,
    /// Further header lines (`Name: value`).
    pub headers: Vec<String>,
    /// The body.
    pub body: Vec<u8>,
}

impl Reply {
    fn text(status: &'static str, body: impl Into<String>) -> Reply {
        let mut body = body.into();
        body.push('\n');
        Reply { status, content_type: "text/plain; charset=utf-8", headers: Vec::new(), body: body.into_bytes() }
    }
}

impl ReportService {
    /// A service reading `settings`; an empty token counts as none.
    pub fn new(settings: ClickHouseSettings, timezone: chrono_tz::Tz, token: Option<String>) -> ReportService {
        ReportService { settings, timezone, token: token.filter(|t| !t.is_empty()) }
    }

    /// Whether a token is set.
    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    /// Refuses to serve reports on a non-loopback address without a token.
    pub fn check_exposure(&self, bound: SocketAddr) -> Result<()> {
        if self.token.is_none() && !bound.ip().is_loopback() {
            bail!(
                "refusing to serve /reports on {bound}, which is not a loopback address, without a token: seller reports are \
                 confidential. Set --reports-token or QP_REPORTS_TOKEN (clients send `Authorization: Bearer <token>`), or bind \
                 --metrics-addr to 127.0.0.1"
            );
        }
        Ok(())
    }

    /// Answers `GET /reports/<rest>`; `head` is the request head (for the `Authorization` header).
    pub async fn answer(&self, rest: &str, head: &str) -> Reply {
        if let Some(token) = &self.token {
            if !bearer(head).is_some_and(|given| same(given.as_bytes(), token.as_bytes())) {
                let mut r = Reply::text("401 Unauthorized", "a bearer token is required: send `Authorization: Bearer <token>` (--reports-token)");
                r.headers.push("WWW-Authenticate: Bearer realm=\"reports\"".into());
                return r;
            }
        }
        let parts: Vec<&str> = rest.split('/').collect();
        let [seller, week] = parts[..] else {
            return Reply::text("404 Not Found", "reports are at /reports/{seller}/{week}, e.g. /reports/seller-0001/2025-W10");
        };
        let Some(seller) = percent_decode(seller).filter(|s| !s.is_empty()) else {
            return Reply::text("400 Bad Request", "the seller id is not valid percent-encoded UTF-8");
        };
        let week: IsoWeek = match week.parse() {
            Ok(w) => w,
            Err(e @ BadWeek(_)) => return Reply::text("400 Bad Request", e.to_string()),
        };
        let load = super::load_clickhouse(&self.settings, &seller, week, self.timezone);
        match tokio::time::timeout(Duration::from_secs(30), load).await {
            Ok(Ok(report)) => Reply {
                status: "200 OK",
                content_type: "text/html; charset=utf-8",
                headers: vec!["Cache-Control: no-store".into()],
                body: super::render_html(&report).into_bytes(),
            },
            Ok(Err(e)) => match e.downcast_ref::<NoFinalRow>() {
                Some(missing) => Reply::text("404 Not Found", missing.to_string()),
                None => {
                    tracing::warn!(error = %format!("{e:#}"), "cannot build a report");
                    Reply::text("503 Service Unavailable", format!("cannot read the results: {e:#}"))
                }
            },
            Err(_) => Reply::text("503 Service Unavailable", "ClickHouse did not answer within 30 s"),
        }
    }
}

impl fmt::Debug for ReportService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReportService")
            .field("settings", &self.settings)
            .field("timezone", &self.timezone)
            .field("token", &self.token.as_ref().map(|_| "***"))
            .finish()
    }
}

/// The token of an `Authorization: Bearer <token>` header.
fn bearer(head: &str) -> Option<&str> {
    head.lines().skip(1).find_map(|line| {
        let (name, value) = line.split_once(':')?;
        if !name.trim().eq_ignore_ascii_case("authorization") {
            return None;
        }
        let value = value.trim();
        let (scheme, token) = value.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
    })
}

/// Compares in time independent of where the inputs differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Decodes `%XX` escapes; `None` for a broken escape or invalid UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_bearer_token() {
        let head = "GET /reports/a/2025-W10 HTTP/1.1\r\nHost: x\r\nauthorization: Bearer s3cret \r\n\r\n";
        assert_eq!(bearer(head), Some("s3cret"));
        assert_eq!(bearer("GET / HTTP/1.1\r\nAuthorization: Basic abc\r\n\r\n"), None);
        assert!(same(b"abc", b"abc") && !same(b"abc", b"abd") && !same(b"abc", b"ab"));
        assert_eq!(percent_decode("seller%2D1%20x").as_deref(), Some("seller-1 x"));
        assert_eq!(percent_decode("bad%zz"), None);
    }

    #[test]
    fn a_public_address_needs_a_token() {
        let open = ReportService::new(ClickHouseSettings::default(), chrono_tz::UTC, Some(String::new()));
        assert!(open.check_exposure("127.0.0.1:9464".parse().unwrap()).is_ok());
        assert!(open.check_exposure("[::1]:9464".parse().unwrap()).is_ok());
        let e = open.check_exposure("0.0.0.0:9464".parse().unwrap()).unwrap_err().to_string();
        assert!(e.contains("QP_REPORTS_TOKEN"), "{e}");
        let guarded = ReportService::new(ClickHouseSettings::default(), chrono_tz::UTC, Some("t".into()));
        assert!(guarded.check_exposure("0.0.0.0:9464".parse().unwrap()).is_ok());
        assert!(!format!("{guarded:?}").contains("\"t\""));
    }

    #[tokio::test]
    async fn refuses_without_the_token_before_anything_else() {
        let s = ReportService::new(ClickHouseSettings::default(), chrono_tz::UTC, Some("t".into()));
        for head in ["GET /reports/a/2025-W10 HTTP/1.1\r\n\r\n", "GET /reports/a/bad HTTP/1.1\r\nAuthorization: Bearer u\r\n\r\n"] {
            assert_eq!(s.answer("a/2025-W10", head).await.status, "401 Unauthorized");
        }
        let head = "GET /reports/a/x HTTP/1.1\r\nAuthorization: Bearer t\r\n\r\n";
        assert_eq!(s.answer("a/x", head).await.status, "400 Bad Request");
        assert_eq!(s.answer("a", head).await.status, "404 Not Found");
    }
}
