//! One writer per storage path: an exclusive OS lock on a file in `--storage.path`, held
//! for as long as a process polls or syncs into it. Two exporters on one path would both
//! refresh the one refresh token; Peloton rotates it on every use, so the second rotation
//! retires the first one's token and that exporter is signed out for good.
//!
//! The lock is the kernel's (`flock`): it goes away with the process, even after
//! `kill -9`, so a stale lock file never blocks a restart. The holder writes its pid into
//! the file so that the refusal can name it.

use std::fs::{File, OpenOptions};
use std::io::{self, Read as _, Seek as _, Write as _};
use std::path::{Path, PathBuf};

use super::private_files::create_private_dir;

/// The lock file in the storage directory.
pub const FILE_NAME: &str = "peloton-exporter.lock";

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "--storage.path {path} is in use by another peloton-exporter ({holder}): stop it, or give each process its own --storage.path"
    )]
    Busy { path: PathBuf, holder: String },
    #[error("--storage.path {path}: cannot take the lock: {source}")]
    Io { path: PathBuf, source: io::Error },
}

/// Held while alive; dropping it (or the process ending) releases the path.
#[derive(Debug)]
pub struct StorageLock {
    _file: File,
    path: PathBuf,
}

impl StorageLock {
    /// Takes the path's lock, or says who holds it. Creates the directory (owner only).
    pub fn acquire(dir: &Path) -> Result<Self, LockError> {
        let io = |source| LockError::Io {
            path: dir.to_path_buf(),
            source,
        };
        create_private_dir(dir).map_err(io)?;
        let path = dir.join(FILE_NAME);
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&path).map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(LockError::Busy {
                    path: dir.to_path_buf(),
                    holder: holder(&mut file),
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        // Ours now: say who we are for the next one that asks.
        file.set_len(0).map_err(io)?;
        file.rewind().map_err(io)?;
        writeln!(file, "{}", std::process::id()).map_err(io)?;
        file.flush().map_err(io)?;
        Ok(Self { _file: file, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// "pid N" from the holder's lock file, or a plain description when it wrote none yet.
fn holder(file: &mut File) -> String {
    let mut text = String::new();
    let _ = file.take(32).read_to_string(&mut text);
    match text.trim().parse::<u32>() {
        Ok(pid) => format!("pid {pid}"),
        Err(_) => "a process that is just starting".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_with_the_first_ones_pid_until_it_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state");
        let first = StorageLock::acquire(&path).unwrap();
        let err = StorageLock::acquire(&path).unwrap_err().to_string();
        assert!(
            err.contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        assert!(err.contains(&path.display().to_string()), "{err}");
        assert_eq!(err.lines().count(), 1);
        drop(first);
        let again = StorageLock::acquire(&path).unwrap();
        assert!(again.path().ends_with(FILE_NAME));
    }

    #[cfg(unix)]
    #[test]
    fn the_lock_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let lock = StorageLock::acquire(dir.path()).unwrap();
        let mode = std::fs::metadata(lock.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
