//! Picks a backend from a store URL.

use std::path::Path;
use std::sync::Arc;

use crate::error::StoreError;
use crate::traits::Store;

/// Opens the store named by `url`, or the embedded store under `data_dir` when `url` is
/// `None`. `sqlite:PATH` and bare paths mean the embedded store; `postgres://` and
/// `postgresql://` PostgreSQL.
pub async fn open(url: Option<&str>, data_dir: &Path) -> Result<Arc<dyn Store>, StoreError> {
    let url = url.unwrap_or("");
    let (scheme, rest) = match url.split_once(':') {
        Some((s, r)) if !s.contains('/') && s.len() > 1 => (s, r),
        _ => ("sqlite", url),
    };
    match scheme {
        "sqlite" => open_sqlite(rest.trim_start_matches("//"), data_dir).await,
        "postgres" | "postgresql" => open_postgres(url).await,
        _ => Err(StoreError::BadUrl(url.into())),
    }
}

#[cfg(feature = "postgres")]
async fn open_postgres(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    Ok(Arc::new(crate::postgres::PgStore::open(url).await?))
}

#[cfg(not(feature = "postgres"))]
async fn open_postgres(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    let scheme = url.split_once(':').map_or(url, |(s, _)| s);
    Err(StoreError::NotBuilt {
        scheme: scheme.into(),
        feature: "postgres",
    })
}

#[cfg(feature = "sqlite")]
async fn open_sqlite(path: &str, data_dir: &Path) -> Result<Arc<dyn Store>, StoreError> {
    let file = if path.is_empty() {
        data_dir.join("taskcenter.db")
    } else {
        Path::new(path).to_path_buf()
    };
    Ok(Arc::new(crate::sqlite::SqliteStore::open(&file).await?))
}

#[cfg(not(feature = "sqlite"))]
async fn open_sqlite(_path: &str, _data_dir: &Path) -> Result<Arc<dyn Store>, StoreError> {
    Err(StoreError::NotBuilt {
        scheme: "sqlite".into(),
        feature: "sqlite",
    })
}
