//! The SQLite store: compare-and-set under races (tasks, two stores on one
//! file, separate processes), the outbox, bad rows, and change streams.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use statewright::state_machine;
use statewright::store::{SqliteStore, Store, StoreError};

mod support;

use support::within;

#[state_machine]
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
enum Worker {
    #[initial]
    #[on(start => Working)]
    Assigned,
    #[on(submit => InReview, conflict => Conflicted)]
    Working,
    #[on(resolve => InReview)]
    #[to(Working)]
    Conflicted,
    #[on(approve => Approved, rework => Working)]
    InReview,
    #[on(complete => Completed, rework => Working)]
    Approved,
    #[terminal]
    Completed,
    #[from_any(fail)]
    #[on(retry => Assigned)]
    Failed { reason: String },
}

mod next_release {
    use super::state_machine;

    /// The same machine with one more edge: another table.
    #[state_machine]
    #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
    pub(crate) enum Worker {
        #[initial]
        #[on(start => Working, skip => Completed)]
        Assigned,
        #[on(submit => InReview, conflict => Conflicted)]
        Working,
        #[on(resolve => InReview)]
        #[to(Working)]
        Conflicted,
        #[on(approve => Approved, rework => Working)]
        InReview,
        #[on(complete => Completed, rework => Working)]
        Approved,
        #[terminal]
        Completed,
        #[from_any(fail)]
        #[on(retry => Assigned)]
        Failed { reason: String },
    }
}

type Error = StoreError<WorkerKind>;

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
}

impl Drop for TempDb {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
        }
    }
}

/// The states a worker cycles through: `Assigned -> Working -> InReview -> Working -> ..`
fn next_in_cycle(state: &Worker) -> Worker {
    match state {
        Worker::Assigned | Worker::InReview => Worker::Working,
        _ => Worker::InReview,
    }
}

#[tokio::test]
async fn insert_get_list_and_the_errors_of_unknown_and_duplicate_ids() {
    let store = SqliteStore::<Worker>::memory().await.unwrap();
    let stored = store.insert("w1", &Worker::Assigned).await.unwrap();
    assert_eq!(
        (stored.version, stored.state.clone()),
        (0, Worker::Assigned)
    );
    store.insert("w2", &Worker::Working).await.unwrap();
    assert!(matches!(
        store.insert("w1", &Worker::Working).await,
        Err(Error::AlreadyExists { id }) if id == "w1"
    ));
    assert_eq!(store.get("w1").await.unwrap(), Some(stored));
    assert_eq!(store.get("nobody").await.unwrap(), None);
    assert!(matches!(
        store.transition("nobody", 0, Worker::Working).await,
        Err(Error::NotFound { id }) if id == "nobody"
    ));
    let assigned = store.list(WorkerKind::Assigned).await.unwrap();
    assert_eq!(
        assigned.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        ["w1"]
    );
    assert!(store.list(WorkerKind::Completed).await.unwrap().is_empty());
    assert!(
        store.changes_since(0, 10).await.unwrap().is_empty(),
        "inserts are not transitions"
    );
}

#[tokio::test]
async fn an_illegal_transition_changes_nothing() {
    let store = SqliteStore::<Worker>::memory().await.unwrap();
    store.insert("w", &Worker::Assigned).await.unwrap();
    let error = store
        .transition("w", 0, Worker::Completed)
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "illegal transition in `Worker`: `Assigned` -> `Completed` (allowed: `Working`, `Failed`)"
    );
    let error = store.fire("w", 0, WorkerEvent::Approve).await.unwrap_err();
    assert!(matches!(error, Error::NotAccepted(_)), "{error}");
    assert_eq!(store.get("w").await.unwrap().unwrap().version, 0);
    assert!(store.changes_since(0, 10).await.unwrap().is_empty());
    let fired = store.fire("w", 0, WorkerEvent::Start).await.unwrap();
    assert_eq!((fired.state, fired.version), (Worker::Working, 1));
}

/// Writers that race on one machine through `stores` (all on one database):
/// each round, every writer tries to move it from the version it read.
async fn race(stores: Vec<SqliteStore<Worker>>, rounds: u64) -> (usize, usize) {
    let (wins, stale) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    for round in 0..rounds {
        let mut writers = Vec::new();
        for store in &stores {
            for _ in 0..4 {
                let (store, wins, stale) = (store.clone(), Arc::clone(&wins), Arc::clone(&stale));
                writers.push(tokio::spawn(async move {
                    let current = store.get("m").await.unwrap().unwrap();
                    assert!(current.version >= round);
                    match store
                        .transition("m", current.version, next_in_cycle(&current.state))
                        .await
                    {
                        Ok(moved) => {
                            assert_eq!(moved.version, current.version + 1);
                            wins.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(Error::Stale {
                            expected, actual, ..
                        }) => {
                            assert_eq!(expected, current.version);
                            assert!(actual > expected, "{actual} <= {expected}");
                            stale.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(other) => panic!("unexpected: {other}"),
                    }
                }));
            }
        }
        for writer in writers {
            within(writer).await.unwrap();
        }
    }
    (wins.load(Ordering::Relaxed), stale.load(Ordering::Relaxed))
}

/// Exactly the committed transitions are in the outbox, in commit order:
/// versions 1..=n of machine `m`, positions rising, each `from` the kind of
/// the change before it.
async fn assert_outbox_is_the_history(store: &SqliteStore<Worker>, commits: u64) {
    let changes = store.changes_since(0, 100_000).await.unwrap();
    assert_eq!(changes.len() as u64, commits, "one outbox row per commit");
    let mut previous = WorkerKind::Assigned;
    for (index, change) in changes.iter().enumerate() {
        assert_eq!(change.version, index as u64 + 1, "commit order");
        assert_eq!(
            change.from, previous,
            "each change starts where the last ended"
        );
        previous = change.to.kind();
        if index > 0 {
            assert!(change.position > changes[index - 1].position);
        }
    }
    let stored = store.get("m").await.unwrap().unwrap();
    assert_eq!(stored.version, commits);
    assert_eq!(stored.state.kind(), previous);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_tasks_one_winner_per_version_and_the_outbox_is_the_history() {
    let db = TempDb::new("race");
    let store = SqliteStore::<Worker>::open(&db.0).await.unwrap();
    store.insert("m", &Worker::Assigned).await.unwrap();
    let (wins, stale) = race(vec![store.clone()], 25).await;
    assert_eq!(wins + stale, 100);
    assert!(wins >= 25, "at least one winner per round");
    assert_outbox_is_the_history(&store, wins as u64).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_stores_on_one_file_take_turns_instead_of_failing() {
    let db = TempDb::new("two-stores");
    let first = SqliteStore::<Worker>::open(&db.0).await.unwrap();
    let second = SqliteStore::<Worker>::open(&db.0).await.unwrap();
    first.insert("m", &Worker::Assigned).await.unwrap();
    let (wins, stale) = race(vec![first.clone(), second.clone()], 20).await;
    assert_eq!(wins + stale, 160);
    assert_outbox_is_the_history(&second, wins as u64).await;
}

const CHILD: &str = "STATEWRIGHT_STORE_CHILD";

/// Run by the parent below in separate processes: moves machine `m` along
/// the cycle with compare-and-set until it reached version 60, and prints
/// how many of its moves won.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn child_process_writer() {
    let Ok(path) = std::env::var(CHILD) else {
        return; // only as a child
    };
    let store = SqliteStore::<Worker>::open(&path).await.unwrap();
    let mut wins = 0;
    loop {
        let current = store.get("m").await.unwrap().unwrap();
        if current.version >= 60 {
            break;
        }
        match store
            .transition("m", current.version, next_in_cycle(&current.state))
            .await
        {
            Ok(_) => wins += 1,
            Err(Error::Stale { .. }) => {}
            Err(other) => panic!("unexpected: {other}"),
        }
    }
    println!("child wins: {wins}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn separate_processes_race_on_one_file() {
    if std::env::var(CHILD).is_ok() {
        return;
    }
    let db = TempDb::new("processes");
    let store = SqliteStore::<Worker>::open(&db.0).await.unwrap();
    store.insert("m", &Worker::Assigned).await.unwrap();
    let children: Vec<_> = (0..3).map(|_| spawn_child(&db.0)).collect();
    let mut wins = 0;
    for child in children {
        let output = tokio::task::spawn_blocking(move || child.wait_with_output())
            .await
            .unwrap()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "child failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let line = stdout
            .lines()
            .find_map(|line| line.split("child wins: ").nth(1))
            .unwrap_or_else(|| panic!("no result in:\n{stdout}"));
        wins += line
            .split_whitespace()
            .next()
            .unwrap()
            .parse::<u64>()
            .unwrap();
    }
    assert_eq!(wins, 60, "every version won by exactly one process");
    assert_outbox_is_the_history(&store, 60).await;
}

fn spawn_child(path: &Path) -> std::process::Child {
    std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_process_writer",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, path)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

#[tokio::test]
async fn a_cycle_lets_a_kind_check_lose_a_change_but_not_the_version_check() {
    let store = SqliteStore::<Worker>::memory().await.unwrap();
    store.insert("w", &Worker::Working).await.unwrap();
    // A slow writer reads the machine: Working at version 0.
    let seen = store.get("w").await.unwrap().unwrap();
    // Meanwhile it goes to review and back: Working again, at version 2.
    store.transition("w", 0, Worker::InReview).await.unwrap();
    store.transition("w", 1, Worker::Working).await.unwrap();
    // The version check refuses the slow writer.
    let error = store
        .transition("w", seen.version, Worker::Conflicted)
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::Stale {
                expected: 0,
                actual: 2,
                ..
            }
        ),
        "{error}"
    );
    // The kind check lets it through, over two changes it never saw.
    let overwritten = store
        .transition_from("w", seen.state.kind(), Worker::Conflicted)
        .await
        .unwrap();
    assert_eq!(overwritten.version, 3);
    let error = store
        .transition_from("w", WorkerKind::Working, Worker::InReview)
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::WrongState {
                expected: WorkerKind::Working,
                actual: WorkerKind::Conflicted,
                ..
            }
        ),
        "{error}"
    );
}

#[tokio::test]
async fn rows_edited_into_garbage_or_written_under_another_table_are_decode_errors() {
    let db = TempDb::new("garbage");
    let store = SqliteStore::<Worker>::open(&db.0).await.unwrap();
    for id in ["state", "kind", "fingerprint", "fine"] {
        store.insert(id, &Worker::Working).await.unwrap();
    }
    let newer = SqliteStore::<next_release::Worker>::open(&db.0)
        .await
        .unwrap();
    newer
        .insert("newer", &next_release::Worker::Assigned)
        .await
        .unwrap();
    let edit = rusqlite::Connection::open(&db.0).unwrap();
    edit.execute(
        "UPDATE statewright_machines SET state = '{\"Nope\":1}' WHERE id = 'state'",
        [],
    )
    .unwrap();
    edit.execute(
        "UPDATE statewright_machines SET kind = 'Completed' WHERE id = 'kind'",
        [],
    )
    .unwrap();
    edit.execute(
        "UPDATE statewright_machines SET fingerprint = 42 WHERE id = 'fingerprint'",
        [],
    )
    .unwrap();
    for id in ["state", "kind", "fingerprint", "newer"] {
        let error = store.get(id).await.unwrap_err();
        assert!(
            matches!(&error, Error::Decode { id: row, .. } if row == id),
            "{id}: {error}"
        );
        let error = store.transition(id, 0, Worker::InReview).await.unwrap_err();
        assert!(matches!(error, Error::Decode { .. }), "{id}: {error}");
    }
    let error = store.get("newer").await.unwrap_err();
    assert!(
        error.to_string().contains("written under another table"),
        "{error}"
    );
    // A bad row in a list is an error too, never a skipped or wrong machine.
    assert!(matches!(
        store.list(WorkerKind::Working).await,
        Err(Error::Decode { .. })
    ));
    // Nothing changed.
    assert!(store.changes_since(0, 10).await.unwrap().is_empty());
    assert_eq!(store.get("fine").await.unwrap().unwrap().version, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribers_see_every_change_from_any_store_on_the_file_once_in_order() {
    let db = TempDb::new("changes");
    let watcher_store = SqliteStore::<Worker>::open(&db.0).await.unwrap();
    let writer = SqliteStore::<Worker>::open(&db.0).await.unwrap();
    writer.insert("a", &Worker::Assigned).await.unwrap();
    writer.insert("b", &Worker::Assigned).await.unwrap();
    let mut all = watcher_store.subscribe().await.unwrap();
    let mut only_b = watcher_store.watch("b").await.unwrap();
    for version in 0..10 {
        for id in ["a", "b"] {
            let current = writer.get(id).await.unwrap().unwrap();
            assert_eq!(current.version, version);
            writer
                .transition(id, version, next_in_cycle(&current.state))
                .await
                .unwrap();
        }
    }
    let mut seen = Vec::new();
    for _ in 0..20 {
        let change = within(all.next()).await.unwrap();
        seen.push((change.id.clone(), change.version));
    }
    let expected: Vec<_> = (1..=10)
        .flat_map(|version| [("a".to_owned(), version), ("b".to_owned(), version)])
        .collect();
    assert_eq!(seen, expected);
    for version in 1..=10 {
        let change = within(only_b.next()).await.unwrap();
        assert_eq!((change.id.as_str(), change.version), ("b", version));
    }
}
