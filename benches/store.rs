//! The SQLite store: compare-and-set transitions per second (one writer,
//! and 8 writers on 8 machines) against a raw `UPDATE .. WHERE version = ?`
//! in the same engine and transaction mode (WAL, `synchronous = FULL`,
//! `BEGIN IMMEDIATE`, one commit per change); and the durable runner's
//! round trip against the in-memory runner. Prints medians of 5 runs.
//! With `STATEWRIGHT_POSTGRES_URL` set (`scripts/postgres cargo bench -p statewright-suite
//! --bench store`), the same on PostgreSQL (one transaction per change).

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::{params, Connection, TransactionBehavior};
use statewright::store::{PostgresStore, SqliteStore, Store};
use statewright::Runner;
use support::{pg_client, pg_database, Adder, Counter, Tick};

const CHANGES: u32 = 400;
const WRITERS: u32 = 8;
const RUNS: usize = 5;

fn temp_db(name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!(
        "statewright-bench-{name}-{}.sqlite",
        std::process::id()
    ));
    remove(&path);
    path
}

fn remove(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn raw_connection(path: &Path) -> Connection {
    let connection = Connection::open(path).unwrap();
    connection.busy_timeout(Duration::from_secs(10)).unwrap();
    connection
        .pragma_update(None, "journal_mode", "WAL")
        .unwrap();
    connection
        .pragma_update(None, "synchronous", "FULL")
        .unwrap();
    connection
        .execute_batch(
            "CREATE TABLE IF NOT EXISTS raw (id TEXT PRIMARY KEY, state TEXT, version INTEGER)",
        )
        .unwrap();
    connection
}

/// `writers` threads, each moving its own row `CHANGES` times with a raw
/// compare-and-set statement; changes per second.
fn raw(writers: u32) -> f64 {
    let path = temp_db("raw");
    let setup = raw_connection(&path);
    for writer in 0..writers {
        setup
            .execute(
                "INSERT INTO raw VALUES (?1, '\"Idle\"', 0)",
                [writer.to_string()],
            )
            .unwrap();
    }
    let start = Instant::now();
    let threads: Vec<_> = (0..writers)
        .map(|writer| {
            let path = path.clone();
            std::thread::spawn(move || {
                let mut connection = raw_connection(&path);
                for version in 0..CHANGES {
                    let transaction = connection
                        .transaction_with_behavior(TransactionBehavior::Immediate)
                        .unwrap();
                    let state = format!("{{\"Counting\":{{\"count\":{version}}}}}");
                    let updated = transaction
                        .execute(
                            "UPDATE raw SET state = ?1, version = version + 1 WHERE id = ?2 AND version = ?3",
                            params![state, writer.to_string(), i64::from(version)],
                        )
                        .unwrap();
                    assert_eq!(updated, 1);
                    transaction.commit().unwrap();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let rate = f64::from(CHANGES * writers) / start.elapsed().as_secs_f64();
    remove(&path);
    rate
}

/// The same through the store (`update`: a read, the checks, the row and
/// the outbox in one transaction); changes per second.
async fn store(writers: u32) -> f64 {
    let path = temp_db("store");
    let store = SqliteStore::<Counter>::open(&path).await.unwrap();
    let rate = changes_per_second(store, writers, Write::Update).await;
    remove(&path);
    rate
}

/// The bare compare-and-set: `UPDATE .. WHERE version = $n`.
const RAW_UPDATE: &str =
    "UPDATE raw SET state = $1, version = version + 1 WHERE id = $2 AND version = $3";

/// The store's own statement, bare: the `UPDATE` and its outbox row in one
/// `WITH`, as the store does, without the checks, the checksum or the
/// notification.
const RAW_UPDATE_AND_OUTBOX: &str = "WITH moved AS (
     UPDATE raw SET state = $1, version = version + 1
      WHERE id = $2 AND version = $3 RETURNING version)
 INSERT INTO raw_outbox
 SELECT pg_current_xact_id()::text::bigint, $2, version, $1 FROM moved";

/// `writers` connections, each moving its own row `CHANGES` times with
/// `statement` (parameters: the state, the id, the version it expects),
/// prepared, autocommitted (one round trip); changes per second.
async fn raw_pg(server: &str, writers: u32, statement: &'static str) -> f64 {
    let url = pg_database(server, "raw").await;
    let setup = pg_client(&url).await;
    setup
        .batch_execute(
            "CREATE TABLE raw (id TEXT PRIMARY KEY, state TEXT, version BIGINT);
             CREATE TABLE raw_outbox (position BIGINT, id TEXT, version BIGINT, state TEXT,
                                      PRIMARY KEY (id, position))",
        )
        .await
        .unwrap();
    for writer in 0..writers {
        setup
            .execute(
                "INSERT INTO raw VALUES ($1, '\"Idle\"', 0)",
                &[&writer.to_string()],
            )
            .await
            .unwrap();
    }
    let start = Instant::now();
    let tasks: Vec<_> = (0..writers)
        .map(|writer| {
            let url = url.clone();
            tokio::spawn(async move {
                let client = pg_client(&url).await;
                let statement = client.prepare(statement).await.unwrap();
                for version in 0..CHANGES {
                    let state = format!("{{\"Counting\":{{\"count\":{version}}}}}");
                    let updated = client
                        .execute(
                            &statement,
                            &[&state, &writer.to_string(), &i64::from(version)],
                        )
                        .await
                        .unwrap();
                    assert_eq!(updated, 1);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    f64::from(CHANGES * writers) / start.elapsed().as_secs_f64()
}

/// How the store moves each machine.
#[derive(Clone, Copy, PartialEq)]
enum Write {
    /// `update`: the kind stays (PostgreSQL can update the row in place).
    Update,
    /// `transition` between `Idle` and `Counting`: the kind changes each
    /// time, and with it the kind index.
    Transition,
}

/// The same through the PostgreSQL store; changes per second. Without the
/// kind index when `kind_index` is false (to measure what it costs).
async fn store_pg(server: &str, writers: u32, write: Write, kind_index: bool) -> f64 {
    let url = pg_database(server, "store").await;
    let store = PostgresStore::<Counter>::connect(&url).await.unwrap();
    if !kind_index {
        pg_client(&url)
            .await
            .batch_execute("DROP INDEX statewright_machines_by_kind")
            .await
            .unwrap();
    }
    changes_per_second(store, writers, write).await
}

async fn changes_per_second<S: Store<Counter>>(store: S, writers: u32, write: Write) -> f64 {
    for writer in 0..writers {
        store
            .insert(&writer.to_string(), &Counter::Counting { count: 0 })
            .await
            .unwrap();
    }
    let start = Instant::now();
    let tasks: Vec<_> = (0..writers)
        .map(|writer| {
            let store = store.clone();
            tokio::spawn(async move {
                let id = writer.to_string();
                for version in 0..u64::from(CHANGES) {
                    if write == Write::Update {
                        let next = Counter::Counting { count: version + 1 };
                        store.update(&id, version, next).await.unwrap();
                    } else if version % 2 == 0 {
                        store.transition(&id, version, Counter::Idle).await.unwrap();
                    } else {
                        let next = Counter::Counting { count: version };
                        store.transition(&id, version, next).await.unwrap();
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    f64::from(CHANGES * writers) / start.elapsed().as_secs_f64()
}

async fn pg_round_trip(server: String) -> f64 {
    let url = pg_database(&server, "durable").await;
    let store = PostgresStore::<Counter>::connect(&url).await.unwrap();
    store
        .insert("c", &Counter::Counting { count: 0 })
        .await
        .unwrap();
    let handle = Runner::load(Adder, store, "c").await.unwrap().spawn();
    let start = Instant::now();
    for _ in 0..CHANGES {
        handle.send(Tick::Add).await.unwrap();
    }
    let micros = start.elapsed().as_secs_f64() * 1e6 / f64::from(CHANGES);
    handle.stop().unwrap();
    handle.join().await;
    micros
}

/// Microseconds per `send().await` of an update, durable or not.
async fn round_trip(durable: Option<&str>) -> f64 {
    let handle = match durable {
        None => Runner::new(Adder, Counter::Counting { count: 0 }).spawn(),
        Some(kind) => {
            let path = temp_db(kind);
            let store = if kind == "memory" {
                SqliteStore::<Counter>::memory().await.unwrap()
            } else {
                SqliteStore::<Counter>::open(&path).await.unwrap()
            };
            store
                .insert("c", &Counter::Counting { count: 0 })
                .await
                .unwrap();
            Runner::load(Adder, store, "c").await.unwrap().spawn()
        }
    };
    let start = Instant::now();
    for _ in 0..CHANGES {
        handle.send(Tick::Add).await.unwrap();
    }
    let micros = start.elapsed().as_secs_f64() * 1e6 / f64::from(CHANGES);
    handle.stop().unwrap();
    handle.join().await;
    if let Some(kind) = durable {
        remove(&temp_db(kind));
    }
    micros
}

fn main() {
    let runtime = support::runtime();
    println!(
        "SQLite (file, WAL, synchronous = FULL), {CHANGES} changes per writer, median of {RUNS}"
    );
    println!("| writers | raw UPDATE .. WHERE version = ? | store `update` | store / raw |");
    println!("|---:|---:|---:|---:|");
    for writers in [1, WRITERS] {
        let (mut raws, mut stores) = (Vec::new(), Vec::new());
        for _ in 0..RUNS {
            raws.push(raw(writers));
            stores.push(runtime.block_on(store(writers)));
        }
        let (raw, store) = (median(raws), median(stores));
        println!(
            "| {writers} | {raw:.0}/s | {store:.0}/s | {:.2}x |",
            store / raw
        );
    }
    println!();
    println!("| runner round trip (`send().await`, an update) | µs |");
    println!("|---|---:|");
    for (label, durable) in [
        ("in memory", None),
        ("durable, SQLite in memory", Some("memory")),
        ("durable, SQLite file", Some("file")),
    ] {
        // Sent from a task on the runtime, as application code would.
        let samples = (0..RUNS)
            .map(|_| runtime.block_on(async { tokio::spawn(round_trip(durable)).await.unwrap() }))
            .collect();
        println!("| {label} | {:.1} |", median(samples));
    }
    let Ok(server) = std::env::var("STATEWRIGHT_POSTGRES_URL") else {
        println!("\nPostgreSQL skipped: run `scripts/postgres cargo bench -p statewright-suite --bench store`");
        return;
    };
    println!("\nPostgreSQL (scripts/postgres: a local throwaway server, fsync off), {CHANGES} changes per writer, median of {RUNS}");
    println!("| writers | raw autocommit UPDATE .. WHERE version = $n | raw UPDATE + outbox INSERT (one `WITH`) | store `update` | / raw | / raw with outbox | store `transition` | / raw | `transition` without the kind index | / raw |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for writers in [1, WRITERS] {
        let mut samples: [Vec<f64>; 5] = Default::default();
        for _ in 0..RUNS {
            samples[0].push(runtime.block_on(raw_pg(&server, writers, RAW_UPDATE)));
            samples[1].push(runtime.block_on(raw_pg(&server, writers, RAW_UPDATE_AND_OUTBOX)));
            let store = |write, index| runtime.block_on(store_pg(&server, writers, write, index));
            samples[2].push(store(Write::Update, true));
            samples[3].push(store(Write::Transition, true));
            samples[4].push(store(Write::Transition, false));
        }
        let [raw, outbox, update, transition, unindexed] = samples.map(median);
        println!(
            "| {writers} | {raw:.0}/s | {outbox:.0}/s | {update:.0}/s | {:.2}x | {:.2}x | {transition:.0}/s | {:.2}x | {unindexed:.0}/s | {:.2}x |",
            update / raw,
            update / outbox,
            transition / raw,
            unindexed / raw,
        );
    }
    let samples = (0..RUNS)
        .map(|_| {
            let server = server.clone();
            runtime
                .block_on(async move { tokio::spawn(pg_round_trip(server)).await })
                .unwrap()
        })
        .collect();
    println!(
        "\n| durable runner round trip, PostgreSQL | {:.1} µs |",
        median(samples)
    );
}
