#![deny(warnings, unused_qualifications)]
use statewright::state_machine;

#[state_machine(allow_unreachable)]
enum Job {
    #[initial]
    #[to(Done)]
    Queued,
    #[to(Done)]
    Legacy,
    #[terminal]
    Done,
}

fn main() {
    assert!(Job::can_transition(JobKind::Legacy, JobKind::Done));
}
