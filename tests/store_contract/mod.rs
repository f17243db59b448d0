//! The store contract, as test bodies generic over the backend: every
//! backend's test file runs each of them.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use statewright::state_machine;
use statewright::store::{Store, StoreError};

use crate::support::within;

#[state_machine]
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) enum Worker {
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

pub(crate) mod next_release {
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

pub(crate) type Error = StoreError<WorkerKind>;

/// The states a worker cycles through: `Assigned -> Working -> InReview -> Working -> ..`
pub(crate) fn next_in_cycle(state: &Worker) -> Worker {
    match state {
        Worker::Assigned | Worker::InReview => Worker::Working,
        _ => Worker::InReview,
    }
}

/// Insert, get, list, and the errors of unknown and duplicate ids.
/// Moves `id` one step along the cycle from the version it is at.
pub(crate) async fn step<S: Store<Worker>>(store: &S, id: &str) {
    let current = store.get(id).await.unwrap().unwrap();
    store
        .transition(id, current.version, next_in_cycle(&current.state))
        .await
        .unwrap();
}

pub(crate) async fn basics<S: Store<Worker>>(store: S) {
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
    invalid_ids(&store).await;
}

/// Ids no row may have are one clear error before any SQL runs: the
/// message shows a short prefix, never the megabyte the caller passed.
async fn invalid_ids<S: Store<Worker>>(store: &S) {
    let long = "x".repeat(1 << 20);
    let longest = "y".repeat(statewright::store::MAX_ID_BYTES);
    for (id, reason) in [
        (long.as_str(), "longer than"),
        ("", "empty"),
        ("nul\0byte", "control character"),
        ("new\nline", "control character"),
    ] {
        let errors = [
            store.insert(id, &Worker::Assigned).await.map(|_| ()),
            store.get(id).await.map(|_| ()),
            store.transition(id, 0, Worker::Working).await.map(|_| ()),
            store.watch(id).await.map(|_| ()),
        ];
        for error in errors {
            let error = error.unwrap_err();
            assert!(
                matches!(&error, Error::InvalidId { length, .. } if *length == id.len()),
                "{error}"
            );
            let text = error.to_string();
            assert!(text.contains(reason) && text.len() < 300, "{text}");
        }
    }
    // The longest id there may be is an id.
    store.insert(&longest, &Worker::Assigned).await.unwrap();
    assert!(store.get(&longest).await.unwrap().is_some());
}

/// An illegal transition (or an event not accepted) changes nothing.
pub(crate) async fn illegal<S: Store<Worker>>(store: S) {
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
pub(crate) async fn race<S: Store<Worker>>(stores: Vec<S>, rounds: u64) -> (usize, usize) {
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
pub(crate) async fn assert_outbox_is_the_history<S: Store<Worker>>(store: &S, commits: u64) {
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

/// A cycle lets a kind check lose a change, but not the version check.
pub(crate) async fn cycle<S: Store<Worker>>(store: S) {
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

/// After [`insert_rows_to_break`] and [`GARBAGE`]: each broken row is a
/// decode error, `last` takes no step, and nothing changed.
pub(crate) async fn assert_decode_errors<S: Store<Worker>>(store: S) {
    for id in ["state", "kind", "fingerprint", "edited", "newer"] {
        let error = store.get(id).await.unwrap_err();
        assert!(
            matches!(&error, Error::Decode { id: row, .. } if row == id),
            "{id}: {error}"
        );
        let error = store.transition(id, 0, Worker::InReview).await.unwrap_err();
        assert!(matches!(error, Error::Decode { .. }), "{id}: {error}");
    }
    let error = store.get("edited").await.unwrap_err();
    assert!(
        error.to_string().contains("changed outside the store"),
        "{error}"
    );
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
    // A row at the largest version reads, but takes no step.
    let last = store.get("last").await.unwrap().unwrap();
    assert_eq!(last.version, i64::MAX as u64);
    let error = store
        .transition("last", last.version, Worker::InReview)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::Decode { id, message } if id == "last" && message.contains("the largest")),
        "{error}"
    );
    assert_eq!(store.get("last").await.unwrap().unwrap(), last);
    // Nothing changed.
    assert!(store.changes_since(0, 10).await.unwrap().is_empty());
    assert_eq!(store.get("fine").await.unwrap().unwrap().version, 0);
}

/// Subscribers see every change committed through another store on the
/// same database, once, in order.
pub(crate) async fn subscribers<S: Store<Worker>>(watcher_store: S, writer: S) {
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

/// A change feed read as a `Stream`, and through `next()` calls that are
/// dropped while their read is under way: each change comes out once, in
/// order, whichever way it is read.
pub(crate) async fn streams_and_cancelled_reads<S: Store<Worker>>(watcher_store: S, writer: S) {
    use std::pin::{pin, Pin};
    writer.insert("s", &Worker::Assigned).await.unwrap();
    let mut changes = watcher_store.subscribe().await.unwrap();
    let step = |version: u64| {
        let writer = writer.clone();
        async move {
            let current = writer.get("s").await.unwrap().unwrap();
            assert_eq!(current.version, version);
            let next = next_in_cycle(&current.state);
            writer.transition("s", version, next).await.unwrap();
        }
    };
    let mut seen = Vec::new();
    for version in 0..6 {
        // A read started and dropped before anything was committed.
        assert!(crate::support::poll_once(pin!(changes.next()))
            .await
            .is_none());
        step(version).await;
        let change = if version % 2 == 0 {
            within(std::future::poll_fn(|cx| {
                futures_core::Stream::poll_next(Pin::new(&mut changes), cx)
            }))
            .await
            .expect("the stream never ends")
        } else {
            within(changes.next()).await
        };
        seen.push(change.unwrap().version);
    }
    assert_eq!(seen, [1, 2, 3, 4, 5, 6]);
    let last = writer.changes_since(0, usize::MAX).await.unwrap();
    assert_eq!(
        Some(changes.position()),
        last.last().map(|change| change.position)
    );
}

/// Moves machine `m` along the cycle with compare-and-set until it reached
/// version `until`; returns how many of its moves won.
pub(crate) async fn cycle_until<S: Store<Worker>>(store: S, until: u64) -> u64 {
    let mut wins = 0;
    loop {
        let current = store.get("m").await.unwrap().unwrap();
        if current.version >= until {
            return wins;
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
}

/// Inserts the rows [`GARBAGE`] breaks (and one that stays `fine`) through
/// `store`, and `newer` through a store of the next release's table.
pub(crate) async fn insert_rows_to_break<S, N>(store: &S, newer: &N)
where
    S: Store<Worker>,
    N: Store<next_release::Worker>,
{
    for id in ["state", "kind", "fingerprint", "edited", "fine", "last"] {
        store.insert(id, &Worker::Working).await.unwrap();
    }
    newer
        .insert("newer", &next_release::Worker::Assigned)
        .await
        .unwrap();
}

/// Hand edits that break rows `state`, `kind` and `fingerprint`, change
/// `edited` to another state that decodes (but not through a store), and
/// put `last` at the largest version (the same SQL on every backend).
pub(crate) const GARBAGE: [&str; 5] = [
    "UPDATE statewright_machines SET state = '\"Approved\"', kind = 'Approved' WHERE id = 'edited'",
    "UPDATE statewright_machines SET state = '{\"Nope\":1}' WHERE id = 'state'",
    "UPDATE statewright_machines SET kind = 'Completed' WHERE id = 'kind'",
    "UPDATE statewright_machines SET fingerprint = 42 WHERE id = 'fingerprint'",
    // The largest version a row holds: one more step would repeat it.
    "UPDATE statewright_machines SET version = 9223372036854775807 WHERE id = 'last'",
];

/// Inserts machine `m`, races `stores` on it for `rounds`, and checks the
/// outbox through `reader`.
pub(crate) async fn race_from_start<S: Store<Worker>>(stores: Vec<S>, rounds: u64, reader: &S) {
    reader.insert("m", &Worker::Assigned).await.unwrap();
    let writers = stores.len() * 4;
    let (wins, stale) = race(stores, rounds).await;
    assert_eq!(wins + stale, writers * rounds as usize);
    assert!(wins >= rounds as usize, "at least one winner per round");
    assert_outbox_is_the_history(reader, wins as u64).await;
}

/// Three child processes (this test binary, run with `configure`'s
/// arguments) cycle machine `m` to version `until` against `store`'s
/// database: every version is won by exactly one of them.
pub(crate) async fn race_in_processes<S: Store<Worker>>(
    store: &S,
    until: u64,
    configure: impl Fn(&mut std::process::Command),
) {
    store.insert("m", &Worker::Assigned).await.unwrap();
    // This process watches what the others commit.
    let mut watching = store.watch("m").await.unwrap();
    let children: Vec<_> = (0..3)
        .map(|_| {
            let mut command = std::process::Command::new(std::env::current_exe().unwrap());
            command
                .args(["--nocapture", "--test-threads=1"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            configure(&mut command);
            command.spawn().unwrap()
        })
        .collect();
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
        let count = stdout
            .lines()
            .find_map(|line| line.split("child wins: ").nth(1))
            .unwrap_or_else(|| panic!("no result in:\n{stdout}"));
        wins += count
            .split_whitespace()
            .next()
            .unwrap()
            .parse::<u64>()
            .unwrap();
    }
    assert_eq!(wins, until, "every version won by exactly one process");
    assert_outbox_is_the_history(store, until).await;
    for version in 1..=until {
        let change = within(watching.next()).await.unwrap();
        assert_eq!(change.version, version, "every change seen once, in order");
    }
}

/// Transitions whose futures are dropped at every point of their flight
/// (after 0 to 3 ms): each either committed whole (the version rose by
/// one, with its outbox row) or not at all, as `Store`'s cancel-safety docs
/// say; reading the machine afterwards tells which.
pub(crate) async fn cancelled_writes<S: Store<Worker>>(store: S) {
    store.insert("c", &Worker::Assigned).await.unwrap();
    let mut committed = 0;
    for attempt in 0..60_u64 {
        let before = store.get("c").await.unwrap().unwrap();
        let write = store.transition("c", before.version, next_in_cycle(&before.state));
        let finished = tokio::time::timeout(std::time::Duration::from_micros(attempt * 50), write)
            .await
            .is_ok();
        // A dropped write may still be running (on the blocking pool, or on
        // the server): wait until the machine stops changing.
        let after = within(async {
            let mut last = store.get("c").await.unwrap().unwrap();
            loop {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                let now = store.get("c").await.unwrap().unwrap();
                if now == last {
                    return now;
                }
                last = now;
            }
        })
        .await;
        assert!(
            after.version == before.version || after.version == before.version + 1,
            "attempt {attempt}: {before:?} -> {after:?}"
        );
        if after.version > before.version {
            committed += 1;
            assert_eq!(after.state, next_in_cycle(&before.state));
        } else {
            assert!(
                !finished,
                "attempt {attempt}: a finished write is committed"
            );
            assert_eq!(after, before);
        }
    }
    // Every committed write has its outbox row, and no other row exists.
    let outbox = store.changes_since(0, 1000).await.unwrap();
    assert_eq!(outbox.len(), committed);
    assert!(outbox
        .iter()
        .zip(1..)
        .all(|(change, version)| change.version == version));
    println!("cancelled writes: {committed} of 60 committed");
}

/// What a release with schema 1 left behind, after its tables (the same
/// SQL on every backend): machine `old` at version 2, its two changes at
/// outbox positions 1 and 2.
pub(crate) fn schema_1_rows() -> Vec<String> {
    let fingerprint =
        i64::from_ne_bytes(<Worker as statewright::StateMachine>::FINGERPRINT.to_ne_bytes());
    vec![
        "INSERT INTO statewright_schema (version) VALUES (1)".to_owned(),
        format!(
            "INSERT INTO statewright_machines (machine, id, kind, state, version, fingerprint, updated_at)
             VALUES ('Worker', 'old', 'InReview', '\"InReview\"', 2, {fingerprint}, 0)"
        ),
        format!(
            "INSERT INTO statewright_outbox (machine, id, version, from_kind, state, fingerprint, at)
             VALUES ('Worker', 'old', 1, 'Assigned', '\"Working\"', {fingerprint}, 0),
                    ('Worker', 'old', 2, 'Working', '\"InReview\"', {fingerprint}, 0)"
        ),
    ]
}

/// After [`schema_1_rows`], opened by this release: every row reads, the
/// machine goes on from its version, and new changes come after the old
/// ones in the outbox.
pub(crate) async fn assert_upgraded_from_1<S: Store<Worker>>(store: S, again: S) {
    let old = store.get("old").await.unwrap().unwrap();
    assert_eq!((old.state, old.version), (Worker::InReview, 2));
    let history = store.changes_since(0, 10).await.unwrap();
    let positions: Vec<_> = history.iter().map(|change| change.position).collect();
    assert_eq!(positions, [1, 2]);
    assert_eq!(history[1].from, WorkerKind::Working);
    let mut watch = again.watch("old").await.unwrap();
    let moved = store.transition("old", 2, Worker::Approved).await.unwrap();
    assert_eq!(moved.version, 3);
    let seen = within(watch.next()).await.unwrap();
    assert_eq!(
        (seen.version, seen.from, &seen.to),
        (3, WorkerKind::InReview, &Worker::Approved)
    );
    assert!(seen.position > 2, "{}", seen.position);
    assert_eq!(again.changes_since(2, 10).await.unwrap(), [seen]);
    // Stale writers and bad edges are still told apart after the upgrade.
    let stale = store
        .transition("old", 2, Worker::Completed)
        .await
        .unwrap_err();
    assert!(
        matches!(
            stale,
            Error::Stale {
                expected: 2,
                actual: 3,
                ..
            }
        ),
        "{stale}"
    );
}

/// The schema version a later release would write.
pub(crate) const SCHEMA_FROM_THE_FUTURE: &str = "UPDATE statewright_schema SET version = 99";

/// A store refuses a database of a later release, saying so.
pub(crate) fn assert_refused_as_newer<T: std::fmt::Debug>(opened: Result<T, Error>) {
    let error = opened.unwrap_err().to_string();
    assert!(error.contains("schema version 99"), "{error}");
}

/// Hand edits that give row `t` a state timer (as the durable runner
/// writes one) and row `half` a deadline without an event (the same SQL on
/// every backend); the timer columns are not under the row's checksum.
pub(crate) const TIMERS: [&str; 2] = [
    "UPDATE statewright_machines SET timer_at = 1796658407000000000, timer_event = '\"Tick\"' WHERE id = 't'",
    "UPDATE statewright_machines SET timer_at = 1 WHERE id = 'half'",
];

/// Inserts the rows [`TIMERS`] edits.
pub(crate) async fn insert_timer_rows<S: Store<Worker>>(store: &S) {
    for id in ["t", "half"] {
        store.insert(id, &Worker::Working).await.unwrap();
    }
}

/// After [`TIMERS`]: a stored timer reads back, an update keeps it, a
/// transition clears it (it belonged to the state left), and a timer
/// half set is a decode error.
pub(crate) async fn assert_timers<S: Store<Worker>>(store: S) {
    use statewright::persist::PendingTimer;
    use std::time::{Duration, UNIX_EPOCH};
    let expected = PendingTimer::new(
        UNIX_EPOCH + Duration::from_secs(1_796_658_407),
        "\"Tick\"".to_owned(),
    );
    let stored = store.get("t").await.unwrap().unwrap();
    assert_eq!(stored.timer.as_ref(), Some(&expected));
    let updated = store.update("t", 0, Worker::Working).await.unwrap();
    assert_eq!(updated.timer.as_ref(), Some(&expected));
    assert_eq!(store.get("t").await.unwrap().unwrap().timer, Some(expected));
    let moved = store.transition("t", 1, Worker::InReview).await.unwrap();
    assert_eq!(moved.timer, None);
    assert_eq!(store.get("t").await.unwrap().unwrap().timer, None);
    let error = store.get("half").await.unwrap_err();
    assert!(error.to_string().contains("not both"), "{error}");
    assert_eq!(
        store.insert("new", &Worker::Assigned).await.unwrap().timer,
        None
    );
}

/// Rows written under the next release's table are refused by this one
/// until a migration maps them; a row the mapping refuses stays as it was,
/// reported by id; versions are kept.
pub(crate) async fn migration<S, N>(store: S, newer: N)
where
    S: Store<Worker>,
    N: Store<next_release::Worker>,
{
    use next_release::Worker as Next;
    newer.insert("a", &Next::Assigned).await.unwrap();
    newer.insert("b", &Next::Assigned).await.unwrap();
    newer.transition("b", 0, Next::Working).await.unwrap();
    newer.insert("c", &Next::Completed).await.unwrap();
    assert!(matches!(store.get("a").await, Err(Error::Decode { .. })));
    let from = <Next as statewright::StateMachine>::FINGERPRINT;
    let migrated = store
        .migrate(from, |old| {
            if old == serde_json::json!("Completed") {
                return Err("no longer kept".to_owned());
            }
            serde_json::from_value(old).map_err(|error| error.to_string())
        })
        .await
        .unwrap();
    assert_eq!(migrated.rewritten, 2);
    assert_eq!(
        migrated.failed,
        [("c".to_owned(), "no longer kept".to_owned())]
    );
    let a = store.get("a").await.unwrap().unwrap();
    assert_eq!((a.state, a.version), (Worker::Assigned, 0));
    let b = store.get("b").await.unwrap().unwrap();
    assert_eq!((b.state, b.version), (Worker::Working, 1));
    // Migrated rows take steps under today's table; `c` is as it was.
    store.transition("b", 1, Worker::InReview).await.unwrap();
    assert!(matches!(store.get("c").await, Err(Error::Decode { .. })));
    assert_eq!(
        newer.get("c").await.unwrap().unwrap().state,
        Next::Completed
    );
    // A second run finds nothing left to map but what it refused.
    let again = store
        .migrate(from, |_| Err("still no".to_owned()))
        .await
        .unwrap();
    assert_eq!((again.rewritten, again.failed.len()), (0, 1));
}
