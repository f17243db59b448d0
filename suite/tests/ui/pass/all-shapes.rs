//! Every variant shape, options, and docs, under the strictest lints.
#![deny(warnings, missing_docs, unused_qualifications, clippy::pedantic)]

use statewright::state_machine;

/// A job.
#[state_machine(module = job_states)]
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Job {
    /// Waiting.
    #[initial]
    #[on(start => Running)]
    Queued,
    /// Running on a worker.
    #[on(finish => Done)]
    Running(u32, String),
    /// Finished.
    #[terminal]
    Done {
        /// How it ended.
        exit_code: i32,
    },
    /// Gave up.
    #[from_any(abandon)]
    #[terminal]
    Abandoned,
}

fn main() {
    let running: job_states::Running = job_states::Queued.start(7, "w".into());
    let done = running.finish(0);
    assert_eq!(Job::from(done), Job::Done { exit_code: 0 });
}
