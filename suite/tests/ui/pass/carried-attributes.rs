//! Attributes on the enum, its variants and their fields reach the
//! generated items as the attribute reference says: lint levels,
//! `#[deprecated]`, `#[cfg]` and serde's field attributes.
#![deny(warnings, missing_docs, unused_qualifications)]

use statewright::state_machine;

/// A job whose old state is deprecated.
#[state_machine]
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[allow(clippy::large_enum_variant)]
pub enum Job {
    /// Waiting.
    #[initial]
    #[on(start => Running)]
    #[to(Legacy)]
    Queued,
    /// Running.
    #[on(finish => Done)]
    Running {
        /// Only with a feature nobody enables.
        #[cfg(any())]
        missing: u8,
        /// Not serialized.
        #[serde(skip)]
        cache: u32,
        /// The worker.
        worker: u32,
    },
    /// The old way.
    #[deprecated = "use `Running`"]
    #[to(Done)]
    Legacy,
    /// Done.
    #[terminal]
    Done,
}

fn main() {
    let mut job = Job::Queued;
    assert!(job
        .fire(JobEvent::Start {
            cache: 7,
            worker: 1
        })
        .is_ok());
    let running = job::Running {
        cache: 7,
        worker: 1,
    };
    let text = serde_json::to_string(&running).expect("serializes");
    assert_eq!(text, r#"{"worker":1}"#, "`#[serde(skip)]` is carried");
    let event = JobEvent::Start {
        cache: 9,
        worker: 2,
    };
    assert_eq!(
        serde_json::to_string(&event).expect("serializes"),
        r#"{"Start":{"worker":2}}"#
    );
}
