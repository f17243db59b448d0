//! Field types mean in every generated item what they mean in the enum.
#![deny(warnings, unused_qualifications)]
#![allow(missing_docs)]

#[derive(Debug, Clone, PartialEq)]
pub struct Owner(&'static str);

#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub lines: u32,
}

pub mod jobs {
    use statewright::state_machine;

    #[state_machine]
    #[derive(Debug, Clone, PartialEq)]
    pub enum Job {
        #[initial]
        #[on(start => Running)]
        Queued,
        /// `super::` is the parent of this module, here and in the typestates.
        #[on(pause => Paused, finish => Summary)]
        Running { who: super::Owner },
        /// `Self` is the machine.
        #[on(resume => Running)]
        Paused { previous: Box<Self> },
        /// A field typed like its own state.
        #[on(report => String)]
        Summary { summary: Summary, again: Option<Summary> },
        /// States named like prelude types, with fields of those types.
        #[on(wrap => Option)]
        String(String),
        #[terminal]
        Option { value: Option<u8>, text: String },
    }

    pub use super::Summary;
}

use jobs::{job, Job, JobEvent};

fn main() {
    let mut machine = Job::Queued;
    machine
        .fire(JobEvent::Start { who: Owner("ada") })
        .unwrap();
    let running = job::Running::try_from(machine.clone()).unwrap();
    assert_eq!(running.who, Owner("ada"));
    let paused: job::Paused = running.pause(Box::new(Job::Queued));
    assert_eq!(*paused.previous, Job::Queued);
    machine = paused.into();
    machine
        .fire(JobEvent::Resume { who: Owner("bob") })
        .unwrap();
    let summary = Summary { lines: 3 };
    machine
        .fire(JobEvent::Finish {
            summary: summary.clone(),
            again: Some(summary.clone()),
        })
        .unwrap();
    let typed = job::Summary::try_from(machine.clone()).unwrap();
    assert_eq!(typed.again, Some(summary));
    let text: job::String = typed.report("done".to_string());
    assert_eq!(text.0, "done");
    let end: job::Option = text.wrap(Some(7), "seven".to_string());
    assert_eq!((end.value, end.text.as_str()), (Some(7), "seven"));
    machine = end.into();
    assert_eq!(machine.kind(), jobs::JobKind::Option);
}
