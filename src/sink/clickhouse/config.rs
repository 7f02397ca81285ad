//! Where ClickHouse is and how to log in.

use anyhow::{Context, Result};
use clickhouse::Client;
use serde::Deserialize;
use std::time::Duration;

/// The `[clickhouse]` config section; command-line flags and `QP_CLICKHOUSE_*` variables override it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClickHouseSettings {
    /// HTTP endpoint, e.g. `http://127.0.0.1:8123`.
    pub url: String,
    /// Database holding the tables (created by `migrate`).
    pub database: String,
    /// User name.
    pub user: String,
    /// Password (prefer `QP_CLICKHOUSE_PASSWORD` to writing it in a file).
    pub password: String,
    /// Apply pending migrations when `run` starts.
    pub migrate_on_start: bool,
}

impl Default for ClickHouseSettings {
    fn default() -> Self {
        ClickHouseSettings {
            url: "http://127.0.0.1:8123".into(),
            database: "quality".into(),
            user: "default".into(),
            password: String::new(),
            migrate_on_start: true,
        }
    }
}

impl ClickHouseSettings {
    /// Applies the `QP_CLICKHOUSE_*` environment variables on top of the file's values.
    pub fn with_env(mut self) -> Self {
        for (var, field) in [
            ("QP_CLICKHOUSE_URL", &mut self.url),
            ("QP_CLICKHOUSE_DATABASE", &mut self.database),
            ("QP_CLICKHOUSE_USER", &mut self.user),
            ("QP_CLICKHOUSE_PASSWORD", &mut self.password),
        ] {
            if let Ok(v) = std::env::var(var) {
                *field = v;
            }
        }
        self
    }

    /// The settings for the startup log line: the password masked, as are credentials in the URL.
    pub fn redacted(&self) -> String {
        let url = match self.url.split_once("://") {
            Some((scheme, rest)) => match rest.split_once('@') {
                Some((_, host)) => format!("{scheme}://***@{host}"),
                None => self.url.clone(),
            },
            None => self.url.clone(),
        };
        let password = if self.password.is_empty() { "(none)" } else { "***" };
        format!("url={url} database={} user={} password={password} migrate_on_start={}", self.database, self.user, self.migrate_on_start)
    }

    /// A client for the server, without a database (to create it).
    pub fn server_client(&self) -> Client {
        Client::default().with_url(&self.url).with_user(&self.user).with_password(&self.password)
    }

    /// A client for the pipeline's database.
    pub fn client(&self) -> Client {
        self.server_client().with_database(&self.database)
    }

    /// Fails fast, with what to check, when the server does not answer.
    pub async fn check_reachable(&self) -> Result<()> {
        let ping = self.server_client().query("SELECT 1").fetch_one::<u8>();
        match tokio::time::timeout(Duration::from_secs(10), ping).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(e).with_context(|| self.unreachable()),
            Err(_) => Err(anyhow::anyhow!("no answer within 10 s")).with_context(|| self.unreachable()),
        }
    }

    fn unreachable(&self) -> String {
        format!(
            "cannot reach ClickHouse at {}; check that it runs and set --clickhouse-url / QP_CLICKHOUSE_URL (and QP_CLICKHOUSE_USER / QP_CLICKHOUSE_PASSWORD)",
            self.url
        )
    }
}

#[cfg(test)]
mod tests {
    use super::ClickHouseSettings;

    #[test]
    fn the_log_line_hides_the_password() {
        let s = ClickHouseSettings { password: "s3cret".into(), url: "http://admin:pw@ch:8123".into(), ..ClickHouseSettings::default() };
        let line = s.redacted();
        assert!(!line.contains("s3cret") && !line.contains("pw@"), "{line}");
        assert!(line.contains("password=***") && line.contains("http://***@ch:8123"), "{line}");
    }
}
