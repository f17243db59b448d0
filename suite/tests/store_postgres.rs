//! The store contract on PostgreSQL, each test in a fresh database of the
//! server at `STATEWRIGHT_POSTGRES_URL` (`scripts/postgres` starts one).
//! Without it, this prints how to run them and passes.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use statewright::store::{PostgresStore, Store};
use tokio_postgres::NoTls;

// Shared with the root's SQLite tests: one contract, both backends.
#[path = "../../tests/durable_contract/mod.rs"]
mod durable_contract;
#[path = "../../tests/fleet_contract/mod.rs"]
mod fleet_contract;
#[path = "../../tests/store_contract/mod.rs"]
mod store_contract;
#[path = "../../tests/support/mod.rs"]
mod support;

use store_contract::{next_release, Worker};
use support::within;

const URL: &str = "STATEWRIGHT_POSTGRES_URL";

/// A fresh database on the server; returns its URL.
async fn database(server: &str) -> String {
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let name = format!(
        "statewright_{}_{}",
        std::process::id(),
        COUNT.fetch_add(1, Ordering::Relaxed)
    );
    let admin = client(server).await;
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let (base, _) = server.rsplit_once('/').unwrap();
    format!("{base}/{name}")
}

async fn client(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await.unwrap();
    tokio::spawn(connection);
    client
}

async fn store(url: &str) -> PostgresStore<Worker> {
    PostgresStore::connect(url).await.unwrap()
}

async fn basics(url: String) {
    store_contract::basics(store(&url).await).await;
}

async fn illegal(url: String) {
    store_contract::illegal(store(&url).await).await;
}

async fn cycle(url: String) {
    store_contract::cycle(store(&url).await).await;
}

async fn racing_tasks(url: String) {
    let one = store(&url).await;
    store_contract::race_from_start(vec![one.clone()], 20, &one).await;
}

async fn racing_stores(url: String) {
    let (first, second) = (store(&url).await, store(&url).await);
    store_contract::race_from_start(vec![first, second.clone()], 15, &second).await;
}

async fn racing_processes(url: String) {
    let one = store(&url).await;
    store_contract::race_in_processes(&one, 60, |command| {
        command.arg("child").arg(&url);
    })
    .await;
}

async fn decode_errors(url: String) {
    let one = store(&url).await;
    let newer = PostgresStore::<next_release::Worker>::connect(&url)
        .await
        .unwrap();
    store_contract::insert_rows_to_break(&one, &newer).await;
    let edit = client(&url).await;
    for statement in store_contract::GARBAGE {
        edit.batch_execute(statement).await.unwrap();
    }
    store_contract::assert_decode_errors(one).await;
}

async fn streams(url: String) {
    store_contract::streams_and_cancelled_reads(store(&url).await, store(&url).await).await;
}

async fn subscribers(url: String) {
    store_contract::subscribers(store(&url).await, store(&url).await).await;
}

/// A watcher whose `LISTEN` connection is killed mid-stream reconnects
/// and still sees every change exactly once, in order.
async fn watcher_survives_a_killed_connection(url: String) {
    let (watcher_store, writer) = (store(&url).await, store(&url).await);
    writer.insert("w", &Worker::Assigned).await.unwrap();
    let mut changes = watcher_store.watch("w").await.unwrap();
    let (seen_tx, mut seen) = tokio::sync::mpsc::unbounded_channel();
    let reader = tokio::spawn(async move {
        loop {
            let change = changes.next().await.unwrap();
            if seen_tx.send(change.version).is_err() {
                return;
            }
        }
    });
    let admin = client(&url).await;
    within(async {
        while listeners(&admin).await.is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    let mut received = Vec::new();
    for version in 0..20 {
        store_contract::step(&writer, "w").await;
        if version == 9 {
            received.push(within(seen.recv()).await.unwrap());
            let before = listeners(&admin).await;
            assert_eq!(before.len(), 1, "one listener to kill");
            admin
                .execute("SELECT pg_terminate_backend($1)", &[&before[0]])
                .await
                .unwrap();
            // The listener reconnects on its own: a new backend.
            within(async {
                while !listeners(&admin).await.iter().any(|pid| *pid != before[0]) {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            })
            .await;
        }
    }
    while received.len() < 20 {
        received.push(within(seen.recv()).await.unwrap());
    }
    assert_eq!(received, (1..=20).collect::<Vec<u64>>());
    // Nothing more: a change delivered twice would show up here.
    let extra = tokio::time::timeout(Duration::from_millis(1500), seen.recv()).await;
    assert!(extra.is_err(), "a change delivered twice: {extra:?}");
    reader.abort();
}

/// Every commit through a store is followed by a notification on its
/// channel, seen here on a raw `LISTEN` connection (no poll behind it).
/// Of two writes back to back the first carries the notification in its
/// statement; the second falls inside the store's 2 ms between two
/// notifications, and its own follows once the writes stop.
async fn commits_are_notified(url: String) {
    let writer = store(&url).await;
    writer.insert("w", &Worker::Assigned).await.unwrap();
    let (listener, mut connection) = tokio_postgres::connect(&url, NoTls).await.unwrap();
    let (sent, mut notifications) = tokio::sync::mpsc::unbounded_channel();
    let driver = tokio::spawn(async move {
        while let Some(Ok(message)) = std::future::poll_fn(|cx| connection.poll_message(cx)).await {
            if let tokio_postgres::AsyncMessage::Notification(notification) = message {
                let _ = sent.send(notification.channel().to_string());
            }
        }
    });
    listener
        .batch_execute("LISTEN statewright_changes")
        .await
        .unwrap();
    for _ in 0..10 {
        // Whatever the writes before sent has arrived by now.
        tokio::time::sleep(Duration::from_millis(20)).await;
        while notifications.try_recv().is_ok() {}
        store_contract::step(&writer, "w").await;
        store_contract::step(&writer, "w").await;
        for _ in 0..2 {
            let channel = within(notifications.recv()).await.unwrap();
            assert_eq!(channel, "statewright_changes");
        }
    }
    driver.abort();
}

/// The backends of the current database's `LISTEN` connections.
async fn listeners(admin: &tokio_postgres::Client) -> Vec<i32> {
    admin
        .query(
            "SELECT pid FROM pg_stat_activity
              WHERE query LIKE 'LISTEN%' AND datname = current_database()",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect()
}

async fn durable_saves_before_the_reply(url: String) {
    durable_contract::saves_before_the_reply(PostgresStore::connect(&url).await.unwrap()).await;
}

/// Sends `signal` (`STOP`, `CONT`) to the processes `pids`.
fn signal(signal: &str, pids: &[i32]) {
    let status = std::process::Command::new("kill")
        .arg(format!("-{signal}"))
        .args(pids.iter().map(ToString::to_string))
        .status()
        .unwrap();
    assert!(status.success(), "kill -{signal} {pids:?}");
}

/// A store whose connections are named `app` (for [`freeze`]), with
/// `timeout` on every call and on connecting.
async fn named_store<M>(url: &str, app: &str, timeout: Duration) -> PostgresStore<M>
where
    M: statewright::StateMachine + serde::Serialize + serde::de::DeserializeOwned + Clone + Sync,
{
    PostgresStore::builder(&format!("{url}?application_name={app}"))
        .timeout(timeout)
        .connect_timeout(timeout)
        .connect()
        .await
        .unwrap()
}

/// Stops (SIGSTOP) the server's postmaster and the backends of the
/// connections named `app`, as a hung host or a dropped network leaves
/// them; the processes, to thaw with `signal("CONT", ..)`.
async fn freeze(url: &str, app: &str) -> Vec<i32> {
    let admin = client(url).await;
    let data: String = admin
        .query_one("SHOW data_directory", &[])
        .await
        .unwrap()
        .get(0);
    let postmaster: i32 = std::fs::read_to_string(format!("{data}/postmaster.pid"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let mut frozen: Vec<i32> = admin
        .query(
            "SELECT pid FROM pg_stat_activity WHERE application_name = $1",
            &[&app],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert!(!frozen.is_empty(), "the store's connections");
    frozen.push(postmaster);
    signal("STOP", &frozen);
    frozen
}

/// A fleet whose database freezes stops taking events before its leases
/// end (no renewal gets through for two thirds of a lease: every
/// activation is passivated); after the thaw, the next event activates the
/// machine again, `seq` going on.
async fn fleet_frozen_server(url: String) {
    use durable_contract::{Lamp, Lamplighter, Switch};
    use statewright::fleet::Fleet;
    use statewright::Applied;

    let app = "statewright_fleet_frozen";
    let store = named_store::<Lamp>(&url, app, Duration::from_millis(500)).await;
    let on_for = Duration::from_secs(3600);
    let fleet = Fleet::new(store, move |_: &str| Lamplighter { on_for })
        .lease(Duration::from_millis(1500))
        .start();
    let fleet = within(fleet).await.unwrap();
    within(fleet.insert("lamp", Lamp::Off)).await.unwrap();
    within(fleet.send("lamp", Switch::Press)).await.unwrap();
    let frozen = freeze(&url, app).await;
    within(async {
        while fleet.active() > 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    signal("CONT", &frozen);
    let applied = within(fleet.send("lamp", Switch::Press)).await.unwrap();
    assert!(
        matches!(applied, Applied::Transitioned { seq: 2, .. }),
        "{applied:?}"
    );
    within(fleet.shutdown()).await;
}

/// A frozen server (its postmaster and the store's backends stopped with
/// SIGSTOP, as a hung host or a dropped network leaves them) fails every
/// call within the store's timeout instead of hanging; a durable run whose
/// write times out ends `Lost`. After the server thaws, the write either
/// committed or did not: the version says which, as the docs promise.
async fn a_frozen_server_fails_calls_within_the_timeout(url: String) {
    use durable_contract::{Command, Order};
    use statewright::{Outcome, Runner, RunnerError};

    let app = "statewright_frozen";
    let store = named_store::<Order>(&url, app, Duration::from_secs(2)).await;
    store.insert("o", &Order::Open { items: 0 }).await.unwrap();
    let (handler, _) = durable_contract::clerk();
    let order = Runner::load(handler, store.clone(), "o")
        .await
        .unwrap()
        .spawn();
    let frozen = freeze(&url, app).await;

    let sent = within(order.send(Command::Pay)).await;
    let reads = [
        within(store.get("o")).await.map(|_| ()),
        within(store.insert("p", &Order::Open { items: 0 }))
            .await
            .map(|_| ()),
        within(store.transition("o", 0, Order::Cancelled))
            .await
            .map(|_| ()),
    ];
    signal("CONT", &frozen);

    match &sent {
        Err(RunnerError::NotSaved { message, .. }) => {
            assert!(message.contains("no answer within 2s"), "{message}");
        }
        other => panic!("expected NotSaved, got {other:?}"),
    }
    let outcome = within(order.join()).await;
    assert!(matches!(&outcome, Outcome::Lost { .. }), "{outcome}");
    for read in reads {
        let error = read.unwrap_err();
        assert!(error.to_string().contains("no answer within 2s"), "{error}");
    }
    // Thawed: the machine is at 0 (nothing committed) or 1 (a write whose
    // COMMIT had reached the server), never anything else.
    let stored = within(store.get("o")).await.unwrap().unwrap();
    assert!(stored.version <= 2, "{stored:?}");
}

async fn cancelled_writes(url: String) {
    store_contract::cancelled_writes(store(&url).await).await;
}

async fn durable_lost_race(url: String) {
    durable_contract::lost_race(PostgresStore::connect(&url).await.unwrap()).await;
}

/// A child process dies between the write and the reply; the next load
/// sees the write.
async fn durable_crash_loses_nothing(url: String) {
    let store = PostgresStore::<durable_contract::Order>::connect(&url)
        .await
        .unwrap();
    store
        .insert("o", &durable_contract::Order::Open { items: 2 })
        .await
        .unwrap();
    let exe = std::env::current_exe().unwrap();
    let child = tokio::task::spawn_blocking(move || {
        std::process::Command::new(exe)
            .args(["crash", &url])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(!child.status.success(), "the child must die mid-event");
    durable_contract::after_the_crash(store).await;
}

/// Tables as the release before the single-statement compare-and-set
/// wrote them.
const SCHEMA_1: &str = "
CREATE TABLE statewright_schema (version BIGINT NOT NULL);
CREATE TABLE statewright_machines (
    machine TEXT NOT NULL, id TEXT NOT NULL, kind TEXT NOT NULL, state TEXT NOT NULL,
    version BIGINT NOT NULL, fingerprint BIGINT NOT NULL, updated_at BIGINT NOT NULL,
    PRIMARY KEY (machine, id)
);
CREATE INDEX statewright_machines_by_kind ON statewright_machines (machine, kind, id);
CREATE TABLE statewright_outbox (
    position BIGSERIAL PRIMARY KEY, machine TEXT NOT NULL, id TEXT NOT NULL,
    version BIGINT NOT NULL, from_kind TEXT NOT NULL, state TEXT NOT NULL,
    fingerprint BIGINT NOT NULL, at BIGINT NOT NULL
);
CREATE INDEX statewright_outbox_by_machine ON statewright_outbox (machine, position);
";

async fn upgraded_from_1(url: String) {
    let old = client(&url).await;
    old.batch_execute(SCHEMA_1).await.unwrap();
    for statement in store_contract::schema_1_rows() {
        old.batch_execute(&statement).await.unwrap();
    }
    store_contract::assert_upgraded_from_1(store(&url).await, store(&url).await).await;
}

async fn later_release_refused(url: String) {
    drop(store(&url).await);
    let edit = client(&url).await;
    edit.batch_execute(store_contract::SCHEMA_FROM_THE_FUTURE)
        .await
        .unwrap();
    store_contract::assert_refused_as_newer(PostgresStore::<Worker>::connect(&url).await);
}

/// A transaction that holds machine `a` locked (a slow writer, or someone
/// at a SQL prompt) stops writers of `a`, not writers of `b`; `b`'s change
/// reaches readers only once that transaction, which began writing first,
/// has ended, so no reader can pass a position that is filled later.
async fn independent_machines(url: String) {
    let store = store(&url).await;
    for id in ["a", "b"] {
        store.insert(id, &Worker::Assigned).await.unwrap();
    }
    let mut feed = store.subscribe().await.unwrap();
    let mut admin = client(&url).await;
    let locked = admin.transaction().await.unwrap();
    locked
        .execute(
            "SELECT 1 FROM statewright_machines WHERE id = 'a' FOR UPDATE",
            &[],
        )
        .await
        .unwrap();
    let writer_of_a = tokio::spawn({
        let store = store.clone();
        async move { store.transition("a", 0, Worker::Working).await }
    });
    let b = within(store.transition("b", 0, Worker::Working))
        .await
        .unwrap();
    assert_eq!(b.version, 1);
    assert!(!writer_of_a.is_finished(), "a's writer waits for a's lock");
    let early = tokio::time::timeout(Duration::from_millis(300), feed.next()).await;
    assert!(early.is_err(), "b's change is held back: {early:?}");
    locked.commit().await.unwrap();
    within(writer_of_a).await.unwrap().unwrap();
    let first = within(feed.next()).await.unwrap();
    let second = within(feed.next()).await.unwrap();
    assert!(first.position < second.position);
    let mut ids = [first.id, second.id];
    ids.sort();
    assert_eq!(ids, ["a", "b"]);
}

async fn timers(url: String) {
    let one = store(&url).await;
    store_contract::insert_timer_rows(&one).await;
    let edit = client(&url).await;
    for statement in store_contract::TIMERS {
        edit.batch_execute(statement).await.unwrap();
    }
    store_contract::assert_timers(one).await;
}

async fn durable_timers(url: String) {
    let store = PostgresStore::connect(&url).await.unwrap();
    durable_contract::timers_survive_a_restart(store, Duration::from_millis(300)).await;
}

async fn migration(url: String) {
    let newer = PostgresStore::<next_release::Worker>::connect(&url)
        .await
        .unwrap();
    store_contract::migration(store(&url).await, newer).await;
}

/// Fleet contract tests that need nothing but a store on a fresh database.
macro_rules! fleet_tests {
    ($($name:ident => $body:ident),* $(,)?) => {$(
        async fn $name(url: String) {
            fleet_contract::$body(PostgresStore::connect(&url).await.unwrap()).await;
        }
    )*};
}

fleet_tests! {
    fleet_one_activation => one_activation_per_id,
    fleet_passivation => idle_machines_passivate,
    fleet_due_timers => due_timers_wake_passivated_machines,
    fleet_unused_leases => unused_leases_are_given_back,
    fleet_renewals => renewals_keep_new_activations,
    fleet_passivation_drains => passivation_drops_nothing_queued,
    fleet_refusals => refusals_are_runner_errors,
    fleet_start_resumes => start_resumes_due_timers,
}

async fn fleet_leases(url: String) {
    let store = PostgresStore::connect(&url).await.unwrap();
    // The owner stalls past its lease: on the database's clock, expired.
    let edit = client(&url).await;
    let expire = async move {
        edit.batch_execute("UPDATE statewright_machines SET lease_until = 0 WHERE id = 'lamp'")
            .await
            .unwrap();
    };
    fleet_contract::leases_fence_a_second_owner(store, expire).await;
}

async fn fleet_many_senders(url: String) {
    let store = PostgresStore::connect(&url).await.unwrap();
    fleet_contract::many_senders(store, 1000, 10).await;
}

/// A command that runs this binary as a fleet's child process.
fn fleet_child(mode: &str, url: &str) -> std::process::Command {
    let mut command = std::process::Command::new(std::env::current_exe().unwrap());
    command.args(["fleet-child", mode, url]);
    command
}

async fn fleet_killed_owner(url: String) {
    let store = PostgresStore::connect(&url).await.unwrap();
    let child = fleet_child("hold", &url);
    fleet_contract::processes::killed_owner_is_taken_over(store, child).await;
}

async fn fleet_paused_owner(url: String) {
    let store = PostgresStore::connect(&url).await.unwrap();
    let child = fleet_child("sleep", &url);
    fleet_contract::processes::paused_owner_is_fenced(store, child).await;
}

async fn child(url: String) {
    let wins = store_contract::cycle_until(store(&url).await, 60).await;
    println!("child wins: {wins}");
}

/// A test: given its fresh database's URL.
type Test = fn(String) -> std::pin::Pin<Box<dyn Future<Output = ()>>>;

fn run<F: Future<Output = ()>>(
    runtime: &tokio::runtime::Runtime,
    test: impl FnOnce(String) -> F,
    url: String,
) {
    runtime.block_on(test(url));
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let args: Vec<String> = std::env::args().collect();
    if let Some(position) = args.iter().position(|arg| arg == "child") {
        run(&runtime, child, args[position + 1].clone());
        return;
    }
    if let Some(position) = args.iter().position(|arg| arg == "fleet-child") {
        let (mode, url) = (args[position + 1].clone(), args[position + 2].clone());
        runtime.block_on(async move {
            let store = PostgresStore::connect(&url).await.unwrap();
            fleet_contract::processes::child(store, &mode).await;
        });
        return;
    }
    if let Some(position) = args.iter().position(|arg| arg == "crash") {
        let url = args[position + 1].clone();
        runtime.block_on(async move {
            let store = PostgresStore::connect(&url).await.unwrap();
            durable_contract::crash_after_save(store).await;
        });
        return;
    }
    let Ok(server) = std::env::var(URL) else {
        println!(
            "PostgreSQL store tests skipped: run `scripts/postgres cargo test -p statewright-suite --test store_postgres` \
             (it installs and starts a throwaway PostgreSQL)"
        );
        return;
    };
    let tests: [(&str, Test); 35] = [
        ("fleet_frozen_server", |url| {
            Box::pin(fleet_frozen_server(url))
        }),
        ("fleet_passivation_drains", |url| {
            Box::pin(fleet_passivation_drains(url))
        }),
        ("fleet_renewals", |url| Box::pin(fleet_renewals(url))),
        ("fleet_unused_leases", |url| {
            Box::pin(fleet_unused_leases(url))
        }),
        ("fleet_killed_owner", |url| {
            Box::pin(fleet_killed_owner(url))
        }),
        ("fleet_paused_owner", |url| {
            Box::pin(fleet_paused_owner(url))
        }),
        ("fleet_many_senders", |url| {
            Box::pin(fleet_many_senders(url))
        }),
        ("fleet_refusals", |url| Box::pin(fleet_refusals(url))),
        ("fleet_one_activation", |url| {
            Box::pin(fleet_one_activation(url))
        }),
        ("fleet_passivation", |url| Box::pin(fleet_passivation(url))),
        ("fleet_due_timers", |url| Box::pin(fleet_due_timers(url))),
        ("fleet_start_resumes", |url| {
            Box::pin(fleet_start_resumes(url))
        }),
        ("fleet_leases", |url| Box::pin(fleet_leases(url))),
        ("migration", |url| Box::pin(migration(url))),
        ("durable_timers", |url| Box::pin(durable_timers(url))),
        ("timers", |url| Box::pin(timers(url))),
        ("upgraded_from_1", |url| Box::pin(upgraded_from_1(url))),
        ("later_release_refused", |url| {
            Box::pin(later_release_refused(url))
        }),
        ("independent_machines", |url| {
            Box::pin(independent_machines(url))
        }),
        ("basics", |url| Box::pin(basics(url))),
        ("illegal", |url| Box::pin(illegal(url))),
        ("cycle", |url| Box::pin(cycle(url))),
        ("racing_tasks", |url| Box::pin(racing_tasks(url))),
        ("racing_stores", |url| Box::pin(racing_stores(url))),
        ("racing_processes", |url| Box::pin(racing_processes(url))),
        ("decode_errors", |url| Box::pin(decode_errors(url))),
        ("subscribers", |url| Box::pin(subscribers(url))),
        ("streams", |url| Box::pin(streams(url))),
        ("commits_are_notified", |url| {
            Box::pin(commits_are_notified(url))
        }),
        ("watcher_survives_a_killed_connection", |url| {
            Box::pin(watcher_survives_a_killed_connection(url))
        }),
        ("durable_saves_before_the_reply", |url| {
            Box::pin(durable_saves_before_the_reply(url))
        }),
        ("durable_lost_race", |url| Box::pin(durable_lost_race(url))),
        ("cancelled_writes", |url| Box::pin(cancelled_writes(url))),
        ("frozen_server", |url| {
            Box::pin(a_frozen_server_fails_calls_within_the_timeout(url))
        }),
        ("durable_crash_loses_nothing", |url| {
            Box::pin(durable_crash_loses_nothing(url))
        }),
    ];
    let filter = args.iter().skip(1).find(|arg| !arg.starts_with('-'));
    for (name, test) in tests {
        if filter.is_some_and(|filter| !name.contains(filter.as_str())) {
            continue;
        }
        let url = runtime.block_on(database(&server));
        // Named on failure too: the panic's own text names only a line.
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            run(&runtime, test, url);
        }));
        if let Err(panic) = outcome {
            println!("test postgres::{name} ... FAILED");
            std::panic::resume_unwind(panic);
        }
        println!("test postgres::{name} ... ok");
    }
}
