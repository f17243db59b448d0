//! A coding agent's worker lifecycle (seed 004): named events, `fail` from any
//! live state, a retry out of `Failed`, and staleness derived from heartbeat
//! age instead of stored as a state. The second half keeps the workers in
//! SQLite: every transition is a compare-and-set on the machine's version,
//! and a publisher task reads each committed change from the outbox.
//!
//! Run with `cargo run --example worker` (in your own crate, enable the
//! `sqlite` feature of `statewright`). `scripts/postgres cargo run --example
//! worker --features postgres -- postgres` adds a third part: two OS
//! processes (this program runs itself again) share one PostgreSQL-backed
//! set of workers and watch each other's changes.

use std::collections::HashMap;
use std::fmt::{self, Write};

use statewright::state_machine;
#[cfg(feature = "postgres")]
use std::io::BufRead;
#[cfg(feature = "postgres")]
use std::process::{Command, Stdio};

#[cfg(feature = "postgres")]
use statewright::store::PostgresStore;
use statewright::store::{SqliteStore, Store, StoreError};

/// A worker assigned to one task.
#[state_machine]
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) enum Worker {
    /// Assigned, not yet picked up.
    #[initial]
    #[on(start => Working)]
    Assigned,
    /// Writing code on its branch.
    #[on(submit => InReview, conflict => Conflicted)]
    Working,
    /// A rebase went wrong.
    #[on(resolve => InReview)]
    #[to(Working)]
    Conflicted,
    /// Waiting for review.
    #[on(approve => Approved, rework => Working)]
    InReview,
    /// Ready to merge.
    #[on(complete => Completed, rework => Working)]
    Approved,
    /// Merged.
    #[terminal]
    Completed,
    /// Something broke; may be retried.
    #[from_any(fail)]
    #[on(retry => Assigned)]
    Failed {
        /// Why it failed.
        reason: String,
    },
}

/// How long since a live worker was last heard from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Staleness {
    /// Heard from recently.
    Ok,
    /// Quiet for a while.
    Warn,
    /// Probably stuck.
    Stale,
    /// Gone: no heartbeat for long, or never.
    Dead,
}

/// Derived, never stored: only `Assigned` and `Working` wait on the agent.
#[must_use]
fn staleness(state: WorkerKind, heartbeat_age_ms: Option<u64>) -> Staleness {
    if !matches!(state, WorkerKind::Assigned | WorkerKind::Working) {
        return Staleness::Ok;
    }
    match heartbeat_age_ms {
        None => Staleness::Dead,
        Some(age) if age > 600_000 => Staleness::Dead,
        Some(age) if age > 300_000 => Staleness::Stale,
        Some(age) if age > 120_000 => Staleness::Warn,
        Some(_) => Staleness::Ok,
    }
}

/// The demo, writing to `out` so a test can read it.
///
/// # Errors
///
/// Only if writing to `out` fails.
pub(crate) fn run(out: &mut impl Write) -> fmt::Result {
    let mut worker = Worker::Assigned;
    let fail = || WorkerEvent::Fail {
        reason: "tests do not compile".into(),
    };
    let events = [
        WorkerEvent::Start,
        WorkerEvent::Approve,
        WorkerEvent::Submit,
        WorkerEvent::Rework,
        fail(),
        WorkerEvent::Retry,
        WorkerEvent::Start,
        WorkerEvent::Submit,
        WorkerEvent::Approve,
        WorkerEvent::Complete,
        fail(),
    ];
    for event in events {
        let name = event.name();
        match worker.fire(event) {
            Ok(previous) => writeln!(out, "{name:>8}: {} -> {}", previous.kind(), worker.kind())?,
            Err(error) => writeln!(out, "{name:>8}: refused: {error}")?,
        }
    }
    for (kind, age) in [
        (WorkerKind::Working, Some(5_000)),
        (WorkerKind::Working, Some(400_000)),
        (WorkerKind::Assigned, None),
        (WorkerKind::InReview, None),
    ] {
        let heard = age.map_or("never".to_string(), |ms| format!("{ms} ms ago"));
        writeln!(out, "{kind}, heartbeat {heard}: {:?}", staleness(kind, age))?;
    }
    writeln!(out, "\n{}", Worker::MERMAID)?;
    Ok(())
}

/// The workers in SQLite; returns what it printed so a test can check it.
pub(crate) async fn store_demo() -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let path =
        std::env::temp_dir().join(format!("statewright-worker-{}.sqlite", std::process::id()));
    let result = store_demo_on(&path).await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    result
}

async fn store_demo_on(path: &std::path::Path) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let mut log = Vec::new();
    let mut say = |line: String| {
        println!("{line}");
        log.push(line);
    };
    let store = SqliteStore::<Worker>::open(path).await?;
    store.insert("w-1", &Worker::Assigned).await?;
    store.insert("w-2", &Worker::Assigned).await?;

    // The publisher reads committed changes from the outbox, in commit
    // order: what it prints was committed, and nothing committed is missed.
    let mut changes = store.subscribe().await?;
    let publisher = tokio::spawn(async move {
        let mut published = Vec::new();
        for _ in 0..4 {
            match changes.next().await {
                Ok(change) => published.push(format!(
                    "published #{} {} v{}: {} -> {}",
                    change.position,
                    change.id,
                    change.version,
                    change.from,
                    change.to.kind()
                )),
                Err(error) => published.push(format!("publisher stopped: {error}")),
            }
        }
        published
    });

    let started = store.fire("w-1", 0, WorkerEvent::Start).await?;
    say(format!(
        "w-1 start: {} at v{}",
        started.state.kind(),
        started.version
    ));
    // A second writer that read w-1 at version 0 loses the compare-and-set.
    match store.fire("w-1", 0, WorkerEvent::Submit).await {
        Err(error @ StoreError::Stale { .. }) => say(format!("w-1 stale writer: {error}")),
        other => say(format!("w-1 stale writer: unexpected {other:?}")),
    }
    let fail = WorkerEvent::Fail {
        reason: "tests do not compile".into(),
    };
    let failed = store.fire("w-2", 0, fail).await?;
    say(format!(
        "w-2 fail: {:?} at v{}",
        failed.state, failed.version
    ));
    let retried = store
        .fire("w-2", failed.version, WorkerEvent::Retry)
        .await?;
    say(format!(
        "w-2 retry: {} at v{}",
        retried.state.kind(),
        retried.version
    ));
    match store
        .fire("w-2", retried.version, WorkerEvent::Approve)
        .await
    {
        Err(error) => say(format!("w-2 approve: refused: {error}")),
        Ok(stored) => say(format!("w-2 approve: unexpected {:?}", stored.state)),
    }
    let started = store
        .fire("w-2", retried.version, WorkerEvent::Start)
        .await?;
    say(format!(
        "w-2 start: {} at v{}",
        started.state.kind(),
        started.version
    ));

    // Staleness is derived from heartbeat age, never stored as a state.
    let heartbeats: HashMap<&str, u64> = HashMap::from([("w-1", 5_000), ("w-2", 400_000)]);
    for worker in store.list(WorkerKind::Working).await? {
        let age = heartbeats.get(worker.id.as_str()).copied();
        say(format!(
            "{} {} v{}: {:?}",
            worker.id,
            worker.state.kind(),
            worker.version,
            staleness(worker.state.kind(), age)
        ));
    }
    for line in publisher.await? {
        say(line);
    }
    let outbox = store.changes_since(0, 100).await?;
    say(format!("outbox: {} committed changes", outbox.len()));
    Ok(log)
}

type AnyError = Box<dyn std::error::Error + Send + Sync>;

/// Moves worker `mine` (start, submit) and reports the two changes of
/// `theirs`, which the other process makes, as this one sees them.
#[cfg(feature = "postgres")]
async fn share(
    store: &PostgresStore<Worker>,
    who: &str,
    mine: &str,
    theirs: &str,
    watching: &mut statewright::store::Changes<Worker, PostgresStore<Worker>>,
) -> Result<(), AnyError> {
    store.fire(mine, 0, WorkerEvent::Start).await?;
    store.fire(mine, 1, WorkerEvent::Submit).await?;
    for _ in 0..2 {
        let change = watching.next().await?;
        println!(
            "{who} sees {theirs} v{}: {} -> {}",
            change.version,
            change.from,
            change.to.kind()
        );
    }
    Ok(())
}

/// The first process: creates both workers, starts the second process, and
/// each moves its own worker while watching the other's.
#[cfg(feature = "postgres")]
async fn two_processes(url: &str) -> Result<(), AnyError> {
    let store = PostgresStore::<Worker>::connect(url).await?;
    let run = std::process::id();
    let (mine, theirs) = (format!("first-{run}"), format!("second-{run}"));
    store.insert(&mine, &Worker::Assigned).await?;
    store.insert(&theirs, &Worker::Assigned).await?;
    let mut watching = store.watch(&theirs).await?;
    let mut second = Command::new(std::env::current_exe()?)
        .args(["postgres-second", url, &theirs, &mine])
        .stdout(Stdio::piped())
        .spawn()?;
    let output = second.stdout.take().ok_or("no stdout")?;
    // Its lines, echoed; the first says it is watching.
    let (ready_tx, ready) = tokio::sync::oneshot::channel();
    let echo = tokio::task::spawn_blocking(move || {
        let mut ready_tx = Some(ready_tx);
        for line in std::io::BufReader::new(output)
            .lines()
            .map_while(Result::ok)
        {
            if line == "watching" {
                if let Some(ready_tx) = ready_tx.take() {
                    let _ = ready_tx.send(());
                }
            } else {
                println!("{line}");
            }
        }
    });
    ready.await?;
    share(&store, "first process", &mine, &theirs, &mut watching).await?;
    echo.await?;
    if !tokio::task::spawn_blocking(move || second.wait())
        .await??
        .success()
    {
        return Err("the second process failed".into());
    }
    Ok(())
}

/// The second process.
#[cfg(feature = "postgres")]
async fn second_process(url: &str, mine: &str, theirs: &str) -> Result<(), AnyError> {
    let store = PostgresStore::<Worker>::connect(url).await?;
    let mut watching = store.watch(theirs).await?;
    println!("watching");
    share(&store, "second process", mine, theirs, &mut watching).await
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    #[cfg(feature = "postgres")]
    if let [_, mode, url, mine, theirs] = args.as_slice() {
        if mode == "postgres-second" {
            if let Err(error) = second_process(url, mine, theirs).await {
                eprintln!("second process failed: {error}");
                std::process::exit(1);
            }
            return;
        }
    }
    let mut out = String::new();
    run(&mut out).expect("writing to a String cannot fail");
    print!("{out}");
    if let Err(error) = store_demo().await {
        eprintln!("store demo failed: {error}");
        std::process::exit(1);
    }
    if args.get(1).map(String::as_str) == Some("postgres") {
        println!();
        if let Err(error) = postgres_part().await {
            eprintln!("two processes failed: {error}");
            std::process::exit(1);
        }
    }
}

/// How to run the PostgreSQL part, for both builds.
const RUN_WITH_POSTGRES: &str =
    "scripts/postgres cargo run --example worker --features postgres -- postgres";

/// Two processes sharing the PostgreSQL store at `STATEWRIGHT_POSTGRES_URL`.
#[cfg(feature = "postgres")]
async fn postgres_part() -> Result<(), AnyError> {
    let url = std::env::var("STATEWRIGHT_POSTGRES_URL")
        .map_err(|_| format!("set STATEWRIGHT_POSTGRES_URL, or run `{RUN_WITH_POSTGRES}`"))?;
    two_processes(&url).await
}

/// Without the `postgres` feature, what to run instead.
#[cfg(not(feature = "postgres"))]
#[allow(
    clippy::unused_async,
    reason = "the signature of the build with PostgreSQL"
)]
async fn postgres_part() -> Result<(), AnyError> {
    Err(format!("built without the `postgres` feature: run `{RUN_WITH_POSTGRES}`").into())
}
