//! Persistence of one account under `--storage.path`: an SQLite database (`peloton.db`)
//! holding every workout seen, its converted summary, whether its details are fetched,
//! the sync cursor and the tokens.
//!
//! SQLite because every write is a transaction that survives `kill -9` and power loss
//! (WAL journal, synchronous=FULL), the schema version lives in the file
//! (`PRAGMA user_version`) for migrations, it builds statically with musl, and a member can
//! open the file with the `sqlite3` shell to see exactly what the exporter knows.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use rusqlite::{Connection, OptionalExtension, params};

use super::permissions::{self, DIR_MODE, FILE_MODE, PermissionError};
use super::private_files::create_private_dir;
use super::stored_tokens::StoredTokens;
use crate::domain::{Status, WorkoutSummary};
use crate::secret::Secret;

pub const FILE_NAME: &str = "peloton.db";
/// Version of the schema this build writes. Older files are migrated on open.
pub const SCHEMA_VERSION: i64 = 4;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create storage directory {path}: {source}")]
    Dir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("database {path}: {source}")]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error(
        "database {path} has schema version {found}, newer than this build understands ({SCHEMA_VERSION}); upgrade the exporter"
    )]
    TooNew { path: PathBuf, found: i64 },
    #[error("cannot move corrupt database {path} aside: {source}")]
    MoveAside {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("stored workout {id} is unreadable")]
    Record { id: String },
    #[error(transparent)]
    Permissions(#[from] PermissionError),
}

#[derive(Debug)]
pub struct Store {
    path: PathBuf,
    conn: Mutex<Connection>,
}

/// What `open` did besides opening.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenNote {
    Created,
    Opened,
    Migrated {
        from: i64,
    },
    /// The file was corrupt; it now lives at this path and a new one was created.
    Rebuilt {
        moved_to: PathBuf,
    },
}

pub use crate::domain::counting::{Listed, StoredWorkout};

fn read_tokens(conn: &Connection) -> Result<StoredTokens, rusqlite::Error> {
    let get = |name: &str| -> Result<Option<String>, rusqlite::Error> {
        conn.query_row("SELECT value FROM tokens WHERE name = ?1", [name], |r| {
            r.get(0)
        })
        .optional()
    };
    let secret = |v: Option<String>| v.filter(|s| !s.is_empty()).map(Secret::new);
    Ok(StoredTokens {
        refresh_token: secret(get("refresh_token")?),
        access_token: secret(get("access_token")?),
        access_token_expires_at: get("access_token_expires_at")?.and_then(|v| v.parse().ok()),
    })
}

impl Store {
    /// Opens (or creates) `dir/peloton.db`, migrating an older schema and moving a corrupt
    /// file aside so the history can be rebuilt from the API.
    pub fn open(dir: &Path) -> Result<(Store, OpenNote), StoreError> {
        create_private_dir(dir).map_err(|source| StoreError::Dir {
            path: dir.to_owned(),
            source,
        })?;
        // Before SQLite opens anything: the journal files it creates copy the
        // database's mode.
        permissions::tighten(dir, DIR_MODE)?;
        for name in [
            FILE_NAME.to_owned(),
            format!("{FILE_NAME}-wal"),
            format!("{FILE_NAME}-shm"),
            super::stored_tokens::LEGACY_FILE_NAME.to_owned(),
        ] {
            permissions::tighten(&dir.join(name), FILE_MODE)?;
        }
        let path = dir.join(FILE_NAME);
        let existed = path.exists();
        match Self::open_checked(&path) {
            Ok((store, from)) => {
                let note = match from {
                    _ if !existed => OpenNote::Created,
                    Some(from) => OpenNote::Migrated { from },
                    None => OpenNote::Opened,
                };
                Ok((store, note))
            }
            Err(StoreError::Sqlite { source, .. }) if existed && is_corruption(&source) => {
                let moved_to =
                    dir.join(format!("{FILE_NAME}.corrupt-{}", crate::clock::now_unix()));
                std::fs::rename(&path, &moved_to).map_err(|source| StoreError::MoveAside {
                    path: path.clone(),
                    source,
                })?;
                for suffix in ["-wal", "-shm"] {
                    let side = dir.join(format!("{FILE_NAME}{suffix}"));
                    if side.exists() {
                        let _ = std::fs::rename(
                            &side,
                            dir.join(format!("{}{suffix}", moved_to.display())),
                        );
                    }
                }
                let (store, _) = Self::open_checked(&path)?;
                Ok((store, OpenNote::Rebuilt { moved_to }))
            }
            Err(e) => Err(e),
        }
    }

    fn open_checked(path: &Path) -> Result<(Store, Option<i64>), StoreError> {
        let err = |source| StoreError::Sqlite {
            path: path.to_owned(),
            source,
        };
        if !path.exists() {
            // Created empty with owner-only permissions before SQLite writes a byte; the
            // journal files inherit them.
            crate::store::private_files::write(path, b"", 0o600)
                .map_err(|e| err(rusqlite::Error::InvalidPath(PathBuf::from(e.to_string()))))?;
        }
        let conn = Connection::open(path).map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(err)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(err)?;
        // The page cache would grow to 2 MB per account while the store is scanned at
        // start-up, and SQLite keeps it for the life of the connection. Steady state reads
        // a few rows per poll: 256 KB is plenty (measured in docs/benchmarks.md).
        conn.pragma_update(None, "cache_size", -256).map_err(err)?;
        let check: String = conn
            .query_row("PRAGMA quick_check", [], |r| r.get(0))
            .map_err(err)?;
        if check != "ok" {
            return Err(err(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CORRUPT),
                Some(check),
            )));
        }
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(err)?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                path: path.to_owned(),
                found: version,
            });
        }
        let migrated = migrate(&conn, version).map_err(err)?;
        Ok((
            Store {
                path: path.to_owned(),
                conn: Mutex::new(conn),
            },
            migrated.then_some(version),
        ))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(super) fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn err(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.conn()
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    pub fn tokens(&self) -> Result<StoredTokens, StoreError> {
        read_tokens(&self.conn()).map_err(|e| self.err(e))
    }

    /// Whether `dir` holds a token an earlier run or `login` stored, read without creating
    /// or changing anything (for `check-config`).
    pub fn has_stored_token(dir: &Path) -> bool {
        if dir.join(super::stored_tokens::LEGACY_FILE_NAME).exists() {
            return true;
        }
        let path = dir.join(FILE_NAME);
        if !path.exists() {
            return false;
        }
        let flags =
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
        Connection::open_with_flags(&path, flags)
            .and_then(|conn| read_tokens(&conn))
            .is_ok_and(|t| t.has_token())
    }

    /// Replaces the stored tokens in one transaction.
    pub fn save_tokens(&self, tokens: &StoredTokens) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let result = (|| {
            let tx = conn.transaction()?;
            tx.execute("DELETE FROM tokens", [])?;
            let rows = [
                (
                    "refresh_token",
                    tokens.refresh_token.as_ref().map(|s| s.expose().to_owned()),
                ),
                (
                    "access_token",
                    tokens.access_token.as_ref().map(|s| s.expose().to_owned()),
                ),
                (
                    "access_token_expires_at",
                    tokens.access_token_expires_at.map(|v| v.to_string()),
                ),
            ];
            for (name, value) in rows {
                if let Some(v) = value {
                    tx.execute(
                        "INSERT INTO tokens (name, value) VALUES (?1, ?2)",
                        params![name, v],
                    )?;
                }
            }
            tx.commit()
        })();
        result.map_err(|e| self.err(e))
    }

    /// Records list items in one transaction. New workouts are inserted; a known one is
    /// updated only while its details are not fetched (a completed, fetched workout never
    /// changes). Returns, for every item, what was stored before (`None`: it was new).
    pub fn upsert_listed(&self, items: &[WorkoutSummary]) -> Result<Vec<Listed>, StoreError> {
        let mut conn = self.conn();
        let result = (|| {
            let tx = conn.transaction()?;
            let mut out = Vec::with_capacity(items.len());
            for w in items {
                let json = to_json(w)?;
                let old: Option<(String, bool)> = tx
                    .query_row(
                        "SELECT summary, details FROM workouts WHERE id = ?1",
                        [&w.id],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()?;
                let before = match old {
                    None => {
                        tx.execute(
                            "INSERT INTO workouts (id, created_at, status, discipline, summary, details) VALUES (?1, ?2, ?3, ?4, ?5, 0)",
                            params![w.id, w.created_at.unwrap_or(0.0) as i64, status_str(w.status), w.discipline, json],
                        )?;
                        None
                    }
                    Some((old_json, fetched)) => {
                        let summary: WorkoutSummary =
                            serde_json::from_str(&old_json).map_err(|e| {
                                rusqlite::Error::FromSqlConversionFailure(
                                    1,
                                    rusqlite::types::Type::Text,
                                    Box::new(e),
                                )
                            })?;
                        if !fetched {
                            tx.execute(
                                "UPDATE workouts SET created_at = ?2, status = ?3, discipline = ?4, summary = ?5 WHERE id = ?1",
                                params![w.id, w.created_at.unwrap_or(0.0) as i64, status_str(w.status), w.discipline, json],
                            )?;
                        }
                        Some(StoredWorkout {
                            summary,
                            details_fetched: fetched,
                        })
                    }
                };
                out.push(Listed {
                    before,
                    now: w.clone(),
                });
            }
            tx.commit()?;
            Ok(out)
        })();
        result.map_err(|e| self.err(e))
    }

    /// The newest completed workout, with whether its details are stored.
    ///
    /// Runs on every poll. Asked in one piece, SQLite reads and sorts every completed
    /// workout (the index leads with `status, details`): 15-20 ms at 20,000 workouts. The
    /// newest of each `details` value (0 or 1) is one index lookup, so it picks from those
    /// two instead (docs/benchmarks.md: CPU per steady poll).
    pub fn newest_complete(&self) -> Result<Option<StoredWorkout>, StoreError> {
        self.one(
            "SELECT id, summary, details FROM (
                 SELECT * FROM (SELECT id, summary, details, created_at FROM workouts WHERE status = 'COMPLETE' AND details = 0 ORDER BY created_at DESC, id DESC LIMIT 1)
                 UNION ALL
                 SELECT * FROM (SELECT id, summary, details, created_at FROM workouts WHERE status = 'COMPLETE' AND details = 1 ORDER BY created_at DESC, id DESC LIMIT 1)
             ) ORDER BY created_at DESC, id DESC LIMIT 1",
        )
    }

    /// The newest completed workout whose details are stored.
    pub fn newest_detailed(&self) -> Result<Option<StoredWorkout>, StoreError> {
        self.one("SELECT id, summary, details FROM workouts WHERE status = 'COMPLETE' AND details = 1 ORDER BY created_at DESC, id DESC LIMIT 1")
    }

    fn one(&self, sql: &str) -> Result<Option<StoredWorkout>, StoreError> {
        let row: Option<(String, String, bool)> = self
            .conn()
            .query_row(sql, [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()
            .map_err(|e| self.err(e))?;
        row.map(|(id, json, details)| {
            serde_json::from_str(&json)
                .map(|summary| StoredWorkout {
                    summary,
                    details_fetched: details,
                })
                .map_err(|_| StoreError::Record { id })
        })
        .transpose()
    }

    /// Stores the enriched summary of a completed workout and marks its details fetched,
    /// atomically: after a crash it is either fully recorded or still pending.
    pub fn set_details(&self, summary: &WorkoutSummary) -> Result<(), StoreError> {
        let json = to_json(summary).map_err(|e| self.err(e))?;
        self.conn()
            .execute(
                "UPDATE workouts SET summary = ?2, status = ?3, discipline = ?4, details = 1, extras = 1 WHERE id = ?1",
                params![summary.id, json, status_str(summary.status), summary.discipline],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// Completed workouts whose details are not fetched yet, newest first.
    pub fn pending(&self, limit: usize) -> Result<Vec<WorkoutSummary>, StoreError> {
        self.summaries(
            "SELECT id, summary FROM workouts WHERE status = 'COMPLETE' AND details = 0 ORDER BY created_at DESC, id LIMIT ?1",
            limit,
        )
    }

    /// The summaries a query of `(id, summary)` rows selects, `?1` being `limit`.
    pub(super) fn summaries(
        &self,
        sql: &str,
        limit: usize,
    ) -> Result<Vec<WorkoutSummary>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([limit as i64], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, json) = row.map_err(|e| self.err(e))?;
            out.push(serde_json::from_str(&json).map_err(|_| StoreError::Record { id })?);
        }
        Ok(out)
    }

    pub fn pending_count(&self) -> Result<u64, StoreError> {
        self.conn()
            .query_row(
                "SELECT COUNT(*) FROM workouts WHERE status = 'COMPLETE' AND details = 0",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n.max(0) as u64)
            .map_err(|e| self.err(e))
    }

    pub fn count(&self) -> Result<u64, StoreError> {
        self.conn()
            .query_row("SELECT COUNT(*) FROM workouts", [], |r| r.get::<_, i64>(0))
            .map(|n| n.max(0) as u64)
            .map_err(|e| self.err(e))
    }

    /// Calls `f` for every stored workout, oldest first, without holding them all in
    /// memory.
    pub fn for_each(&self, mut f: impl FnMut(StoredWorkout)) -> Result<(), StoreError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare("SELECT id, summary, details FROM workouts ORDER BY created_at, id")
            .map_err(|e| self.err(e))?;
        let mut rows = stmt.query([]).map_err(|e| self.err(e))?;
        while let Some(row) = rows.next().map_err(|e| self.err(e))? {
            let id: String = row.get(0).map_err(|e| self.err(e))?;
            let json: String = row.get(1).map_err(|e| self.err(e))?;
            let details: bool = row.get(2).map_err(|e| self.err(e))?;
            let summary = serde_json::from_str(&json).map_err(|_| StoreError::Record { id })?;
            f(StoredWorkout {
                summary,
                details_fetched: details,
            });
        }
        Ok(())
    }
}

pub(super) fn to_json(w: &WorkoutSummary) -> Result<String, rusqlite::Error> {
    serde_json::to_string(w).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
}

pub(super) fn status_str(s: Status) -> &'static str {
    match s {
        Status::Complete => "COMPLETE",
        Status::InProgress => "IN_PROGRESS",
        Status::Other => "OTHER",
    }
}

fn is_corruption(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
    )
}

/// Brings a database from `from` to `SCHEMA_VERSION`, one step per version, each in a
/// transaction. Returns whether anything was done.
fn migrate(conn: &Connection, from: i64) -> Result<bool, rusqlite::Error> {
    if from >= SCHEMA_VERSION {
        return Ok(false);
    }
    for version in from..SCHEMA_VERSION {
        let sql = match version {
            0 => {
                "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                 CREATE TABLE workouts (
                     id TEXT PRIMARY KEY,
                     created_at INTEGER NOT NULL,
                     status TEXT NOT NULL,
                     discipline TEXT NOT NULL,
                     summary TEXT NOT NULL,
                     details INTEGER NOT NULL DEFAULT 0
                 );"
            }
            // v2: tokens move from tokens.json into the database; an index for the
            // pending-details scan of large histories.
            1 => {
                "CREATE TABLE tokens (name TEXT PRIMARY KEY, value TEXT NOT NULL);
                 CREATE INDEX workouts_pending ON workouts (status, details, created_at);"
            }
            // v3: training analytics per workout (store/training.rs). Workouts fetched
            // before have no row and are fetched once more.
            2 => {
                "CREATE TABLE training (
                     id TEXT PRIMARY KEY,
                     end_time INTEGER NOT NULL,
                     analytics TEXT NOT NULL,
                     trace BLOB
                 );"
            }
            // v4: whether a workout's details were read for badges and strength (issue
            // 25); strength workouts fetched before are fetched once more.
            3 => "ALTER TABLE workouts ADD COLUMN extras INTEGER NOT NULL DEFAULT 0;",
            _ => "",
        };
        conn.execute_batch(&format!(
            "BEGIN; {sql} PRAGMA user_version = {}; COMMIT;",
            version + 1
        ))?;
    }
    Ok(true)
}

#[cfg(test)]
mod tests;
