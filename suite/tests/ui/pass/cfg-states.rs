//! A variant under `#[cfg]` is a state only when the cfg holds: every
//! generated item agrees, with the cfg on and off.
#![deny(warnings, unused_qualifications)]
#![allow(dead_code)]

use statewright::{state_machine, StateMachine};

#[state_machine]
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
enum Upload {
    #[initial]
    #[on(start => Sending, scan => Scanning)]
    Queued,
    #[cfg(any())]
    #[on(clean => Sending)]
    Scanning,
    #[on(done => Stored)]
    Sending,
    #[cfg(all())]
    #[terminal]
    Stored,
}

/// Data-carrying states take the `match` dispatch instead of the table.
#[state_machine]
#[derive(Debug, Clone, PartialEq)]
enum Job {
    #[initial]
    #[on(run => Running, audit => Audited)]
    Queued,
    #[on(finish => Done)]
    Running { worker: u32 },
    #[cfg(any())]
    #[on(finish => Done)]
    Audited { by: String },
    #[terminal]
    Done,
}

fn main() {
    assert_eq!(UploadKind::ALL, [UploadKind::Queued, UploadKind::Sending, UploadKind::Stored]);
    assert_eq!(<Upload as StateMachine>::EDGES.len(), 2, "edges to and from `Scanning` are gone");
    assert_eq!(Upload::targets(UploadKind::Queued), [UploadKind::Sending]);
    let mut upload = Upload::Queued;
    upload.fire(UploadEvent::Start).unwrap();
    upload.fire(UploadEvent::Done).unwrap();
    assert_eq!(upload.kind(), UploadKind::Stored);
    assert_eq!(serde_json::to_string(&upload.kind()).unwrap(), "\"Stored\"");
    let refused = Upload::Queued.clone().fire(UploadEvent::Done).unwrap_err();
    assert_eq!(
        refused.to_string(),
        "event `done` is not accepted in state `Queued` of `Upload` (accepted: `start`)"
    );
    let _: upload::Sending = upload::Queued.start();

    let mut job = Job::Queued;
    job.fire(JobEvent::Run { worker: 7 }).unwrap();
    job.fire(JobEvent::Finish).unwrap();
    assert_eq!(job, Job::Done);
    assert_eq!(JobKind::ALL.len(), 3);
}
