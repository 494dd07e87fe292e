//! Owner-only permissions on what already exists under `--storage.path`. New files and
//! folders are created private (`private_files`); this is for the ones an earlier
//! version, a restore from backup or a careless `chmod -R` left open: the database holds
//! tokens. They are tightened at open, with a warning, and a store whose permissions
//! cannot be tightened is not opened.

use std::io;
use std::path::{Path, PathBuf};

/// Owner-only mode for the storage directory.
pub const DIR_MODE: u32 = 0o700;
/// Owner-only mode for the database and its journal files.
pub const FILE_MODE: u32 = 0o600;

/// A path that others could read or write, and that could not be made private.
#[derive(Debug, thiserror::Error)]
#[error(
    "{path} is open to other users (mode {mode:04o}) and cannot be made private ({want:04o}): {source}; fix its owner or mode"
)]
pub struct PermissionError {
    pub path: PathBuf,
    pub mode: u32,
    pub want: u32,
    pub source: io::Error,
}

/// Tightens `path` to `want` when group or others have any access; a missing path is
/// fine. Returns the old mode when it changed something.
pub fn tighten(path: &Path, want: u32) -> Result<Option<u32>, PermissionError> {
    tighten_with(path, want, set_mode)
}

fn tighten_with(
    path: &Path,
    want: u32,
    set: impl Fn(&Path, u32) -> io::Result<()>,
) -> Result<Option<u32>, PermissionError> {
    let Some(mode) = mode_of(path) else {
        return Ok(None);
    };
    let others = mode & 0o077;
    if others == 0 {
        return Ok(None);
    }
    set(path, want).map_err(|source| PermissionError {
        path: path.to_owned(),
        mode,
        want,
        source,
    })?;
    tracing::warn!(
        path = %path.display(),
        was = format!("{mode:04o}"),
        now = format!("{want:04o}"),
        "storage was readable by other users; made it private"
    );
    Ok(Some(mode))
}

#[cfg(unix)]
fn mode_of(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    // Not through a symlink: the link's target is what gets read and written.
    std::fs::metadata(path)
        .ok()
        .map(|m| m.permissions().mode() & 0o777)
}

#[cfg(not(unix))]
fn mode_of(_path: &Path) -> Option<u32> {
    None
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn open_paths_are_made_private_and_private_ones_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("f");
        std::fs::write(&f, "x").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(tighten(&f, FILE_MODE).unwrap(), Some(0o644));
        assert_eq!(mode(&f), 0o600);
        assert_eq!(tighten(&f, FILE_MODE).unwrap(), None);
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o400)).unwrap();
        assert_eq!(tighten(&f, FILE_MODE).unwrap(), None, "already private");
        assert_eq!(mode(&f), 0o400);
        assert_eq!(
            tighten(&dir.path().join("missing"), FILE_MODE).unwrap(),
            None
        );
    }

    #[test]
    fn a_path_that_cannot_be_tightened_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("peloton.db");
        std::fs::write(&f, "x").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o666)).unwrap();
        let e = tighten_with(&f, FILE_MODE, |_, _| {
            Err(io::Error::from(io::ErrorKind::PermissionDenied))
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains("peloton.db"), "{e}");
        assert!(e.contains("0666") && e.contains("0600"), "{e}");
        assert!(!e.contains('\n'), "one line: {e}");
    }
}
