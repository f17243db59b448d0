//! A coding agent's worker lifecycle (seed 004): named events, `fail` from any
//! live state, a retry out of `Failed`, and staleness derived from heartbeat
//! age instead of stored as a state.
//!
//! Run with `cargo run --example worker`.

use std::fmt::{self, Write};

use statewright::state_machine;

/// A worker assigned to one task.
#[state_machine]
#[derive(Debug, Clone, PartialEq)]
enum Worker {
    /// Assigned, not yet picked up.
    #[initial]
    #[on(start => Working)]
    Assigned,
    /// Writing code on its branch.
    #[on(submit => InReview, conflict => Conflicted)]
    Working,
    /// A rebase went wrong.
    #[on(resolve => InReview)]
    #[to(Working)]
    Conflicted,
    /// Waiting for review.
    #[on(approve => Approved, rework => Working)]
    InReview,
    /// Ready to merge.
    #[on(complete => Completed, rework => Working)]
    Approved,
    /// Merged.
    #[terminal]
    Completed,
    /// Something broke; may be retried.
    #[from_any(fail)]
    #[on(retry => Assigned)]
    Failed {
        /// Why it failed.
        reason: String,
    },
}

/// How long since a live worker was last heard from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Staleness {
    /// Heard from recently.
    Ok,
    /// Quiet for a while.
    Warn,
    /// Probably stuck.
    Stale,
    /// Gone: no heartbeat for long, or never.
    Dead,
}

/// Derived, never stored: only `Assigned` and `Working` wait on the agent.
#[must_use]
fn staleness(state: WorkerKind, heartbeat_age_ms: Option<u64>) -> Staleness {
    if !matches!(state, WorkerKind::Assigned | WorkerKind::Working) {
        return Staleness::Ok;
    }
    match heartbeat_age_ms {
        None => Staleness::Dead,
        Some(age) if age > 600_000 => Staleness::Dead,
        Some(age) if age > 300_000 => Staleness::Stale,
        Some(age) if age > 120_000 => Staleness::Warn,
        Some(_) => Staleness::Ok,
    }
}

/// The demo, writing to `out` so a test can read it.
///
/// # Errors
///
/// Only if writing to `out` fails.
pub(crate) fn run(out: &mut impl Write) -> fmt::Result {
    let mut worker = Worker::Assigned;
    let fail = || WorkerEvent::Fail {
        reason: "tests do not compile".into(),
    };
    let events = [
        WorkerEvent::Start,
        WorkerEvent::Approve,
        WorkerEvent::Submit,
        WorkerEvent::Rework,
        fail(),
        WorkerEvent::Retry,
        WorkerEvent::Start,
        WorkerEvent::Submit,
        WorkerEvent::Approve,
        WorkerEvent::Complete,
        fail(),
    ];
    for event in events {
        let name = event.name();
        match worker.fire(event) {
            Ok(previous) => writeln!(out, "{name:>8}: {} -> {}", previous.kind(), worker.kind())?,
            Err(error) => writeln!(out, "{name:>8}: refused: {error}")?,
        }
    }
    for (kind, age) in [
        (WorkerKind::Working, Some(5_000)),
        (WorkerKind::Working, Some(400_000)),
        (WorkerKind::Assigned, None),
        (WorkerKind::InReview, None),
    ] {
        let heard = age.map_or("never".to_string(), |ms| format!("{ms} ms ago"));
        writeln!(out, "{kind}, heartbeat {heard}: {:?}", staleness(kind, age))?;
    }
    writeln!(out, "\n{}", Worker::MERMAID)?;
    Ok(())
}

fn main() {
    let mut out = String::new();
    run(&mut out).expect("writing to a String cannot fail");
    print!("{out}");
}
