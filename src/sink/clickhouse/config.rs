//! Where ClickHouse is and how to log in.
//!
//! `https://` URLs use TLS (rustls, with the Mozilla root certificates built in: no system
//! library or CA bundle needed). The client crate takes no custom CA, so a server whose
//! certificate is signed by a private CA is not supported yet; see README.md, "Security".

use anyhow::{Context, Result};
use clickhouse::Client;
use serde::Deserialize;
use std::fmt;
use std::time::Duration;

/// The `[clickhouse]` config section; command-line flags and `QP_CLICKHOUSE_*` variables override it.
/// `Debug` masks the password and URL credentials, like [`ClickHouseSettings::redacted`].
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClickHouseSettings {
    /// HTTP endpoint, e.g. `http://127.0.0.1:8123`, or `https://ch.example.com:8443` for TLS.
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
    /// Applies the `QP_CLICKHOUSE_*` environment variables on top of the file's values: the
    /// environment wins, so that the password can stay out of files.
    pub fn with_env(self) -> Self {
        self.with_env_from(|var| std::env::var(var).ok())
    }

    /// [`ClickHouseSettings::with_env`] with the variables looked up by `get` (tests pass a map).
    pub fn with_env_from(mut self, get: impl Fn(&str) -> Option<String>) -> Self {
        for (var, field) in [
            ("QP_CLICKHOUSE_URL", &mut self.url),
            ("QP_CLICKHOUSE_DATABASE", &mut self.database),
            ("QP_CLICKHOUSE_USER", &mut self.user),
            ("QP_CLICKHOUSE_PASSWORD", &mut self.password),
        ] {
            if let Some(v) = get(var) {
                *field = v;
            }
        }
        self
    }

    /// The URL with any credentials in it (`user:password@`) masked, for logs and errors.
    pub fn redacted_url(&self) -> String {
        match self.url.split_once("://") {
            Some((scheme, rest)) => match rest.split_once('@') {
                Some((_, host)) => format!("{scheme}://***@{host}"),
                None => self.url.clone(),
            },
            None => self.url.clone(),
        }
    }

    /// The settings for the startup log line: the password masked, as are credentials in the URL.
    pub fn redacted(&self) -> String {
        format!(
            "url={} database={} user={} password={} migrate_on_start={}",
            self.redacted_url(),
            self.database,
            self.user,
            self.masked_password(),
            self.migrate_on_start
        )
    }

    fn masked_password(&self) -> &'static str {
        if self.password.is_empty() {
            "(none)"
        } else {
            "***"
        }
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
            self.redacted_url()
        )
    }
}

impl fmt::Debug for ClickHouseSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClickHouseSettings")
            .field("url", &self.redacted_url())
            .field("database", &self.database)
            .field("user", &self.user)
            .field("password", &self.masked_password())
            .field("migrate_on_start", &self.migrate_on_start)
            .finish()
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
        for text in [format!("{s:?}"), format!("{s:#?}"), s.unreachable()] {
            assert!(!text.contains("s3cret") && !text.contains("pw@"), "{text}");
        }
        assert!(format!("{s:?}").contains("password: \"***\""), "{s:?}");
        assert!(ClickHouseSettings::default().redacted().contains("password=(none)"));
    }

    #[test]
    fn the_environment_wins_over_the_file() {
        let file = ClickHouseSettings { user: "file-user".into(), password: "file-pw".into(), ..ClickHouseSettings::default() };
        let vars = [("QP_CLICKHOUSE_USER", "env-user"), ("QP_CLICKHOUSE_PASSWORD", "env-pw")];
        let s = file.clone().with_env_from(|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string()));
        assert_eq!((s.user.as_str(), s.password.as_str()), ("env-user", "env-pw"));
        assert_eq!(s.url, file.url, "unset variables keep the file's values");
        let s = file.with_env_from(|_| None);
        assert_eq!((s.user.as_str(), s.password.as_str()), ("file-user", "file-pw"));
    }
}
