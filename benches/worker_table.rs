// Seed 004's worker table without data in its states: the workload of
// `benches/dispatch.rs` and of `benches/peers`, which include this file.

#[state_machine]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Worker {
    #[initial]
    #[on(start => Working, fail => Failed)]
    Assigned,
    #[on(submit => InReview, conflict => Conflicted, fail => Failed)]
    Working,
    #[on(submit => InReview, rework => Working, fail => Failed)]
    Conflicted,
    #[on(approve => Approved, rework => Working, fail => Failed)]
    InReview,
    #[on(complete => Completed, rework => Working, fail => Failed)]
    Approved,
    #[terminal]
    Completed,
    #[on(retry => Assigned)]
    Failed,
}

/// Every event, in the order both benches number them.
pub const ALL_EVENTS: [WorkerEvent; 8] = [
    WorkerEvent::Start,
    WorkerEvent::Fail,
    WorkerEvent::Submit,
    WorkerEvent::Conflict,
    WorkerEvent::Rework,
    WorkerEvent::Approve,
    WorkerEvent::Complete,
    WorkerEvent::Retry,
];

/// The next event index from `state`: an illegal one 20 % of the time (and
/// every time in the terminal state, which accepts nothing).
pub fn pick_event(state: Worker, random: &mut impl FnMut() -> u64) -> u8 {
    let (legal, illegal): (Vec<u8>, Vec<u8>) =
        (0..8).partition(|&index| state.clone().fire(ALL_EVENTS[index as usize]).is_ok());
    if random() % 5 == 0 || legal.is_empty() {
        illegal[(random() as usize) % illegal.len()]
    } else {
        legal[(random() as usize) % legal.len()]
    }
}

/// A seeded xorshift generator: the same stream on every machine.
pub fn random_source() -> impl FnMut() -> u64 {
    let mut seed: u64 = 0x5eed_0004;
    move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    }
}

/// `len` event indices cut into runs: each run starts at `Assigned` and ends
/// when the worker completes. Returns the events and the run lengths.
pub fn event_stream(len: usize, random: &mut impl FnMut() -> u64) -> (Vec<u8>, Vec<usize>) {
    let (mut events, mut runs) = (Vec::with_capacity(len), Vec::new());
    let (mut state, mut run_length) = (Worker::Assigned, 0);
    while events.len() < len {
        let event = pick_event(state, random);
        let _ = state.fire(ALL_EVENTS[event as usize]);
        events.push(event);
        run_length += 1;
        if Worker::is_terminal(state.kind()) {
            runs.push(run_length);
            run_length = 0;
            state = Worker::Assigned;
        }
    }
    runs.push(run_length);
    (events, runs)
}
