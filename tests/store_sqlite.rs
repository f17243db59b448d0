//! The store contract on SQLite: races between tasks, two stores on one
//! file and separate processes; bad rows; change streams.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use statewright::store::{SqliteStore, Store};

mod store_contract;
mod support;

use store_contract::{next_release, Worker};

/// A fresh database file, removed when dropped.
struct TempDb(PathBuf);

impl TempDb {
    fn new(name: &str) -> Self {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let n = COUNT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!(
            "statewright-{name}-{}-{n}.sqlite",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&path);
        Self(path)
    }

    async fn store(&self) -> SqliteStore<Worker> {
        SqliteStore::open(&self.0).await.unwrap()
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
        }
    }
}

#[tokio::test]
async fn insert_get_list_and_the_errors_of_unknown_and_duplicate_ids() {
    store_contract::basics(SqliteStore::memory().await.unwrap()).await;
}

#[tokio::test]
async fn an_illegal_transition_changes_nothing() {
    store_contract::illegal(SqliteStore::memory().await.unwrap()).await;
}

#[tokio::test]
async fn a_cycle_lets_a_kind_check_lose_a_change_but_not_the_version_check() {
    store_contract::cycle(SqliteStore::memory().await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_tasks_one_winner_per_version_and_the_outbox_is_the_history() {
    let db = TempDb::new("race");
    let store = db.store().await;
    store_contract::race_from_start(vec![store.clone()], 25, &store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_stores_on_one_file_take_turns_instead_of_failing() {
    let db = TempDb::new("two-stores");
    let (first, second) = (db.store().await, db.store().await);
    store_contract::race_from_start(vec![first, second.clone()], 20, &second).await;
}

const CHILD: &str = "STATEWRIGHT_STORE_CHILD";

/// Run by the parent below in separate processes (ignored in a normal
/// run, where it would have nothing to do).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a child process of separate_processes_race_on_one_file"]
async fn child_process_writer() {
    let path = std::env::var(CHILD).expect("run as a child, with the database's path");
    let store = SqliteStore::<Worker>::open(&path).await.unwrap();
    let wins = store_contract::cycle_until(store, 60).await;
    println!("child wins: {wins}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn separate_processes_race_on_one_file() {
    if std::env::var(CHILD).is_ok() {
        return;
    }
    let db = TempDb::new("processes");
    let store = db.store().await;
    let path: &Path = &db.0;
    store_contract::race_in_processes(&store, 60, |command| {
        command
            .args(["--exact", "child_process_writer", "--ignored"])
            .env(CHILD, path);
    })
    .await;
}

#[tokio::test]
async fn rows_edited_into_garbage_or_written_under_another_table_are_decode_errors() {
    let db = TempDb::new("garbage");
    let store = db.store().await;
    let newer = SqliteStore::<next_release::Worker>::open(&db.0)
        .await
        .unwrap();
    store_contract::insert_rows_to_break(&store, &newer).await;
    let edit = rusqlite::Connection::open(&db.0).unwrap();
    for statement in store_contract::GARBAGE {
        edit.execute(statement, []).unwrap();
    }
    store_contract::assert_decode_errors(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_feed_reads_once_as_a_stream_and_after_dropped_reads() {
    let db = TempDb::new("stream");
    store_contract::streams_and_cancelled_reads(db.store().await, db.store().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribers_see_every_change_from_any_store_on_the_file_once_in_order() {
    let db = TempDb::new("changes");
    store_contract::subscribers(db.store().await, db.store().await).await;
}

/// Stores opened at once on a fresh file (as processes starting together
/// would): creating the file, switching it to WAL and creating the schema
/// wait for one another instead of failing with "database is locked".
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stores_opened_at_once_on_a_fresh_file_all_open() {
    for round in 0..40 {
        let db = TempDb::new("open-at-once");
        let opening: Vec<_> = (0..8)
            .map(|_| {
                let path = db.0.clone();
                tokio::spawn(async move { SqliteStore::<Worker>::open(&path).await })
            })
            .collect();
        for open in opening {
            let store = support::within(open).await.unwrap();
            if let Err(error) = store {
                panic!("round {round}: {error}");
            }
        }
    }
}

/// A machine whose state JSON cannot hold (a map keyed by pairs).
#[statewright::state_machine]
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
enum Grid {
    #[initial]
    #[to(Done)]
    Cells(std::collections::BTreeMap<(u8, u8), u8>),
    #[terminal]
    Done,
}

#[tokio::test]
async fn a_state_that_does_not_serialize_is_an_encode_error_and_nothing_is_written() {
    let store = SqliteStore::<Grid>::memory().await.unwrap();
    let cells = Grid::Cells([((0, 0), 1)].into_iter().collect());
    let error = store.insert("g", &cells).await.unwrap_err();
    assert!(
        matches!(&error, statewright::store::StoreError::Encode { id, .. } if id == "g"),
        "{error}"
    );
    assert!(error.to_string().contains("cannot be stored"), "{error}");
    assert_eq!(store.get("g").await.unwrap(), None);
}

/// An error that prints its cause itself, as tokio-postgres's does.
#[derive(Debug)]
struct PrintsItsCause(Cause);
#[derive(Debug)]
struct Cause;

impl std::fmt::Display for PrintsItsCause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "db error: {}", self.0)
    }
}
impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ERROR: relation missing")
    }
}
impl std::error::Error for PrintsItsCause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}
impl std::error::Error for Cause {}

#[test]
fn a_backend_cause_the_error_already_prints_is_not_printed_twice() {
    let error = statewright::store::StoreError::<store_contract::WorkerKind>::Backend(Box::new(
        PrintsItsCause(Cause),
    ));
    assert_eq!(
        error.to_string(),
        "store backend failed: db error: ERROR: relation missing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_write_commits_whole_or_not_at_all() {
    let db = TempDb::new("cancelled");
    store_contract::cancelled_writes(db.store().await).await;
}

/// Tables and rows as the release before the single-statement
/// compare-and-set wrote them.
const SCHEMA_1: &str = "
CREATE TABLE statewright_schema (version INTEGER NOT NULL);
CREATE TABLE statewright_machines (
    machine TEXT NOT NULL, id TEXT NOT NULL, kind TEXT NOT NULL, state TEXT NOT NULL,
    version INTEGER NOT NULL, fingerprint INTEGER NOT NULL, updated_at INTEGER NOT NULL,
    PRIMARY KEY (machine, id)
) WITHOUT ROWID;
CREATE INDEX statewright_machines_by_kind ON statewright_machines (machine, kind, id);
CREATE TABLE statewright_outbox (
    position INTEGER PRIMARY KEY AUTOINCREMENT, machine TEXT NOT NULL, id TEXT NOT NULL,
    version INTEGER NOT NULL, from_kind TEXT NOT NULL, state TEXT NOT NULL,
    fingerprint INTEGER NOT NULL, at INTEGER NOT NULL
);
CREATE INDEX statewright_outbox_by_machine ON statewright_outbox (machine, position);
";

#[tokio::test]
async fn a_database_of_the_previous_schema_is_upgraded_on_open_and_keeps_its_rows() {
    let db = TempDb::new("upgrade");
    let old = rusqlite::Connection::open(&db.0).unwrap();
    old.execute_batch(SCHEMA_1).unwrap();
    for statement in store_contract::schema_1_rows() {
        old.execute_batch(&statement).unwrap();
    }
    drop(old);
    store_contract::assert_upgraded_from_1(db.store().await, db.store().await).await;
}

#[tokio::test]
async fn a_database_of_a_later_release_is_refused() {
    let db = TempDb::new("future");
    drop(db.store().await);
    let edit = rusqlite::Connection::open(&db.0).unwrap();
    edit.execute_batch(store_contract::SCHEMA_FROM_THE_FUTURE)
        .unwrap();
    store_contract::assert_refused_as_newer(SqliteStore::<Worker>::open(&db.0).await);
}

#[tokio::test]
async fn a_stored_timer_reads_back_an_update_keeps_it_and_a_transition_clears_it() {
    let db = TempDb::new("timers");
    let store = db.store().await;
    store_contract::insert_timer_rows(&store).await;
    let edit = rusqlite::Connection::open(&db.0).unwrap();
    for statement in store_contract::TIMERS {
        edit.execute(statement, []).unwrap();
    }
    store_contract::assert_timers(store).await;
}

#[tokio::test]
async fn a_migration_maps_the_rows_of_an_earlier_table_and_reports_the_rest() {
    let db = TempDb::new("migrate");
    let newer = SqliteStore::<next_release::Worker>::open(&db.0)
        .await
        .unwrap();
    store_contract::migration(db.store().await, newer).await;
}

/// A call dropped while its work runs on the blocking pool keeps the
/// connection until the work ends: the next call waits for it instead of
/// opening another (for an in-memory store, a new and empty database).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_call_does_not_let_the_memory_store_open_a_second_database() {
    let store = SqliteStore::<Worker>::memory().await.unwrap();
    let mut inserts = tokio::task::JoinSet::new();
    for n in 0..5_000 {
        let store = store.clone();
        inserts.spawn(async move { store.insert(&format!("w-{n}"), &Worker::Assigned).await });
    }
    while let Some(inserted) = inserts.join_next().await {
        inserted.unwrap().unwrap();
    }
    for _ in 0..5 {
        // A long read, started on the blocking pool, then dropped.
        let mut listing = Box::pin(store.list(store_contract::WorkerKind::Assigned));
        assert!(support::poll_once(listing.as_mut()).await.is_none());
        tokio::task::yield_now().await;
        drop(listing);
        let found = support::within(store.get("w-0")).await.unwrap();
        assert!(found.is_some(), "the machines are still there");
    }
}
