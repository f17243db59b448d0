//! 1,000,000 events through one runner with 16 subscribers, a quarter of
//! them slow: every `send` gets exactly one reply, the handler sees every
//! event exactly once and in order, each subscriber sees every `seq` in
//! order or sees the lag and resyncs from the snapshot, all of them end on
//! the exact final state, and memory stays bounded.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use statewright::{state_machine, Cx, Handler, Runner, Step};
use tokio::sync::broadcast::error::RecvError;

mod support;

use support::within;

#[state_machine]
#[derive(Debug, Clone, PartialEq)]
enum Counter {
    #[initial]
    #[to(Counting)]
    Idle,
    #[to(Done)]
    Counting { count: u64 },
    #[terminal]
    Done,
}

#[derive(Debug)]
enum Tick {
    Start,
    /// The number of this event, counted from 1.
    Add(u64),
}

/// Counts what it handles; an event handled twice, lost or out of order
/// shows as a number that is not the next one.
struct Adder {
    handled: Arc<AtomicU64>,
}

impl Handler for Adder {
    type State = Counter;
    type Event = Tick;

    fn handle(&mut self, state: &Counter, event: Tick, _: &mut Cx<Self>) -> Step<Counter> {
        match (state, event) {
            (Counter::Idle, Tick::Start) => Step::to(Counter::Counting { count: 0 }),
            (Counter::Counting { count }, Tick::Add(number)) => {
                let handled = self.handled.fetch_add(1, Ordering::Relaxed) + 1;
                if number != handled {
                    return Step::reject(format!("event {number} arrived as number {handled}"));
                }
                Step::update(Counter::Counting { count: count + 1 })
            }
            _ => Step::reject("unexpected"),
        }
    }
}

/// Resident memory of this process, in bytes (Linux), to show it stays bounded.
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

const EVENTS: u64 = 1_000_000;
/// Every this many events, one is sent and its reply checked.
const SEND_EVERY: u64 = 100;
const SUBSCRIBERS: usize = 16;

#[derive(Debug)]
struct Seen {
    last_seq: u64,
    last_state: Counter,
    resyncs: u32,
    delivered: u64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_subscriber_is_gap_free_or_resyncs_to_the_final_snapshot() {
    let handled = Arc::new(AtomicU64::new(0));
    let adder = Adder {
        handled: Arc::clone(&handled),
    };
    let handle = Runner::new(adder, Counter::Idle).capacity(256).spawn();
    let final_seq = EVENTS + 1;
    let subscribers: Vec<_> = (0..SUBSCRIBERS)
        .map(|index| {
            let mut transitions = handle.subscribe();
            let handle = handle.clone();
            tokio::spawn(async move {
                let mut seen = Seen {
                    last_seq: 0,
                    last_state: Counter::Idle,
                    resyncs: 0,
                    delivered: 0,
                };
                while seen.last_seq < final_seq {
                    match within(transitions.recv()).await {
                        Ok(transition) if transition.seq <= seen.last_seq => {}
                        Ok(transition) => {
                            assert_eq!(
                                transition.seq,
                                seen.last_seq + 1,
                                "subscriber {index} saw a gap without `Lagged`"
                            );
                            seen.last_seq = transition.seq;
                            seen.last_state = transition.to.clone();
                            seen.delivered += 1;
                        }
                        Err(RecvError::Lagged(_)) => {
                            let snapshot = handle.snapshot();
                            seen.last_seq = snapshot.seq;
                            seen.last_state = snapshot.state;
                            seen.resyncs += 1;
                        }
                        Err(RecvError::Closed) => panic!("closed before the last event"),
                    }
                    // Some subscribers are slow; the runner must not wait for them.
                    if index % 4 == 0 {
                        tokio::task::yield_now().await;
                    }
                }
                seen
            })
        })
        .collect();

    within(handle.send(Tick::Start)).await.unwrap();
    let mut replies = 0;
    let mut resident_early = None;
    for number in 1..=EVENTS {
        if number % SEND_EVERY == 0 || number == EVENTS {
            let applied = within(handle.send(Tick::Add(number))).await.unwrap();
            assert!(
                matches!(applied, statewright::Applied::Transitioned { seq, .. } if seq == number + 1),
                "event {number}: {applied:?}"
            );
            replies += 1;
        } else {
            within(handle.post(Tick::Add(number))).await.unwrap();
        }
        if number == EVENTS / 10 {
            resident_early = resident_bytes();
        }
    }
    assert_eq!(replies, EVENTS / SEND_EVERY, "one reply per send");
    assert_eq!(
        handled.load(Ordering::Relaxed),
        EVENTS,
        "none lost or doubled"
    );
    let final_snapshot = handle.snapshot();
    assert_eq!(final_snapshot.seq, final_seq);
    assert_eq!(final_snapshot.state, Counter::Counting { count: EVENTS });
    if let (Some(early), Some(late)) = (resident_early, resident_bytes()) {
        // Keeping every transition would take well over 100 MiB.
        let growth = late.saturating_sub(early);
        assert!(growth < 64 << 20, "memory grew by {growth} bytes");
        println!(
            "resident memory grew by {} KiB over the last 90 %",
            growth >> 10
        );
    }

    let mut resynced = 0;
    for subscriber in subscribers {
        let seen = within(subscriber).await.unwrap();
        assert_eq!(seen.last_seq, final_seq, "{seen:?}");
        assert_eq!(seen.last_state, final_snapshot.state, "{seen:?}");
        if seen.resyncs == 0 {
            assert_eq!(seen.delivered, final_seq, "gap-free: every seq delivered");
        } else {
            resynced += 1;
        }
    }
    println!("{resynced} of {SUBSCRIBERS} subscribers lagged and resynced");
}
