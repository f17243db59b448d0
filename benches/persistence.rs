//! Persistence costs: the journal on a file against no journal (runner
//! round trip), replay of a 1,000,000-line journal, and a checkpoint taken
//! with 16 subscribers attached while events flow.

// `criterion_group!` generates an undocumented `pub fn`.
#![allow(missing_docs)]

mod support;

use std::path::PathBuf;
use std::time::Duration;

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use statewright::{Journal, Runner, RunnerHandle};
use support::{Adder, Counter, CounterKind, Tick};
use tokio::runtime::{Builder, Runtime};

const BATCH: u64 = 1_000;
const REPLAY_LINES: u64 = 1_000_000;

fn runtime() -> Runtime {
    Builder::new_current_thread().enable_all().build().unwrap()
}

fn temp_file(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "statewright-bench-{name}-{}.jsonl",
        std::process::id()
    ))
}

async fn round_trips(handle: RunnerHandle<Adder>) {
    for _ in 0..BATCH {
        let _ = black_box(handle.send(Tick::Add).await);
    }
}

/// How many senders wait for replies at once in the group-commit runs.
const SENDERS: u64 = 32;

/// `BATCH` round trips from `SENDERS` tasks at once: the runner finds
/// several events queued, and the journal writes their lines together.
async fn concurrent_round_trips(handle: RunnerHandle<Adder>) {
    let senders: Vec<_> = (0..SENDERS)
        .map(|_| {
            let handle = handle.clone();
            tokio::spawn(async move {
                for _ in 0..BATCH / SENDERS {
                    let _ = black_box(handle.send(Tick::Add).await);
                }
            })
        })
        .collect();
    for sender in senders {
        sender.await.unwrap();
    }
}

fn journal_overhead(c: &mut Criterion) {
    let mut group = c.benchmark_group("journal");
    group.throughput(Throughput::Elements(BATCH));
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(3));
    let runtime = runtime();
    let path = temp_file("journal");
    let plain = runtime.block_on(async { Runner::new(Adder, Counter::Idle).spawn() });
    let journaled = runtime.block_on(async {
        Runner::new(Adder, Counter::Idle)
            .recorder(Journal::create(&path).unwrap())
            .spawn()
    });
    // The journal's own work without the write(2) per line.
    let sunk = runtime.block_on(async {
        Runner::new(Adder, Counter::Idle)
            .recorder(Journal::new(std::io::sink()))
            .spawn()
    });
    for handle in [&plain, &journaled, &sunk] {
        runtime.block_on(handle.send(Tick::Start)).unwrap();
    }
    group.bench_function("round trip, no journal", |b| {
        b.iter(|| runtime.block_on(runtime.spawn(round_trips(plain.clone()))));
    });
    group.bench_function("round trip, journal to io::sink", |b| {
        b.iter(|| runtime.block_on(runtime.spawn(round_trips(sunk.clone()))));
    });
    group.bench_function("round trip, journal on a file", |b| {
        b.iter(|| runtime.block_on(runtime.spawn(round_trips(journaled.clone()))));
    });
    // The element count is rounded down to whole batches per sender.
    group.throughput(Throughput::Elements(BATCH / SENDERS * SENDERS));
    group.bench_function("32 senders, no journal", |b| {
        b.iter(|| runtime.block_on(concurrent_round_trips(plain.clone())));
    });
    group.bench_function("32 senders, journal to io::sink", |b| {
        b.iter(|| runtime.block_on(concurrent_round_trips(sunk.clone())));
    });
    group.bench_function("32 senders, journal on a file", |b| {
        b.iter(|| runtime.block_on(concurrent_round_trips(journaled.clone())));
    });
    group.finish();
    let _ = std::fs::remove_file(path);
}

/// A journal of `REPLAY_LINES` update lines, as a run of `Tick::Add` writes it.
fn long_journal() -> Vec<u8> {
    let path = temp_file("replay");
    let mut journal = Journal::create(&path).unwrap();
    journal
        .write_header(&Counter::Counting { count: 0 }, 0)
        .unwrap();
    for seq in 1..=REPLAY_LINES {
        let to = Counter::Counting { count: seq };
        journal
            .write_transition(seq, CounterKind::Counting, &to, "Add", true)
            .unwrap();
    }
    drop(journal);
    let bytes = std::fs::read(&path).unwrap();
    let _ = std::fs::remove_file(path);
    bytes
}

fn replay(c: &mut Criterion) {
    let bytes = long_journal();
    let mut group = c.benchmark_group("replay");
    group.throughput(Throughput::Elements(REPLAY_LINES));
    group.sample_size(10);
    group.bench_function("1,000,000 lines", |b| {
        b.iter(|| {
            let replayed = Journal::replay::<Counter>(&bytes[..]).unwrap();
            assert_eq!(replayed.seq, REPLAY_LINES);
        });
    });
    group.finish();
}

fn checkpoint(c: &mut Criterion) {
    let runtime = Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let handle = runtime.block_on(async { Runner::new(Adder, Counter::Idle).spawn() });
    runtime.block_on(handle.send(Tick::Start)).unwrap();
    for _ in 0..16 {
        let mut receiver = handle.subscribe();
        runtime.spawn(async move { while receiver.recv().await.is_ok() {} });
    }
    let flowing = handle.clone();
    runtime.spawn(async move { while flowing.post(Tick::Add).await.is_ok() {} });
    let mut group = c.benchmark_group("checkpoint");
    group.sample_size(50);
    group.bench_function("16 subscribers, events flowing", |b| {
        b.iter(|| black_box(runtime.block_on(handle.checkpoint()).unwrap()));
    });
    group.finish();
    handle.stop().unwrap();
}

criterion_group!(benches, journal_overhead, replay, checkpoint);
criterion_main!(benches);
