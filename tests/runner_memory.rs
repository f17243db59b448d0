//! What an idle runner keeps on the heap. The lean-build target is 2 KiB
//! per idle runner, measured as resident memory in
//! `benches/runner_memory.rs`; here it is the bytes the allocator still
//! holds for 1,000 parked runners, which a boxed state, a bigger queue block
//! or a new per-runner allocation would push over.

mod support;

use statewright::{state_machine, Cx, Handler, Runner, Step};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use std::alloc::System;
use support::within;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

#[state_machine]
#[derive(Debug, Clone, PartialEq)]
enum Counter {
    #[initial]
    #[to(Counting)]
    Idle,
    #[to(Idle)]
    Counting { count: u64 },
}

struct Adder;

impl Handler for Adder {
    type State = Counter;
    type Event = ();

    fn handle(&mut self, state: &Counter, (): (), _: &mut Cx<Self>) -> Step<Counter> {
        match state {
            Counter::Idle => Step::to(Counter::Counting { count: 0 }),
            Counter::Counting { count } => Step::update(Counter::Counting { count: count + 1 }),
        }
    }
}

const RUNNERS: usize = 1_000;
const BUDGET: usize = 2_048;

#[test]
fn an_idle_runner_holds_less_than_two_kibibytes() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let mut handles = Vec::with_capacity(RUNNERS);
        let region = Region::new(GLOBAL);
        for _ in 0..RUNNERS {
            handles.push(Runner::new(Adder, Counter::Idle).spawn());
        }
        // One thread: by the time the last runner answers, every runner has
        // started and parked.
        within(handles[RUNNERS - 1].send(()))
            .await
            .expect("it answers");
        let change = region.change();
        let grown = usize::try_from(change.bytes_reallocated).unwrap_or(0);
        let shrunk = usize::try_from(-change.bytes_reallocated).unwrap_or(0);
        let held =
            (change.bytes_allocated + grown).saturating_sub(change.bytes_deallocated + shrunk);
        let per_runner = held / RUNNERS;
        println!("an idle runner holds {per_runner} bytes of heap");
        assert!(
            per_runner > 100,
            "the measure sees the runners ({per_runner} bytes)"
        );
        assert!(
            per_runner <= BUDGET,
            "an idle runner holds {per_runner} bytes, over the {BUDGET}-byte budget"
        );
        drop(handles);
    });
}
