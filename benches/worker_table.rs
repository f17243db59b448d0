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
