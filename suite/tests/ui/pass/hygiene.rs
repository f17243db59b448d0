//! Generated code uses absolute paths: shadowing prelude names changes nothing.
#![deny(warnings, unused_qualifications)]
#![allow(dead_code)]

use statewright::state_machine;

struct Result;
struct Option;
struct String;
struct Box;
struct Vec;
struct Some;
struct Ok;
struct Err;
struct None;
mod core {}
mod std {}

#[state_machine]
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
enum Job {
    #[initial]
    #[on(start => Running)]
    Queued,
    #[on(finish => Done)]
    Running { worker: u32 },
    #[terminal]
    Done,
}

fn main() {
    let mut job = Job::Queued;
    let _ = job.fire(JobEvent::Start { worker: 1 });
    let _ = job.transition_to(Job::Done);
}
