//! The runner against a raw tokio actor doing the same work: round trip
//! `send().await` and fire-and-forget `post`, on a current-thread and a
//! multi-thread runtime, with 0, 1 and 16 subscribers.
//!
//! Each batch of 1,000 events is sent from a task on the runtime, as
//! application code would, not from the thread blocked in `block_on`.

// `criterion_group!` generates an undocumented `pub fn`.
#![allow(missing_docs)]

mod support;

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use statewright::{Runner, RunnerHandle};
use support::{Adder, Counter, RawActor, Tick};
use tokio::runtime::{Builder, Runtime};

const BATCH: u64 = 1_000;

fn runtimes() -> [(&'static str, Runtime); 2] {
    let current = Builder::new_current_thread().enable_all().build().unwrap();
    let multi = Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    [("current_thread", current), ("multi_thread", multi)]
}

/// Subscribers that drain their receivers, as a page would.
fn subscribe(runtime: &Runtime, handle: &RunnerHandle<Adder>, count: usize) {
    for _ in 0..count {
        let mut receiver = handle.subscribe();
        runtime.spawn(async move { while receiver.recv().await.is_ok() {} });
    }
}

/// How a batch is sent: every event awaited, or fire-and-forget with only
/// the last one awaited (so the batch ends when the queue is drained).
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    RoundTrip,
    Post,
}

impl Mode {
    fn awaits(self, index: u64) -> bool {
        self == Mode::RoundTrip || index + 1 == BATCH
    }
}

async fn raw_batch(raw: RawActor, mode: Mode) {
    for index in 0..BATCH {
        if mode.awaits(index) {
            black_box(raw.send(Tick::Add).await);
        } else {
            raw.post(Tick::Add).await;
        }
    }
}

async fn runner_batch(handle: RunnerHandle<Adder>, mode: Mode) {
    for index in 0..BATCH {
        if mode.awaits(index) {
            let _ = black_box(handle.send(Tick::Add).await);
        } else {
            let _ = handle.post(Tick::Add).await;
        }
    }
}

fn compare(c: &mut Criterion, group_name: &str, mode: Mode) {
    let mut group = c.benchmark_group(group_name);
    group.throughput(Throughput::Elements(BATCH));
    group.sample_size(20);
    group.warm_up_time(std::time::Duration::from_secs(1));
    group.measurement_time(std::time::Duration::from_secs(3));
    for (flavor, runtime) in runtimes() {
        let raw = runtime.block_on(async { RawActor::spawn(64) });
        runtime.block_on(raw.send(Tick::Start));
        group.bench_function(BenchmarkId::new(flavor, "raw actor"), |b| {
            b.iter(|| runtime.block_on(runtime.spawn(raw_batch(raw.clone(), mode))));
        });
        for subscribers in [0, 1, 16] {
            let handle = runtime.block_on(async { Runner::new(Adder, Counter::Idle).spawn() });
            subscribe(&runtime, &handle, subscribers);
            runtime.block_on(handle.send(Tick::Start)).unwrap();
            let name = format!("runner, {subscribers} subscribers");
            group.bench_function(BenchmarkId::new(flavor, name), |b| {
                b.iter(|| runtime.block_on(runtime.spawn(runner_batch(handle.clone(), mode))));
            });
        }
    }
    group.finish();
}

fn round_trip(c: &mut Criterion) {
    compare(c, "round_trip", Mode::RoundTrip);
}

fn post(c: &mut Criterion) {
    compare(c, "post", Mode::Post);
}

criterion_group!(benches, round_trip, post);
criterion_main!(benches);
