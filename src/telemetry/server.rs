//! A minimal HTTP/1.1 endpoint for `/metrics`, `/healthz` and `/readyz` (GET only), and
//! `/reports/{seller}/{week}` when the run writes to ClickHouse.

use super::metrics;
use crate::report::weekly::ReportService;
use anyhow::{Context, Result};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Readiness, set by the runner: connected, partitions assigned and caught up within the allowed lag.
#[derive(Debug, Default)]
pub struct Health {
    ready: AtomicBool,
}

impl Health {
    /// Sets readiness.
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::Relaxed);
    }

    /// Whether `/readyz` answers 200.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Relaxed)
    }
}

/// Binds `addr` and serves the endpoints until the runtime stops; returns the bound address.
pub async fn serve(addr: &str, health: Arc<Health>) -> Result<SocketAddr> {
    serve_with_reports(addr, health, None).await
}

/// [`serve`], plus `/reports/{seller}/{week}` when `reports` is given (a run writing to
/// ClickHouse). Fails, before serving anything, when the bound address is not loopback and
/// no reports token is set.
pub async fn serve_with_reports(addr: &str, health: Arc<Health>, reports: Option<Arc<ReportService>>) -> Result<SocketAddr> {
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr} for /metrics; choose another --metrics-addr (or 127.0.0.1:0 for any free port)"))?;
    let bound = listener.local_addr()?;
    if let Some(r) = &reports {
        r.check_exposure(bound)?;
    }
    let also = if reports.is_some() { " and /reports/{seller}/{week}" } else { "" };
    tracing::info!(address = %bound, "serving /metrics, /healthz and /readyz{also}");
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            tokio::spawn(answer(stream, health.clone(), reports.clone()));
        }
    });
    Ok(bound)
}

async fn answer(mut stream: tokio::net::TcpStream, health: Arc<Health>, reports: Option<Arc<ReportService>>) {
    let mut buf = vec![0u8; 4096];
    let mut len = 0;
    while !buf[..len].windows(4).any(|w| w == b"\r\n\r\n") && len < buf.len() {
        match stream.read(&mut buf[len..]).await {
            Ok(0) | Err(_) => return,
            Ok(n) => len += n,
        }
    }
    let head = String::from_utf8_lossy(&buf[..len]);
    let mut parts = head.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = path.split('?').next().unwrap_or("");
    if let (Some(r), "GET", Some(rest)) = (&reports, method, path.strip_prefix("/reports/")) {
        let reply = r.answer(rest, &head).await;
        let mut header = format!("HTTP/1.1 {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n", reply.status, reply.content_type, reply.body.len());
        for h in &reply.headers {
            header.push_str(h);
            header.push_str("\r\n");
        }
        header.push_str("Connection: close\r\n\r\n");
        let _ = stream.write_all(header.as_bytes()).await;
        let _ = stream.write_all(&reply.body).await;
        let _ = stream.shutdown().await;
        return;
    }
    let (status, content_type, body): (&str, &str, Vec<u8>) = match (method, path) {
        ("GET", "/metrics") => ("200 OK", "text/plain; version=0.0.4; charset=utf-8", metrics().render()),
        ("GET", "/healthz") => ("200 OK", "text/plain", b"ok\n".to_vec()),
        ("GET", "/readyz") if health.is_ready() => ("200 OK", "text/plain", b"ready\n".to_vec()),
        ("GET", "/readyz") => {
            ("503 Service Unavailable", "text/plain", b"not ready: no partitions yet, or behind by more than the allowed lag\n".to_vec())
        }
        ("GET", _) => ("404 Not Found", "text/plain", b"try /metrics, /healthz or /readyz\n".to_vec()),
        _ => ("405 Method Not Allowed", "text/plain", b"only GET\n".to_vec()),
    };
    let header = format!("HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
    let _ = stream.write_all(header.as_bytes()).await;
    let _ = stream.write_all(&body).await;
    let _ = stream.shutdown().await;
}
