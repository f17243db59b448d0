//! 100,000 events through one runner with 16 subscribers: each subscriber
//! sees every `seq` in order, or sees the lag and resyncs from the snapshot;
//! all of them end on the exact final state.

use statewright::{state_machine, Cx, Handler, Runner, Step};
use tokio::sync::broadcast::error::RecvError;

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
    Add,
}

struct Adder;

impl Handler for Adder {
    type State = Counter;
    type Event = Tick;

    fn handle(&mut self, state: &Counter, event: Tick, _: &mut Cx<Self>) -> Step<Counter> {
        match (state, event) {
            (Counter::Idle, Tick::Start) => Step::to(Counter::Counting { count: 0 }),
            (Counter::Counting { count }, Tick::Add) => {
                Step::update(Counter::Counting { count: count + 1 })
            }
            _ => Step::reject("unexpected"),
        }
    }
}

const EVENTS: u64 = 100_000;
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
    let handle = Runner::new(Adder, Counter::Idle).capacity(256).spawn();
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
                    match transitions.recv().await {
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

    handle.send(Tick::Start).await.unwrap();
    for _ in 1..EVENTS {
        handle.post(Tick::Add).await.unwrap();
    }
    handle.send(Tick::Add).await.unwrap();
    let final_snapshot = handle.snapshot();
    assert_eq!(final_snapshot.seq, final_seq);
    assert_eq!(final_snapshot.state, Counter::Counting { count: EVENTS });

    let mut resynced = 0;
    for subscriber in subscribers {
        let seen = subscriber.await.unwrap();
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
