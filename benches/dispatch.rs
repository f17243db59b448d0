//! Event dispatch on seed 004's worker table without data: our `fire` and
//! `transition_to` against a hand-written `match` and a hand-written `static`
//! table, on the same 10 million pre-generated events (20 % illegal).
//!
//! The stream is cut into runs that start at `Assigned`; a run ends when the
//! worker completes (a terminal state accepts nothing), so every variant does
//! the same resets.
#![allow(missing_docs)]

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use statewright::state_machine;
use std::hint::black_box;

include!("worker_table.rs");

const EVENTS: usize = 10_000_000;

/// The state each event enters (events are named after their target).
fn target(event: WorkerEvent) -> Worker {
    match event {
        WorkerEvent::Start | WorkerEvent::Rework => Worker::Working,
        WorkerEvent::Fail => Worker::Failed,
        WorkerEvent::Submit => Worker::InReview,
        WorkerEvent::Conflict => Worker::Conflicted,
        WorkerEvent::Approve => Worker::Approved,
        WorkerEvent::Complete => Worker::Completed,
        WorkerEvent::Retry => Worker::Assigned,
    }
}

mod hand {
    //! What a careful engineer writes without a library.

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub(crate) enum State {
        Assigned,
        Working,
        Conflicted,
        InReview,
        Approved,
        Completed,
        Failed,
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub(crate) enum Event {
        Start,
        Fail,
        Submit,
        Conflict,
        Rework,
        Approve,
        Complete,
        Retry,
    }

    #[inline]
    pub(crate) fn step_match(state: State, event: Event) -> Option<State> {
        use Event as E;
        use State as S;
        Some(match (state, event) {
            (S::Assigned, E::Start) | (S::Conflicted | S::InReview | S::Approved, E::Rework) => {
                S::Working
            }
            (S::Assigned | S::Working | S::Conflicted | S::InReview | S::Approved, E::Fail) => {
                S::Failed
            }
            (S::Working | S::Conflicted, E::Submit) => S::InReview,
            (S::Working, E::Conflict) => S::Conflicted,
            (S::InReview, E::Approve) => S::Approved,
            (S::Approved, E::Complete) => S::Completed,
            (S::Failed, E::Retry) => S::Assigned,
            _ => return None,
        })
    }

    const fn row(cells: &[(Event, State)]) -> [Option<State>; 8] {
        let mut row = [None; 8];
        let mut i = 0;
        while i < cells.len() {
            row[cells[i].0 as usize] = Some(cells[i].1);
            i += 1;
        }
        row
    }

    pub(crate) static TABLE: [[Option<State>; 8]; 7] = {
        use Event as E;
        use State as S;
        [
            row(&[(E::Start, S::Working), (E::Fail, S::Failed)]),
            row(&[
                (E::Submit, S::InReview),
                (E::Conflict, S::Conflicted),
                (E::Fail, S::Failed),
            ]),
            row(&[
                (E::Submit, S::InReview),
                (E::Rework, S::Working),
                (E::Fail, S::Failed),
            ]),
            row(&[
                (E::Approve, S::Approved),
                (E::Rework, S::Working),
                (E::Fail, S::Failed),
            ]),
            row(&[
                (E::Complete, S::Completed),
                (E::Rework, S::Working),
                (E::Fail, S::Failed),
            ]),
            row(&[]),
            row(&[(E::Retry, S::Assigned)]),
        ]
    };

    #[inline]
    pub(crate) fn step_table(state: State, event: Event) -> Option<State> {
        TABLE[state as usize][event as usize]
    }
}

/// The stream: events, runs (each starting at `Assigned`) and the hand-written twins.
struct Stream {
    events: Vec<WorkerEvent>,
    targets: Vec<Worker>,
    hand_events: Vec<hand::Event>,
    runs: Vec<usize>,
}

fn generate() -> Stream {
    let (indices, runs) = event_stream(EVENTS, &mut random_source());
    let events: Vec<WorkerEvent> = indices.iter().map(|&i| ALL_EVENTS[i as usize]).collect();
    Stream {
        targets: events.iter().map(|&event| target(event)).collect(),
        hand_events: indices.iter().map(|&i| ALL_HAND[i as usize]).collect(),
        events,
        runs,
    }
}

const ALL_HAND: [hand::Event; 8] = [
    hand::Event::Start,
    hand::Event::Fail,
    hand::Event::Submit,
    hand::Event::Conflict,
    hand::Event::Rework,
    hand::Event::Approve,
    hand::Event::Complete,
    hand::Event::Retry,
];

/// Calls `run` on each run's slice of `items`: every run starts at `Assigned`.
#[inline]
fn for_each_run<T>(items: &[T], runs: &[usize], mut run: impl FnMut(&[T])) {
    let mut position = 0;
    for length in runs {
        run(&items[position..position + length]);
        position += length;
    }
}

fn bench_hand_written(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    stream: &Stream,
    step: impl Fn(hand::State, hand::Event) -> Option<hand::State>,
) {
    group.bench_function(name, |b| {
        b.iter(|| {
            for_each_run(&stream.hand_events, &stream.runs, |events| {
                let mut state = hand::State::Assigned;
                for event in events {
                    let next = step(state, black_box(*event));
                    if let Some(next) = next {
                        state = next;
                    }
                    black_box(next);
                }
                black_box(state);
            });
        });
    });
}

fn dispatch(c: &mut Criterion) {
    let stream = generate();
    let mut illegal = 0;
    for_each_run(&stream.events, &stream.runs, |events| {
        let mut state = Worker::Assigned;
        for event in events {
            illegal += usize::from(state.fire(*event).is_err());
        }
    });
    println!(
        "stream: {EVENTS} events, {illegal} illegal ({} per mille), {} runs",
        illegal * 1000 / EVENTS,
        stream.runs.len()
    );

    let mut group = c.benchmark_group("dispatch");
    group.throughput(Throughput::Elements(EVENTS as u64));
    group.sample_size(10);

    group.bench_function("statewright fire", |b| {
        b.iter(|| {
            for_each_run(&stream.events, &stream.runs, |events| {
                let mut state = Worker::Assigned;
                for event in events {
                    let _ = black_box(state.fire(black_box(*event)));
                }
                black_box(state);
            });
        });
    });
    group.bench_function("statewright transition_to", |b| {
        b.iter(|| {
            for_each_run(&stream.targets, &stream.runs, |targets| {
                let mut state = Worker::Assigned;
                for next in targets {
                    let _ = black_box(state.transition_to(black_box(*next)));
                }
                black_box(state);
            });
        });
    });
    // Each is passed as its own fn item (not a fn pointer), so it inlines.
    bench_hand_written(&mut group, "hand-written match", &stream, hand::step_match);
    bench_hand_written(
        &mut group,
        "hand-written static table",
        &stream,
        hand::step_table,
    );
    group.finish();
}

criterion_group!(benches, dispatch);
criterion_main!(benches);
