//! 100,000 passivated machines whose stored timers fall due over a minute:
//! one fleet's sweeper activates each in time for its timer, which fires
//! once. Prints how late the timers fired (p50, p99, max) and how many
//! machines each fired once. SQLite on tmpfs (`/dev/shm` when there is
//! one), so the disk's fsync does not set the pace; under
//! `scripts/postgres`, PostgreSQL too.
// Counts and nanoseconds as floats for percentiles.
#![allow(
    clippy::cast_precision_loss,
    clippy::cast_sign_loss,
    clippy::cast_possible_truncation
)]

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use statewright::fleet::Fleet;
use statewright::store::{PostgresStore, SqliteStore, Store};
use statewright::{state_machine, Cx, Handler, Step};
use support::{pg_client, pg_database};

#[state_machine]
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
enum Alarm {
    #[initial]
    #[to(Rung)]
    Set,
    #[terminal]
    Rung,
}

/// The timer's event carries its deadline, so the handler can tell how
/// late it fired.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
enum Ring {
    Due { at_nanos: u64 },
}

struct Bell {
    late: Arc<Mutex<Vec<Duration>>>,
}

impl Handler for Bell {
    type State = Alarm;
    type Event = Ring;

    fn handle(&mut self, _: &Alarm, ring: Ring, _: &mut Cx<Self>) -> Step<Alarm> {
        let Ring::Due { at_nanos } = ring;
        let due = UNIX_EPOCH + Duration::from_nanos(at_nanos);
        let late = SystemTime::now().duration_since(due).unwrap_or_default();
        if let Ok(mut all) = self.late.lock() {
            all.push(late);
        }
        Step::to(Alarm::Rung)
    }
}

const MACHINES: usize = 100_000;
const SPREAD: Duration = Duration::from_secs(60);
/// How long before the first deadline the fleet starts.
const LEAD: Duration = Duration::from_secs(5);

fn nanos(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos() as u64
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

/// Stores the machines (`alarm-0` .. `alarm-99999`).
async fn insert_alarms<S: Store<Alarm>>(store: &S) {
    for chunk in 0..MACHINES / 1000 {
        let mut inserts = tokio::task::JoinSet::new();
        for n in chunk * 1000..(chunk + 1) * 1000 {
            let store = store.clone();
            inserts.spawn(async move { store.insert(&format!("alarm-{n}"), &Alarm::Set).await });
        }
        while let Some(inserted) = inserts.join_next().await {
            inserted.expect("joined").expect("inserted");
        }
    }
}

/// Gives every alarm a timer by hand, as a run would have left it: alarm
/// `n` due at `first` plus `n` steps of `SPREAD / MACHINES`. One
/// statement, in both SQL dialects (`?1`/`$1` are the same parameters).
fn timers_statement(placeholder: char) -> String {
    let (first, step) = (format!("{placeholder}1"), format!("{placeholder}2"));
    format!(
        "UPDATE statewright_machines
            SET timer_at = {first} + CAST(substr(id, 7) AS BIGINT) * {step},
                timer_event = '{{\"Due\":{{\"at_nanos\":' ||
                    ({first} + CAST(substr(id, 7) AS BIGINT) * {step}) || '}}}}'
          WHERE machine = 'Alarm'"
    )
}

fn timer_parameters(first: SystemTime) -> (i64, i64) {
    let step = SPREAD.as_nanos() / MACHINES as u128;
    (
        i64::try_from(nanos(first)).unwrap_or(i64::MAX),
        i64::try_from(step).unwrap_or(i64::MAX),
    )
}

/// The alarms on SQLite (on tmpfs when there is one).
async fn sqlite_alarms(path: &std::path::Path, first: SystemTime) -> SqliteStore<Alarm> {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let store = SqliteStore::<Alarm>::open(path).await.expect("a store");
    insert_alarms(&store).await;
    let connection = rusqlite::Connection::open(path).expect("the file");
    let (first, step) = timer_parameters(first);
    connection
        .execute(&timers_statement('?'), rusqlite::params![first, step])
        .expect("the timers");
    store
}

/// The alarms on a fresh database of the PostgreSQL server at `server`.
async fn postgres_alarms(server: &str, first: SystemTime) -> PostgresStore<Alarm> {
    let url = pg_database(server, "timers").await;
    let store = PostgresStore::<Alarm>::connect(&url)
        .await
        .expect("a store");
    insert_alarms(&store).await;
    let (first, step) = timer_parameters(first);
    pg_client(&url)
        .await
        .execute(&timers_statement('$'), &[&first, &step])
        .await
        .expect("the timers");
    store
}

/// Lets one fleet ring every alarm of `store`; prints the table.
async fn ring<S: Store<Alarm>>(store: S, label: &str, first: SystemTime) {
    let late = Arc::new(Mutex::new(Vec::new()));
    let bells = Arc::clone(&late);
    let fleet = Fleet::new(store.clone(), move |_: &str| Bell {
        late: Arc::clone(&bells),
    })
    .idle_after(Duration::from_secs(1))
    .sweep_every(Duration::from_millis(100))
    .start()
    .await
    .expect("a fleet");
    let end = first + SPREAD + Duration::from_secs(120);
    let mut peak = 0;
    loop {
        let rung = late.lock().map(|late| late.len()).unwrap_or_default();
        peak = peak.max(fleet.active());
        if rung >= MACHINES || SystemTime::now() > end {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    fleet.shutdown().await;
    let rung = store.list(AlarmKind::Rung).await.expect("listed");
    let left = store.list(AlarmKind::Set).await.expect("listed");
    let mut late = late.lock().map(|late| late.clone()).unwrap_or_default();
    late.sort_unstable();
    let at = |p: f64| late.get(((late.len() as f64 - 1.0) * p) as usize).copied();
    println!("\n| {MACHINES} timers due over {SPREAD:?}, one fleet, {label} | |");
    println!("|---|---|");
    println!("| fired (handler calls) | {} |", late.len());
    println!(
        "| machines rung, at version 1 | {} |",
        rung.iter().filter(|alarm| alarm.version == 1).count()
    );
    println!("| machines still set | {} |", left.len());
    for (label, p) in [("p50", 0.5), ("p99", 0.99), ("max", 1.0)] {
        if let Some(late) = at(p) {
            println!("| lateness {label} | {:.1} ms |", millis(late));
        }
    }
    println!("| most machines active at once | {peak} |");
}

fn main() {
    let runtime = support::runtime();
    let directory = std::path::Path::new("/dev/shm");
    let directory = if directory.is_dir() {
        directory.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    let path = directory.join(format!("statewright-timers-{}.sqlite", std::process::id()));
    runtime.block_on(async {
        let first = SystemTime::now() + LEAD + Duration::from_secs(10);
        let store = sqlite_alarms(&path, first).await;
        ring(store, &format!("SQLite on {}", directory.display()), first).await;
        if let Ok(server) = std::env::var("STATEWRIGHT_POSTGRES_URL") {
            let first = SystemTime::now() + LEAD + Duration::from_secs(30);
            let store = postgres_alarms(&server, first).await;
            ring(store, "PostgreSQL", first).await;
        }
    });
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}
