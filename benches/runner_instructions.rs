//! Instructions per round trip, counted by callgrind (which, unlike the
//! wall clock on a shared VM, does not vary between runs): the raw tokio
//! actor, the runner, and the runner with a journal written to
//! `io::sink` (the journal's own work, without `write(2)`), for one sender
//! and for 32 senders at once, on a current-thread runtime.
//!
//! `cargo bench -p statewright-suite --bench runner_instructions` runs
//! itself under `valgrind --tool=callgrind` once per case and prints a
//! table; each count is a run of `EVENTS` round trips minus a run of none.

// A bench binary: nothing here is public API.
#![allow(missing_docs)]

mod support;

use std::fmt::Write as _;
use std::process::Command;

use statewright::{Journal, Runner, RunnerHandle};
use support::{Adder, Counter, RawActor, Tick};

/// Round trips per counted run.
const EVENTS: u64 = 32_000;
/// Set in the child processes: the case to run and how many senders.
const CASE: &str = "STATEWRIGHT_INSTRUCTIONS_CASE";
const CASES: [&str; 3] = ["raw actor", "runner", "runner + journal to io::sink"];

fn main() {
    match std::env::var(CASE) {
        Ok(case) => run_case(&case),
        Err(_) => print_table(),
    }
}

fn print_table() {
    let Ok(me) = std::env::current_exe() else {
        eprintln!("runner_instructions: cannot find its own binary");
        return;
    };
    let count = |case: &str, senders: u64, events: u64| -> Option<u64> {
        let output = Command::new("valgrind")
            .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
            .arg(&me)
            .env(CASE, format!("{case}/{senders}/{events}"))
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&output.stderr);
        let line = text.lines().find(|line| line.contains("Collected :"))?;
        line.split_whitespace().last()?.parse().ok()
    };
    println!("| instructions per round trip | 1 sender | 32 senders |");
    println!("|---|---:|---:|");
    for case in CASES {
        let mut row = format!("| {case} |");
        for senders in [1, 32] {
            let (Some(empty), Some(full)) = (count(case, senders, 0), count(case, senders, EVENTS))
            else {
                eprintln!("runner_instructions: needs `valgrind` on the PATH");
                return;
            };
            let _ = write!(row, " {} |", (full - empty) / EVENTS);
        }
        println!("{row}");
    }
}

/// One counted run: `events` round trips split over `senders` tasks.
fn run_case(spec: &str) {
    let mut parts = spec.split('/');
    let (case, senders, events) = (
        parts.next().unwrap_or_default(),
        parts
            .next()
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(1),
        parts
            .next()
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0),
    );
    let per_sender = events / senders;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async move {
        let target = if case == "raw actor" {
            Target::Raw(RawActor::spawn(64))
        } else {
            let mut runner = Runner::new(Adder, Counter::Idle);
            if case.contains("journal") {
                runner = runner.recorder(Journal::new(std::io::sink()));
            }
            Target::Runner(runner.spawn())
        };
        target.round_trip(Tick::Start).await;
        let senders: Vec<_> = (0..senders)
            .map(|_| {
                let target = target.clone();
                tokio::spawn(async move {
                    for _ in 0..per_sender {
                        target.round_trip(Tick::Add).await;
                    }
                })
            })
            .collect();
        for sender in senders {
            sender.await.expect("a sender task");
        }
    });
}

/// What the senders send to: the raw actor or a runner.
#[derive(Clone)]
enum Target {
    Raw(RawActor),
    Runner(RunnerHandle<Adder>),
}

impl Target {
    async fn round_trip(&self, tick: Tick) {
        match self {
            Self::Raw(actor) => {
                std::hint::black_box(actor.send(tick).await);
            }
            Self::Runner(handle) => {
                let _ = std::hint::black_box(handle.send(tick).await);
            }
        }
    }
}
