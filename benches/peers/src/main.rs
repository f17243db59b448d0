//! Seed 004's worker table (no data in the states) driven by 10 million
//! pre-generated events, 20 % of them illegal, through statewright, a
//! hand-written `match`, a hand-written table and peer crates, in one
//! process. Rounds are interleaved (each round runs every implementation
//! once, in a shuffled order) and reported as ns/event and as the ratio to
//! the hand-written `match` of the same round: median and spread.
//!
//! `cargo run --release -- --only NAME --rounds 1` runs one implementation
//! once, for `valgrind --tool=callgrind` (instructions per event).

mod machines;

use std::hint::black_box;
use std::time::Instant;

use machines::{Implementation, IMPLEMENTATIONS};

const EVENTS: usize = 10_000_000;
/// The second workload: this many machines in a `Vec`, 8 events each,
/// applied round-robin (event 1 to every machine, then event 2, ...).
pub const FLEET: usize = 100_000;
const FLEET_EVENTS: usize = 8;

/// The event streams: indices into the table's eight events. `events` is
/// cut into runs that each start at `Assigned` (a run ends when the worker
/// completes); `fleet` holds `FLEET_EVENTS` events per machine of the fleet,
/// event `e` of machine `m` at `e * FLEET + m`.
pub struct Stream {
    pub events: Vec<u8>,
    pub runs: Vec<usize>,
    pub fleet: Vec<u8>,
}

fn generate() -> Stream {
    use machines::worker::{event_stream, pick_event, random_source, Worker, ALL_EVENTS};
    let mut random = random_source();
    let (events, runs) = event_stream(EVENTS, &mut random);
    let mut fleet = vec![0; FLEET * FLEET_EVENTS];
    for machine in 0..FLEET {
        let mut state = Worker::Assigned;
        for step in 0..FLEET_EVENTS {
            let event = pick_event(state, &mut random);
            let _ = state.fire(ALL_EVENTS[event as usize]);
            fleet[step * FLEET + machine] = event;
        }
    }
    Stream {
        events,
        runs,
        fleet,
    }
}

/// Runs `workload` over its events: nanoseconds per event.
fn time(workload: fn(&Stream) -> usize, stream: &Stream, events: usize) -> f64 {
    let start = Instant::now();
    let checksum = workload(black_box(stream));
    let elapsed = start.elapsed();
    black_box(checksum);
    elapsed.as_nanos() as f64 / events as f64
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let option = |name: &str| {
        args.iter()
            .position(|arg| arg == name)
            .and_then(|at| args.get(at + 1))
            .cloned()
    };
    let rounds: usize = option("--rounds")
        .and_then(|r| r.parse().ok())
        .unwrap_or(15);
    let only = option("--only");
    let stream = generate();

    if let Some(only) = only {
        // For callgrind: the count of `--rounds 0` is the stream's cost,
        // which the caller subtracts.
        let implementation = IMPLEMENTATIONS
            .iter()
            .find(|implementation| implementation.name == only)
            .unwrap_or_else(|| panic!("no implementation named {only}"));
        for _ in 0..rounds {
            black_box((implementation.run)(&stream));
        }
        return;
    }
    // Every implementation must agree on the outcome of both workloads.
    let expected = (
        (IMPLEMENTATIONS[0].run)(&stream),
        (IMPLEMENTATIONS[0].fleet)(&stream),
    );
    for implementation in IMPLEMENTATIONS {
        let outcome = (
            (implementation.run)(&stream),
            (implementation.fleet)(&stream),
        );
        assert_eq!(
            outcome, expected,
            "{} disagrees with the others",
            implementation.name
        );
    }

    let workloads: [(&str, fn(&Implementation) -> fn(&Stream) -> usize, usize); 2] = [
        (
            "one machine, 10 million events",
            |i| i.run,
            stream.events.len(),
        ),
        (
            "100,000 machines in a Vec, 8 events each",
            |i| i.fleet,
            stream.fleet.len(),
        ),
    ];
    for (title, workload, events) in workloads {
        report(title, &stream, rounds, |implementation| {
            time(workload(implementation), &stream, events)
        });
    }
}

/// Interleaved rounds of every implementation, then a table of the
/// medians and of the ratios to the hand-written match of the same round.
fn report(title: &str, stream: &Stream, rounds: usize, time: impl Fn(&Implementation) -> f64) {
    let count = IMPLEMENTATIONS.len();
    let mut times = vec![Vec::new(); count];
    let mut ratios = vec![Vec::new(); count];
    let mut order: Vec<usize> = (0..count).collect();
    let mut seed = 0x0dd_5eed_u64;
    for _ in 0..rounds {
        // A fresh order each round, so no implementation always runs first.
        for i in (1..count).rev() {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            order.swap(i, (seed >> 33) as usize % (i + 1));
        }
        let mut round = vec![0.0; count];
        for &index in &order {
            round[index] = time(&IMPLEMENTATIONS[index]);
        }
        let baseline = round[machines::HAND_MATCH];
        for index in 0..count {
            times[index].push(round[index]);
            ratios[index].push(round[index] / baseline);
        }
    }
    println!(
        "\n{title} ({} runs in the first workload), {rounds} interleaved rounds; ratio to the hand-written match of the same round",
        stream.runs.len()
    );
    println!("| implementation | ns/event (median) | ratio (median) | ratio (min..max) |");
    println!("|---|---:|---:|---:|");
    for (index, implementation) in IMPLEMENTATIONS.iter().enumerate() {
        let (low, high) = ratios[index]
            .iter()
            .fold((f64::MAX, f64::MIN), |(low, high), r| {
                (low.min(*r), high.max(*r))
            });
        println!(
            "| {} | {:.2} | {:.2}x | {:.2}..{:.2} |",
            implementation.name,
            median(&mut times[index]),
            median(&mut ratios[index]),
            low,
            high
        );
    }
}
