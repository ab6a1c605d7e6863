//! Room to recover from a full disk.
//!
//! Committed writes wait in the WAL until a checkpoint copies them into the database
//! file, which grows by as much first; only then can the WAL be emptied. So a store that
//! filled its disk with a large WAL backlog needs that much free space again before any
//! write can commit. The store keeps that room aside in a reserve file (allocated, not
//! sparse) beside the database: at the first write that fails for want of storage it
//! gives the reserve back, checkpoints and empties the WAL, and goes on in low-space mode
//! (a small WAL, checkpointed often), where freeing a few MB is enough to write again.
//! The reserve is taken again, and the normal WAL limits restored, once the disk has
//! room for it twice over.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use rusqlite::Connection;
use rustix::fs::{FallocateFlags, fallocate, statvfs};

/// WAL pages between checkpoints in low-space mode (about 512 KiB of 2 KiB pages).
const LOW_SPACE_CHECKPOINT_PAGES: i64 = 256;

/// Size the WAL file is cut back to after a checkpoint in low-space mode.
const LOW_SPACE_WAL_BYTES: i64 = 1 << 20;

/// The reserve file and the mode it implies.
#[derive(Debug)]
pub(crate) struct Space {
    path: PathBuf,
    bytes: u64,
    normal_checkpoint_pages: i64,
    /// The reserve is held (normal mode).
    held: AtomicBool,
}

impl Space {
    /// The reserve of the store file at `db`: `<db>.reserve`, `bytes` long (0: none).
    pub(crate) fn new(db: &Path, bytes: u64, normal_checkpoint_pages: i64) -> Self {
        let mut name = db.file_name().unwrap_or_default().to_os_string();
        name.push(".reserve");
        Self {
            path: db.with_file_name(name),
            bytes,
            normal_checkpoint_pages,
            held: AtomicBool::new(false),
        }
    }

    /// Whether the reserve is held (or none is wanted).
    pub(crate) fn held(&self) -> bool {
        self.bytes == 0 || self.held.load(Ordering::Relaxed)
    }

    /// Takes the reserve if the disk has room for it twice over; answers whether it is
    /// held now. Never fills the disk: the free space is checked first.
    pub(crate) fn take(&self) -> bool {
        if self.held() {
            return true;
        }
        let room = statvfs(self.path.parent().unwrap_or(Path::new(".")))
            .map(|s| s.f_bavail.saturating_mul(s.f_frsize))
            .unwrap_or(0);
        let existing = std::fs::metadata(&self.path).map_or(0, |m| m.len());
        if room.saturating_add(existing) < self.bytes.saturating_mul(2) {
            return false;
        }
        let taken = File::options()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&self.path)
            .and_then(|file| {
                fallocate(&file, FallocateFlags::empty(), 0, self.bytes)?;
                file.sync_all()
            });
        match taken {
            Ok(()) => {
                self.held.store(true, Ordering::Relaxed);
                true
            }
            Err(err) => {
                tracing::warn!(%err, path = %self.path.display(), "cannot take the disk reserve");
                let _ = std::fs::remove_file(&self.path);
                false
            }
        }
    }

    /// Gives the reserve back to the file system; answers whether it was held.
    pub(crate) fn release(&self) -> bool {
        if self.bytes == 0 || !self.held.swap(false, Ordering::Relaxed) {
            return false;
        }
        if let Err(err) = std::fs::remove_file(&self.path) {
            tracing::warn!(%err, path = %self.path.display(), "cannot remove the disk reserve");
        }
        true
    }

    /// Sets the WAL limits of the mode the reserve implies on the write connection.
    pub(crate) fn set_wal_limits(&self, conn: &Connection) -> rusqlite::Result<()> {
        let (pages, wal_bytes) = if self.held() {
            (self.normal_checkpoint_pages, -1)
        } else {
            (LOW_SPACE_CHECKPOINT_PAGES, LOW_SPACE_WAL_BYTES)
        };
        conn.pragma_update(None, "wal_autocheckpoint", pages)?;
        conn.query_row(
            &format!("PRAGMA journal_size_limit = {wal_bytes}"),
            [],
            |_| Ok(()),
        )
    }
}

/// After a write failed for want of storage: gives the reserve back (once), copies the
/// WAL into the database and empties it, and keeps the WAL small from then on.
pub(crate) fn recover(space: &Space, conn: &Connection) {
    if space.release() {
        tracing::warn!(
            "disk full: gave the disk reserve back; the store runs with a small WAL \
             until the disk has room for the reserve again"
        );
        if let Err(err) = space.set_wal_limits(conn) {
            tracing::warn!(%err, "cannot set the low-space WAL limits");
        }
    }
    let done = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| {
        row.get::<_, i64>(0)
    });
    tracing::debug!(?done, "checkpoint after a failed write");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_reserve_when_none_is_wanted_or_the_disk_lacks_room() {
        let dir = crate::fixtures::temp_dir();
        let none = Space::new(&dir.path().join("a.db"), 0, 100);
        assert!(none.take() && none.held() && !none.release());
        let huge = Space::new(&dir.path().join("b.db"), u64::MAX / 4, 100);
        assert!(!huge.take(), "more than the disk has");
        assert!(
            !dir.path().join("b.db.reserve").exists(),
            "nothing left behind"
        );
    }
}
