//! A coding agent's worker lifecycle (seed 004): named events, `fail` from any
//! live state, a retry out of `Failed`, and staleness derived from heartbeat
//! age instead of stored as a state. The second part keeps the workers in
//! SQLite: every transition is a compare-and-set on the machine's version,
//! and a publisher task reads each committed change from the outbox. The
//! third part runs supervised workers as a fleet shared by two processes: the
//! second takes the workers and is killed (SIGKILL) mid-run; the first is
//! refused while the dead owner's leases last, then takes the workers over,
//! and each heartbeat timer (a stored state timer) fires once.
//!
//! Run with `cargo run --example worker` (in your own crate, enable the
//! `sqlite` feature of `statewright`). `scripts/postgres cargo run --example
//! worker --features postgres -- postgres` adds two parts: two OS
//! processes (this program runs itself again) share one PostgreSQL-backed
//! set of workers and watch each other's changes, and the fleet again, on
//! PostgreSQL.

use std::collections::HashMap;
use std::fmt::{self, Write};
use std::time::Duration;

use statewright::fleet::{Fleet, FleetBuilder, FleetError};
use statewright::{state_machine, Cx, Handler, Step};
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

/// A worker under supervision, as a fleet runs it: lifecycle events go
/// through the table, heartbeats re-arm the state timer, and a worker
/// silent for `timeout` fails. The timer is stored with the state, so it
/// fires once even if the process that set it dies.
pub(crate) struct Supervisor {
    timeout: Duration,
}

/// What a supervisor hears.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) enum Signal {
    /// A lifecycle event of the table.
    Lifecycle(WorkerEvent),
    /// The agent is alive.
    Heartbeat,
    /// No heartbeat for the whole timeout (the state timer's event).
    Silent,
}

/// Only `Assigned` and `Working` wait on the agent.
fn waits_on_agent(state: &Worker) -> bool {
    matches!(state, Worker::Assigned | Worker::Working)
}

impl Handler for Supervisor {
    type State = Worker;
    type Event = Signal;

    fn handle(&mut self, state: &Worker, signal: Signal, cx: &mut Cx<Self>) -> Step<Worker> {
        match signal {
            Signal::Lifecycle(event) => {
                let mut next = state.clone();
                match next.fire(event) {
                    Ok(_) => Step::to(next),
                    Err(error) => Step::reject(error.to_string()),
                }
            }
            Signal::Heartbeat if waits_on_agent(state) => {
                cx.set_timeout(self.timeout, Signal::Silent);
                Step::stay()
            }
            Signal::Heartbeat => Step::reject("not waiting on the agent"),
            Signal::Silent => Step::to(Worker::Failed {
                reason: "no heartbeat".into(),
            }),
        }
    }

    fn on_enter(&mut self, state: &Worker, cx: &mut Cx<Self>) {
        if waits_on_agent(state) {
            cx.set_timeout(self.timeout, Signal::Silent);
        }
    }
}

/// The workers the other owner takes, and how long its leases and the
/// heartbeat timeout last.
const FLEET_WORKERS: [&str; 3] = ["w-1", "w-2", "w-3"];
const LEASE: Duration = Duration::from_secs(1);
const HEARTBEAT_TIMEOUT: Duration = Duration::from_secs(2);

fn supervisors<S: Store<Worker>>(store: S) -> FleetBuilder<Supervisor, S> {
    Fleet::new(store, |_: &str| Supervisor {
        timeout: HEARTBEAT_TIMEOUT,
    })
    .lease(LEASE)
    .sweep_every(Duration::from_millis(100))
}

/// The other owner (a second process in `main`): takes the workers, starts
/// them and hears one heartbeat each, then is left to die.
pub(crate) async fn other_owner<S: Store<Worker>>(
    store: S,
) -> Result<Fleet<Supervisor, S>, AnyError> {
    let fleet = supervisors(store).owner("second").start().await?;
    for id in FLEET_WORKERS {
        fleet.insert(id, Worker::Assigned).await?;
        fleet
            .send(id, Signal::Lifecycle(WorkerEvent::Start))
            .await?;
        fleet.send(id, Signal::Heartbeat).await?;
    }
    Ok(fleet)
}

/// The fleet part: `kill_other` starts the other owner and kills it
/// mid-run; this owner is refused while the dead one's leases last, then
/// takes its workers over, and each heartbeat timer fires once.
pub(crate) async fn fleet_demo<S, F>(store: S, kill_other: F) -> Result<Vec<String>, AnyError>
where
    S: Store<Worker>,
    F: std::future::Future<Output = Result<(), AnyError>>,
{
    let mut log = Vec::new();
    let mut say = |line: String| {
        println!("{line}");
        log.push(line);
    };
    let mut changes = store.subscribe().await?;
    kill_other.await?;
    say(format!(
        "the second owner took {} workers and died (leases of {LEASE:?}, heartbeat timeout {HEARTBEAT_TIMEOUT:?})",
        FLEET_WORKERS.len()
    ));
    let fleet = supervisors(store.clone()).owner("first").start().await?;
    match fleet.send("w-1", Signal::Heartbeat).await {
        Err(FleetError::NotOwner { owner, .. }) => {
            say(format!(
                "first owner: w-1 is still `{owner}`'s until its lease ends"
            ));
        }
        other => say(format!("first owner: w-1 unexpectedly {other:?}")),
    }
    let mut failed = 0;
    while failed < FLEET_WORKERS.len() {
        let change = changes.next().await?;
        if let Worker::Failed { reason } = &change.to {
            failed += 1;
            say(format!(
                "{} v{}: {} -> Failed ({reason}), fired by the first owner",
                change.id, change.version, change.from
            ));
        }
    }
    let outbox = store.changes_since(0, usize::MAX).await?;
    let failures = outbox
        .iter()
        .filter(|change| change.to.kind() == WorkerKind::Failed)
        .count();
    say(format!(
        "each heartbeat timer fired once: {failures} failures in the outbox for {} workers",
        FLEET_WORKERS.len()
    ));
    fleet.shutdown().await;
    Ok(log)
}

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

/// Starts this program again as the other owner of the fleet part (`mode`
/// names the store, at `location`), waits until it holds the workers, and
/// kills it (SIGKILL: no shutdown, its leases stay until they expire).
async fn kill_other_process(mode: &str, location: &str) -> Result<(), AnyError> {
    use std::io::BufRead as _;
    let mut other = std::process::Command::new(std::env::current_exe()?)
        .args(["fleet-second", mode, location])
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    let output = other.stdout.take().ok_or("no stdout")?;
    let ready = tokio::task::spawn_blocking(move || {
        std::io::BufReader::new(output)
            .lines()
            .map_while(Result::ok)
            .any(|line| line == "ready")
    });
    let ready = ready.await?;
    other.kill()?;
    other.wait()?;
    if ready {
        Ok(())
    } else {
        Err("the other owner ended before it held the workers".into())
    }
}

/// The other owner's process: holds the workers until it is killed.
async fn other_process(mode: &str, location: &str) -> Result<(), AnyError> {
    match mode {
        "sqlite" => hold(other_owner(SqliteStore::<Worker>::open(location).await?).await?).await,
        #[cfg(feature = "postgres")]
        "postgres" => {
            hold(other_owner(PostgresStore::<Worker>::connect(location).await?).await?).await
        }
        other => Err(format!("no store `{other}`").into()),
    }
}

/// Says it holds the workers, and keeps `fleet` running until the process
/// is killed.
async fn hold<S: Store<Worker>>(fleet: Fleet<Supervisor, S>) -> Result<(), AnyError> {
    println!("ready");
    std::future::pending::<()>().await;
    drop(fleet);
    Ok(())
}

/// The fleet part on an SQLite file that both processes open.
async fn sqlite_fleet_part() -> Result<(), AnyError> {
    let path = std::env::temp_dir().join(format!(
        "statewright-worker-fleet-{}.sqlite",
        std::process::id()
    ));
    let location = path.display().to_string();
    let result = async {
        let store = SqliteStore::<Worker>::open(&path).await?;
        fleet_demo(store, kill_other_process("sqlite", &location)).await
    }
    .await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    result.map(drop)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let [_, role, mode, location] = args.as_slice() {
        if role == "fleet-second" {
            if let Err(error) = other_process(mode, location).await {
                eprintln!("the other owner failed: {error}");
                std::process::exit(1);
            }
            return;
        }
    }
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
    println!("\nA fleet of supervised workers, two processes sharing the SQLite file:");
    if let Err(error) = sqlite_fleet_part().await {
        eprintln!("fleet demo failed: {error}");
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
    two_processes(&url).await?;
    println!("\nThe fleet of supervised workers, on PostgreSQL:");
    let store = PostgresStore::<Worker>::connect(&url).await?;
    fleet_demo(store, kill_other_process("postgres", &url)).await?;
    Ok(())
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
