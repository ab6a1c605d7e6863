//! One process per store file: an exclusive lock on a file beside it, held while the
//! store is open, naming the holder's pid. Two servers on one data directory would both
//! fire every task; the second one refuses to start instead.
//!
//! The operating system releases the lock when the holder exits, however it exits
//! (`kill -9` included), so a stale lock file never blocks a restart.

use std::fs::{File, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::error::StoreError;

/// The held lock; dropping it releases it.
#[derive(Debug)]
pub(crate) struct StoreLock {
    _file: File,
}

/// The lock file of the store file at `db`: `<db>.lock` in the same directory.
pub(crate) fn lock_path(db: &Path) -> PathBuf {
    let mut name = db.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    db.with_file_name(name)
}

impl StoreLock {
    /// Takes the lock of the store file at `db` and writes this process's pid into it;
    /// fails naming the holder's pid when another process holds it.
    pub(crate) fn acquire(db: &Path) -> Result<Self, StoreError> {
        let path = lock_path(db);
        let io = |what: &str, e: std::io::Error| {
            StoreError::Unavailable(format!("{what} {}: {e}", path.display()))
        };
        let mut file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| io("opening the lock file", e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                // The holder's pid is informative only: a read failure leaves it unknown.
                let _ = file.read_to_string(&mut holder);
                let holder = match holder.trim() {
                    "" => "unknown".to_string(),
                    pid => pid.to_string(),
                };
                return Err(StoreError::Unavailable(format!(
                    "{} is in use by another taskcenter process (pid {holder}); lock file {}",
                    db.display(),
                    path.display()
                )));
            }
            Err(TryLockError::Error(e)) => return Err(io("locking", e)),
        }
        file.set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| writeln!(file, "{}", std::process::id()))
            .map_err(|e| io("writing the pid into", e))?;
        Ok(Self { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_fails_naming_the_holder_until_the_first_is_dropped() {
        let dir = crate::fixtures::temp_dir();
        let db = dir.path().join("t.db");
        let held = StoreLock::acquire(&db).expect("first lock");
        let pid = std::fs::read_to_string(lock_path(&db)).expect("lock file");
        assert_eq!(pid.trim(), std::process::id().to_string());
        let err = StoreLock::acquire(&db).expect_err("second lock");
        let text = err.to_string();
        assert!(
            text.contains(&format!("pid {}", std::process::id())),
            "{text}"
        );
        drop(held);
        StoreLock::acquire(&db).expect("free again");
    }
}
