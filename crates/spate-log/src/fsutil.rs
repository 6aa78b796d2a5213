//! Small filesystem helpers with the fsync discipline the engine relies on.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::Path;

use crate::LogError;

/// Fsyncs a directory so that entries created, renamed or removed in it are durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), LogError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(LogError::io(|| {
            format!("fsyncing directory {}", dir.display())
        }))
}

/// Creates `dir` (and parents) if absent.
pub(crate) fn create_dir_all(dir: &Path) -> Result<(), LogError> {
    fs::create_dir_all(dir).map_err(LogError::io(|| format!("creating {}", dir.display())))
}

/// What becomes of a written file's pages in the OS page cache once they are durable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PageCache {
    /// Left to the OS: small files read back soon.
    Keep,
    /// Dropped (`posix_fadvise(DONTNEED)`): segment files, written once and read through the
    /// engine's own block cache. Left in the page cache they grow it by every byte ever sealed,
    /// and writing into ever-new page cache memory cost several times more CPU than writing
    /// into recycled pages (bench/RESULTS.md).
    Drop,
}

/// Writes `bytes` to `path` so that after a crash either the old or the new content is seen:
/// a temporary file is written and fsynced, renamed over `path`, and the directory fsynced.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), LogError> {
    write_atomically_with(path, bytes, PageCache::Keep)
}

/// [`write_atomically`], then does with the file's cached pages what `cache` says.
pub(crate) fn write_atomically_with(
    path: &Path,
    bytes: &[u8],
    cache: PageCache,
) -> Result<(), LogError> {
    let tmp = path.with_extension("tmp");
    let write = || -> std::io::Result<()> {
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        if cache == PageCache::Drop {
            // Advice only: a failure leaves the pages cached, which is harmless.
            let _ = rustix::fs::fadvise(&file, 0, None, rustix::fs::Advice::DontNeed);
        }
        fs::rename(&tmp, path)
    };
    write().map_err(LogError::io(|| format!("writing {}", path.display())))?;
    let parent = path
        .parent()
        .expect("engine files always live in a directory");
    sync_dir(parent)
}

/// Lists a directory's entries as (file name, path) pairs; names that are not UTF-8 are skipped.
pub(crate) fn list_dir(dir: &Path) -> Result<Vec<(String, std::path::PathBuf)>, LogError> {
    let context = || format!("listing {}", dir.display());
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).map_err(LogError::io(context))? {
        let entry = entry.map_err(LogError::io(context))?;
        if let Ok(name) = entry.file_name().into_string() {
            out.push((name, entry.path()));
        }
    }
    out.sort();
    Ok(out)
}

/// Takes an exclusive advisory lock on `<dir>/LOCK`, held as long as the returned file is
/// open, so that two engines never share a directory.
pub(crate) fn lock_dir(dir: &Path) -> Result<File, LogError> {
    let path = dir.join("LOCK");
    let context = || format!("locking {}", path.display());
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(LogError::io(context))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(LogError::Io {
            context: format!(
                "locking {} (another engine has this directory open)",
                path.display()
            ),
            source: std::io::ErrorKind::WouldBlock.into(),
        }),
        Err(std::fs::TryLockError::Error(err)) => Err(LogError::io(context)(err)),
    }
}

/// Parses `<20 digits>.<ext>` file names.
pub(crate) fn parse_numbered(name: &str, ext: &str) -> Option<u64> {
    let stem = name.strip_suffix(ext)?.strip_suffix('.')?;
    if stem.len() != 20 || !stem.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    stem.parse().ok()
}

/// The `<20 digits>.<ext>` name of a numbered file.
pub(crate) fn numbered_name(number: u64, ext: &str) -> String {
    format!("{number:020}.{ext}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_names_round_trip() {
        let name = numbered_name(42, "seg");
        assert_eq!(name, "00000000000000000042.seg");
        assert_eq!(parse_numbered(&name, "seg"), Some(42));
        assert_eq!(parse_numbered(&name, "jnl"), None);
        assert_eq!(parse_numbered("42.seg", "seg"), None);
        assert_eq!(parse_numbered("0000000000000000004x.seg", "seg"), None);
    }

    #[test]
    fn a_directory_can_be_locked_once() -> Result<(), LogError> {
        let dir = tempfile::tempdir().expect("temp dir");
        let lock = lock_dir(dir.path())?;
        assert!(lock_dir(dir.path()).is_err());
        drop(lock);
        lock_dir(dir.path())?;
        Ok(())
    }

    #[test]
    fn write_atomically_replaces_content() -> Result<(), LogError> {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("meta");
        write_atomically(&path, b"one")?;
        write_atomically(&path, b"two")?;
        assert_eq!(fs::read(&path).expect("read back"), b"two");
        let names: Vec<String> = list_dir(dir.path())?.into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, vec!["meta".to_owned()]);
        Ok(())
    }
}
