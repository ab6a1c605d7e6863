//! Reading a committed fuzz corpus, for the workspace tests that replay it (included by
//! path from crates/<crate>/tests/, so the path below is relative to such a crate).

use std::path::PathBuf;

/// The contents of a fuzz target's corpus files, sorted by name.
pub fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .collect();
    files.sort();
    assert!(files.len() >= 10, "the {target} corpus is nearly empty");
    files
        .iter()
        .map(|f| std::fs::read(f).expect("corpus file"))
        .collect()
}
