//! A fresh PostgreSQL database for one W5 run, so every run starts from an empty store:
//! made (and an older one of the same name dropped) with `psql`, the server's own client.

use anyhow::{Context, bail};
use tokio::process::Command;

/// Drops and creates database `name` on the server of `url` (`postgres://…/DB`, `DB` being
/// any database to connect to), and answers the URL of the new one.
pub async fn fresh_database(url: &str, name: &str) -> anyhow::Result<String> {
    for sql in [
        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        format!("CREATE DATABASE {name}"),
    ] {
        let out = Command::new("psql")
            .args([url, "-v", "ON_ERROR_STOP=1", "-qc", &sql])
            .output()
            .await
            .context("running psql (Debian: postgresql-client)")?;
        if !out.status.success() {
            bail!(
                "psql {sql:?}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
    }
    with_database(url, name)
}

/// `url` naming database `name` instead of its own (query parameters kept).
fn with_database(url: &str, name: &str) -> anyhow::Result<String> {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let Some(rest) = base
        .strip_prefix("postgres://")
        .or_else(|| base.strip_prefix("postgresql://"))
    else {
        bail!("not a postgres:// URL: {url}");
    };
    let host = rest.split_once('/').map_or(rest, |(host, _)| host);
    let scheme = &base[..base.len() - rest.len()];
    Ok(match query {
        Some(q) => format!("{scheme}{host}/{name}?{q}"),
        None => format!("{scheme}{host}/{name}"),
    })
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_is_replaced_and_the_rest_kept() {
        let url = |u| with_database(u, "w5").expect("url");
        assert_eq!(
            url("postgres://127.0.0.1:5432/test"),
            "postgres://127.0.0.1:5432/w5"
        );
        assert_eq!(
            url("postgres://u@h/test?sslmode=disable"),
            "postgres://u@h/w5?sslmode=disable"
        );
        assert_eq!(url("postgresql://h"), "postgresql://h/w5");
        assert!(with_database("sqlite:x", "w5").is_err());
    }
}
