//! Ordered, idempotent schema migrations, embedded from `clickhouse/*.sql`.

use super::ClickHouseSettings;
use anyhow::{Context, Result};

/// Every migration: version, name, SQL (statements separated by `;` at line ends).
pub const MIGRATIONS: &[(u32, &str, &str)] = &[
    (1, "tables", include_str!("../../../clickhouse/0001_tables.sql")),
    (2, "views", include_str!("../../../clickhouse/0002_views.sql")),
    (3, "stream", include_str!("../../../clickhouse/0003_stream.sql")),
    (4, "actions", include_str!("../../../clickhouse/0004_actions.sql")),
    (5, "versions", include_str!("../../../clickhouse/0005_versions.sql")),
    (6, "incentives", include_str!("../../../clickhouse/0006_incentives.sql")),
    (7, "entities", include_str!("../../../clickhouse/0007_entities.sql")),
    (8, "questions", include_str!("../../../clickhouse/0008_questions.sql")),
    (9, "excluded", include_str!("../../../clickhouse/0009_excluded.sql")),
];

/// The statements of a migration file, without comments.
fn statements(sql: &str) -> Vec<String> {
    let code: String = sql.lines().filter(|l| !l.trim_start().starts_with("--")).collect::<Vec<_>>().join("\n");
    code.split(';').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// Creates the database and applies the migrations not applied yet; returns how many ran.
pub async fn migrate(settings: &ClickHouseSettings) -> Result<usize> {
    settings.check_reachable().await?;
    let db = &settings.database;
    settings
        .server_client()
        .query(&format!("CREATE DATABASE IF NOT EXISTS `{db}`"))
        .execute()
        .await
        .with_context(|| format!("creating database {db}"))?;
    let client = settings.client();
    client
        .query("CREATE TABLE IF NOT EXISTS schema_migrations (version UInt32, name String, applied_at DateTime DEFAULT now()) ENGINE = ReplacingMergeTree ORDER BY version")
        .execute()
        .await
        .context("creating schema_migrations")?;
    let applied: Vec<u32> =
        client.query("SELECT version FROM schema_migrations FINAL ORDER BY version").fetch_all().await.context("reading schema_migrations")?;
    let mut ran = 0;
    for (version, name, sql) in MIGRATIONS {
        if applied.contains(version) {
            continue;
        }
        for statement in statements(sql) {
            client.query(&statement).execute().await.with_context(|| format!("migration {version:04}_{name}: {statement}"))?;
        }
        client
            .query("INSERT INTO schema_migrations (version, name) VALUES (?, ?)")
            .bind(*version)
            .bind(*name)
            .execute()
            .await
            .with_context(|| format!("recording migration {version:04}_{name}"))?;
        tracing::info!(version, name, database = %db, "applied migration");
        ran += 1;
    }
    Ok(ran)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_ordered_and_split_into_statements() {
        let versions: Vec<u32> = MIGRATIONS.iter().map(|m| m.0).collect();
        assert!(versions.windows(2).all(|w| w[0] < w[1]));
        let tables = statements(MIGRATIONS[0].2);
        assert_eq!(tables.len(), 7, "{tables:#?}");
        assert!(tables.iter().all(|s| s.starts_with("CREATE TABLE IF NOT EXISTS")));
        assert!(statements("-- only a comment;\n").is_empty());
    }
}
