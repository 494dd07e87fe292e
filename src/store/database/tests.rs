use super::*;
use crate::domain::{Status, WorkoutSummary};

fn workout(id: &str, status: &str, created: i64) -> WorkoutSummary {
    let w: crate::peloton::model::Workout = serde_json::from_value(serde_json::json!({
        "id": id, "status": status, "created_at": created, "start_time": created,
        "end_time": created + 600, "fitness_discipline": "cycling", "total_work": 1000.0
    }))
    .unwrap();
    WorkoutSummary::from_list_item(&w).unwrap()
}

#[test]
fn creates_migrates_and_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let (store, note) = Store::open(dir.path()).unwrap();
    assert_eq!(note, OpenNote::Created);
    store
        .upsert_listed(&[workout("a", "COMPLETE", 10)])
        .unwrap();
    drop(store);
    let (store, note) = Store::open(dir.path()).unwrap();
    assert_eq!(note, OpenNote::Opened);
    assert_eq!(store.count().unwrap(), 1);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(store.path())
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
    }
}

#[test]
fn an_old_schema_is_migrated_keeping_its_workouts() {
    let dir = tempfile::tempdir().unwrap();
    {
        // A version-1 file as an earlier build wrote it.
        let conn = Connection::open(dir.path().join(FILE_NAME)).unwrap();
        migrate(&conn, 0).ok();
        conn.execute_batch(
            "DROP TABLE tokens; DROP TABLE training; DROP INDEX workouts_pending; ALTER TABLE workouts DROP COLUMN extras; PRAGMA user_version = 1;",
        )
        .unwrap();
        let json = serde_json::to_string(&workout("old", "COMPLETE", 5)).unwrap();
        conn.execute(
            "INSERT INTO workouts (id, created_at, status, discipline, summary, details) VALUES ('old', 5, 'COMPLETE', 'cycling', ?1, 1)",
            [json],
        )
        .unwrap();
        let mut lift = workout("lift", "COMPLETE", 6);
        lift.discipline = "strength".to_owned();
        conn.execute(
            "INSERT INTO workouts (id, created_at, status, discipline, summary, details) VALUES ('lift', 6, 'COMPLETE', 'strength', ?1, 1)",
            [serde_json::to_string(&lift).unwrap()],
        )
        .unwrap();
    }
    let (store, note) = Store::open(dir.path()).unwrap();
    assert_eq!(note, OpenNote::Migrated { from: 1 });
    assert_eq!(store.count().unwrap(), 2);
    assert_eq!(store.pending_count().unwrap(), 0);
    // Fetched before training analytics existed: its graph is to be fetched once more.
    assert_eq!(store.training_backlog_count().unwrap(), 2);
    // Fetched before reps and volume were read: the strength class only, once more.
    let owed = store.strength_backlog(10).unwrap();
    assert_eq!(owed.len(), 1);
    assert_eq!(owed[0].id, "lift");
    store.set_details(&owed[0]).unwrap();
    assert_eq!(store.strength_backlog_count().unwrap(), 0);
    store
        .save_tokens(&StoredTokens {
            refresh_token: Some(Secret::new("r")),
            ..StoredTokens::default()
        })
        .unwrap();
    assert_eq!(store.tokens().unwrap().refresh_token.unwrap().expose(), "r");
}

#[test]
fn a_corrupt_file_is_moved_aside_and_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(FILE_NAME), b"this is not a database, just garbage bytes ....................................................................").unwrap();
    let (store, note) = Store::open(dir.path()).unwrap();
    let OpenNote::Rebuilt { moved_to } = note else {
        panic!("{note:?}")
    };
    assert!(moved_to.exists());
    assert_eq!(store.count().unwrap(), 0);
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    {
        let conn = Connection::open(dir.path().join(FILE_NAME)).unwrap();
        conn.execute_batch("PRAGMA user_version = 99;").unwrap();
    }
    let err = Store::open(dir.path()).unwrap_err();
    assert!(matches!(err, StoreError::TooNew { found: 99, .. }), "{err}");
}

#[test]
fn details_are_pending_until_set_and_then_frozen() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = Store::open(dir.path()).unwrap();
    let listed = store
        .upsert_listed(&[
            workout("new", "IN_PROGRESS", 20),
            workout("done", "COMPLETE", 10),
        ])
        .unwrap();
    assert!(listed.iter().all(|l| l.before.is_none()));
    assert_eq!(
        store.pending_count().unwrap(),
        1,
        "in-progress workouts are not pending"
    );
    // The in-progress one completes.
    let listed = store
        .upsert_listed(&[workout("new", "COMPLETE", 20)])
        .unwrap();
    assert_eq!(
        listed[0].before.as_ref().unwrap().summary.status,
        Status::InProgress
    );
    let pending = store.pending(10).unwrap();
    assert_eq!(
        pending.iter().map(|w| w.id.as_str()).collect::<Vec<_>>(),
        ["new", "done"]
    );
    let mut enriched = pending[0].clone();
    enriched.distance_meters = Some(1234.0);
    store.set_details(&enriched).unwrap();
    assert_eq!(store.pending_count().unwrap(), 1);
    assert_eq!(store.newest_complete().unwrap().unwrap().summary.id, "new");
    assert_eq!(
        store
            .newest_detailed()
            .unwrap()
            .unwrap()
            .summary
            .distance_meters,
        Some(1234.0)
    );
    // Listing it again does not overwrite what the details added.
    let again = store
        .upsert_listed(&[workout("new", "COMPLETE", 20)])
        .unwrap();
    assert!(again[0].before.as_ref().unwrap().details_fetched);
    let mut seen = Vec::new();
    store.for_each(|w| seen.push(w)).unwrap();
    let new = seen.iter().find(|w| w.summary.id == "new").unwrap();
    assert!(new.details_fetched);
    assert_eq!(new.summary.distance_meters, Some(1234.0));
}

#[test]
fn newest_complete_looks_at_fetched_and_pending_workouts_alike() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = Store::open(dir.path()).unwrap();
    assert!(store.newest_complete().unwrap().is_none());
    store
        .upsert_listed(&[
            workout("running", "IN_PROGRESS", 40),
            workout("b", "COMPLETE", 30),
            workout("a2", "COMPLETE", 20),
            workout("a1", "COMPLETE", 20),
        ])
        .unwrap();
    let newest = |s: &Store| {
        let w = s.newest_complete().unwrap().unwrap();
        (w.summary.id, w.details_fetched)
    };
    assert_eq!(newest(&store), ("b".to_owned(), false));
    // An older workout with details does not hide a newer pending one...
    store.set_details(&workout("a2", "COMPLETE", 20)).unwrap();
    assert_eq!(newest(&store), ("b".to_owned(), false));
    // ...and a newer fetched one wins over older pending ones.
    store.set_details(&workout("b", "COMPLETE", 30)).unwrap();
    assert_eq!(newest(&store), ("b".to_owned(), true));
    // Ties on created_at go to the larger id, as before.
    let other_dir = tempfile::tempdir().unwrap();
    let (other, _) = Store::open(other_dir.path()).unwrap();
    other
        .upsert_listed(&[workout("a1", "COMPLETE", 20), workout("a2", "COMPLETE", 20)])
        .unwrap();
    other.set_details(&workout("a1", "COMPLETE", 20)).unwrap();
    assert_eq!(newest(&other), ("a2".to_owned(), false));
}

#[cfg(unix)]
#[test]
fn a_store_others_can_read_is_made_private_before_a_token_is_written() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let set = |p: &Path, m: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
    };
    let dir = tempfile::tempdir().unwrap();
    let storage = dir.path().join("state");
    let (store, _) = Store::open(&storage).unwrap();
    store
        .upsert_listed(&[workout("a", "COMPLETE", 10)])
        .unwrap();
    drop(store);
    // As a careless `chmod -R a+rwX` or a restore from backup leaves it.
    set(&storage, 0o777);
    set(&storage.join(FILE_NAME), 0o666);
    let wal = storage.join(format!("{FILE_NAME}-wal"));
    std::fs::write(&wal, b"").unwrap();
    set(&wal, 0o644);

    let (store, note) = Store::open(&storage).unwrap();
    assert_eq!(note, OpenNote::Opened);
    assert_eq!(store.count().unwrap(), 1, "the history is kept");
    assert_eq!(mode(&storage), 0o700);
    assert_eq!(mode(&storage.join(FILE_NAME)), 0o600);
    assert_eq!(mode(&wal), 0o600);
    store
        .save_tokens(&StoredTokens {
            refresh_token: Some(Secret::new("v1.refresh")),
            access_token: None,
            access_token_expires_at: None,
        })
        .unwrap();
    for entry in std::fs::read_dir(&storage).unwrap() {
        let p = entry.unwrap().path();
        assert_eq!(mode(&p) & 0o077, 0, "{} is open to others", p.display());
    }
}
