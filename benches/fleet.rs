//! A fleet against the same machines on hand-held durable runners, over
//! one SQLite file: sends per second, the first send to a passivated
//! machine (activation) against a send to an active one, and resident
//! memory per activation with 100,000 machines stored and 10,000 active.
//! Under `scripts/postgres`, the sends and activations on PostgreSQL too.
//! Prints a table; nothing is asserted.
// Counts of a few thousand, as floats for rates and percentiles.
#![allow(
    clippy::cast_precision_loss,
    clippy::cast_sign_loss,
    clippy::cast_possible_truncation
)]

mod support;

use std::time::{Duration, Instant};

use statewright::fleet::Fleet;
use statewright::store::{PostgresStore, SqliteStore, Store};
use statewright::{state_machine, Cx, Handler, Runner, Step};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use support::{pg_database, resident_bytes};

#[global_allocator]
static GLOBAL: &StatsAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

/// Heap bytes a region still holds.
fn held(region: &Region<'_, std::alloc::System>) -> u64 {
    let change = region.change();
    (change.bytes_allocated as u64).saturating_sub(change.bytes_deallocated as u64)
}

#[state_machine]
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
enum Meter {
    #[initial]
    Counting { count: u64 },
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Add;

struct Adder;

impl Handler for Adder {
    type State = Meter;
    type Event = Add;

    fn handle(&mut self, state: &Meter, _: Add, _: &mut Cx<Self>) -> Step<Meter> {
        let Meter::Counting { count } = state;
        Step::update(Meter::Counting { count: count + 1 })
    }
}

const MACHINES: usize = 100;
const SENDS: usize = 5_000;
const STORED: usize = 100_000;
const ACTIVE: usize = 1_000;
/// Activations measured for memory: enough that the allocator's noise
/// averages out.
const RESIDENT: usize = 10_000;

fn percentile(samples: &mut [Duration], p: f64) -> f64 {
    samples.sort_unstable();
    let index = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[index].as_secs_f64() * 1e6
}

async fn store(path: &std::path::Path) -> SqliteStore<Meter> {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    SqliteStore::open(path).await.expect("a store")
}

fn id(n: usize) -> String {
    format!("meter-{n}")
}

/// Sends per second, round robin over `MACHINES` active machines: on
/// hand-held runners over `hand`, then through a fleet over `fleet`.
async fn sends_per_second<S: Store<Meter>>(hand: S, fleet: S) -> (f64, f64) {
    let store = hand;
    let mut handles = Vec::new();
    for n in 0..MACHINES {
        let id = id(n);
        let runner = Runner::insert(Adder, Meter::Counting { count: 0 }, store.clone(), &id);
        handles.push(runner.await.expect("inserted").spawn());
    }
    let started = Instant::now();
    for n in 0..SENDS {
        handles[n % MACHINES].send(Add).await.expect("applied");
    }
    let hand_held = SENDS as f64 / started.elapsed().as_secs_f64();
    drop(handles);

    let fleet = Fleet::new(fleet, |_: &str| Adder)
        .start()
        .await
        .expect("a fleet");
    for n in 0..MACHINES {
        fleet
            .insert(&id(n), Meter::Counting { count: 0 })
            .await
            .expect("inserted");
    }
    let started = Instant::now();
    for n in 0..SENDS {
        fleet.send(&id(n % MACHINES), Add).await.expect("applied");
    }
    let through_fleet = SENDS as f64 / started.elapsed().as_secs_f64();
    fleet.shutdown().await;
    (hand_held, through_fleet)
}

/// The first send to a passivated machine against a send to an active
/// one, and the passivation itself: microseconds at p50 and p99.
async fn activation<S: Store<Meter>>(store: S) -> [(f64, f64); 3] {
    for n in 0..ACTIVE {
        store
            .insert(&id(n), &Meter::Counting { count: 0 })
            .await
            .expect("inserted");
    }
    let fleet = Fleet::new(store, |_: &str| Adder)
        .start()
        .await
        .expect("a fleet");
    let (mut first, mut then, mut passivations) = (Vec::new(), Vec::new(), Vec::new());
    for n in 0..ACTIVE {
        let started = Instant::now();
        fleet.send(&id(n), Add).await.expect("applied");
        first.push(started.elapsed());
        let started = Instant::now();
        fleet.send(&id(n), Add).await.expect("applied");
        then.push(started.elapsed());
    }
    for n in 0..ACTIVE {
        let started = Instant::now();
        fleet.passivate(&id(n)).await;
        passivations.push(started.elapsed());
    }
    fleet.shutdown().await;
    [&mut first, &mut then, &mut passivations]
        .map(|samples| (percentile(samples, 0.5), percentile(samples, 0.99)))
}

/// Resident bytes per running machine, 100,000 machines stored: through
/// a fleet, or on hand-held durable runners. Each is measured in a fresh
/// process (see `main`), so neither reuses pages the other freed.
async fn memory(path: &std::path::Path, fleet: bool) -> Option<(u64, u64)> {
    let store = store(path).await;
    for chunk in 0..STORED / 1000 {
        let mut inserts = tokio::task::JoinSet::new();
        for n in chunk * 1000..(chunk + 1) * 1000 {
            let store = store.clone();
            inserts.spawn(async move { store.insert(&id(n), &Meter::Counting { count: 0 }).await });
        }
        while let Some(inserted) = inserts.join_next().await {
            inserted.expect("joined").expect("inserted");
        }
    }
    if fleet {
        let fleet = Fleet::new(store, |_: &str| Adder)
            .start()
            .await
            .expect("a fleet");
        // One activation first, so that the pools and caches are warm.
        fleet.send(&id(STORED - 1), Add).await.expect("applied");
        let (before, region) = (resident_bytes()?, Region::new(GLOBAL));
        for n in 0..RESIDENT {
            fleet.send(&id(n), Add).await.expect("applied");
        }
        let (after, heap) = (resident_bytes()?, held(&region));
        assert_eq!(fleet.active(), RESIDENT + 1);
        fleet.shutdown().await;
        let resident = after.saturating_sub(before);
        return Some((resident / RESIDENT as u64, heap / RESIDENT as u64));
    }
    let warm = Runner::load(Adder, store.clone(), &id(STORED - 1))
        .await
        .expect("loaded")
        .spawn();
    warm.send(Add).await.expect("applied");
    let mut handles = Vec::with_capacity(RESIDENT);
    let (before, region) = (resident_bytes()?, Region::new(GLOBAL));
    for n in 0..RESIDENT {
        let handle = Runner::load(Adder, store.clone(), &id(n))
            .await
            .expect("loaded")
            .spawn();
        handle.send(Add).await.expect("applied");
        handles.push(handle);
    }
    let (after, heap) = (resident_bytes()?, held(&region));
    drop((handles, warm));
    let resident = after.saturating_sub(before);
    Some((resident / RESIDENT as u64, heap / RESIDENT as u64))
}

/// Runs this benchmark again as `memory <fleet|hand-held>`: its line.
fn memory_in_a_fresh_process(which: &str) -> String {
    let output = std::env::current_exe().and_then(|exe| {
        std::process::Command::new(exe)
            .args(["memory", which])
            .output()
    });
    match output {
        Ok(output) => String::from_utf8_lossy(&output.stdout).trim().to_owned(),
        Err(error) => format!("unavailable: {error}"),
    }
}

fn print_sends(store: &str, (hand_held, through_fleet): (f64, f64)) {
    println!(
        "| durable `send` (an update), {store} | {hand_held:.0} | {through_fleet:.0} | {:.2}x |",
        through_fleet / hand_held
    );
}

fn print_activation(store: &str, [first, then, passivation]: [(f64, f64); 3]) {
    println!(
        "| first send (activation: lease, load, spawn, the step), {store} | {:.0} µs | {:.0} µs |",
        first.0, first.1
    );
    println!(
        "| next send (active), {store} | {:.0} µs | {:.0} µs |",
        then.0, then.1
    );
    println!(
        "| passivation (the run ends, the lease is given back), {store} | {:.0} µs | {:.0} µs |",
        passivation.0, passivation.1
    );
}

fn main() {
    let runtime = support::runtime();
    let path = std::env::temp_dir().join(format!(
        "statewright-fleet-bench-{}.sqlite",
        std::process::id()
    ));
    let args: Vec<String> = std::env::args().collect();
    if let [_, mode, which] = args.as_slice() {
        if mode == "memory" {
            match runtime.block_on(memory(&path, which == "fleet")) {
                Some((resident, heap)) => {
                    println!("{resident} bytes resident, {heap} bytes of Rust heap");
                }
                None => println!("unavailable (no /proc/self/statm)"),
            }
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
            return;
        }
    }
    runtime.block_on(async {
        let memory = || async { SqliteStore::memory().await.expect("a store") };
        let sends = sends_per_second(memory().await, memory().await).await;
        println!(
            "| sends/s over {MACHINES} machines | hand-held handles | fleet | fleet / hand-held |"
        );
        println!("|---|---|---|---|");
        print_sends("SQLite in memory", sends);
        let postgres = std::env::var("STATEWRIGHT_POSTGRES_URL").ok();
        if let Some(server) = &postgres {
            let hand = PostgresStore::connect(&pg_database(server, "fleet").await)
                .await
                .expect("a store");
            let fleet = PostgresStore::connect(&pg_database(server, "fleet").await)
                .await
                .expect("a store");
            print_sends("PostgreSQL", sends_per_second(hand, fleet).await);
        }
        println!("\n| {ACTIVE} machines | p50 | p99 |");
        println!("|---|---|---|");
        print_activation("SQLite file", activation(store(&path).await).await);
        if let Some(server) = &postgres {
            let store = PostgresStore::connect(&pg_database(server, "fleet").await)
                .await
                .expect("a store");
            print_activation("PostgreSQL", activation(store).await);
        }
        println!("\nresident memory, {STORED} machines stored, {RESIDENT} running:");
        println!(
            "  per hand-held durable runner: {}",
            memory_in_a_fresh_process("hand-held")
        );
        println!(
            "  per fleet activation:         {}",
            memory_in_a_fresh_process("fleet")
        );
    });
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}
