//! Memory per idle runner: spawn 100,000, divide the growth of resident memory.
//! Prints the result for the runner, for the raw actor and for the raw
//! actor's queue alone, a tokio `mpsc` of 64 (Linux only).

mod support;

use statewright::Runner;
use support::{resident_bytes, Adder, Counter, RawActor, Request, Tick};

const COUNT: usize = 100_000;

fn per_item(before: Option<u64>, after: Option<u64>) -> String {
    match (before, after) {
        (Some(before), Some(after)) => {
            format!("{} bytes", after.saturating_sub(before) / COUNT as u64)
        }
        _ => "unavailable (no /proc/self/statm)".to_string(),
    }
}

fn main() {
    let runtime = support::runtime();
    runtime.block_on(async {
        let (handle, run) = Runner::new(Adder, Counter::Idle).pair();
        println!(
            "runner future: {} bytes, snapshot: {} bytes",
            std::mem::size_of_val(&run),
            std::mem::size_of::<statewright::Snapshot<Counter>>()
        );
        drop((handle, run));
        let before = resident_bytes();
        let mut handles = Vec::with_capacity(COUNT);
        for _ in 0..COUNT {
            handles.push(Runner::new(Adder, Counter::Idle).spawn());
        }
        // Every runner has started and parked once it has answered.
        handles[COUNT - 1]
            .send(Tick::Start)
            .await
            .expect("runner answers");
        tokio::task::yield_now().await;
        let after = resident_bytes();
        println!("idle runner:    {} (of {COUNT})", per_item(before, after));

        let before = resident_bytes();
        let mut actors = Vec::with_capacity(COUNT);
        for _ in 0..COUNT {
            actors.push(RawActor::spawn(64));
        }
        actors[COUNT - 1].send(Tick::Start).await;
        tokio::task::yield_now().await;
        let after = resident_bytes();
        println!("idle raw actor: {} (of {COUNT})", per_item(before, after));

        // The floor under both: the queue, as the raw actor creates it.
        let before = resident_bytes();
        let queues: Vec<_> = (0..COUNT)
            .map(|_| tokio::sync::mpsc::channel::<Request>(64))
            .collect();
        let after = resident_bytes();
        println!("mpsc of 64:     {} (of {COUNT})", per_item(before, after));
        drop((handles, actors, queues));
    });
}
