//! One test per numbered item of DESIGN.md "What is generated", on DESIGN's `Worker`.
#![deny(missing_docs, warnings)]

use statewright::{state_machine, Edge, EventError, StateMachine, TransitionError, TransitionTo};

/// The worker of DESIGN.md.
#[state_machine]
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Worker {
    /// Waiting for an agent to pick it up.
    #[initial]
    #[on(start => Working)]
    Assigned,

    /// An agent is on it.
    #[on(submit => InReview, conflict => Conflicted)]
    Working {
        /// The branch being worked on.
        branch: String,
    },

    /// A rebase went wrong.
    #[on(resolve => InReview)]
    #[to(Working)]
    Conflicted,

    /// Waiting for review.
    #[on(approve => Approved, rework => Working)]
    InReview,

    /// Ready to merge.
    #[on(merge => Completed, rework => Working)]
    Approved,

    /// Merged.
    #[terminal]
    Completed,

    /// Something broke.
    #[from_any(fail)]
    #[on(retry => Assigned)]
    Failed {
        /// Why.
        reason: String,
    },
}

fn working() -> Worker {
    Worker::Working {
        branch: "feat".into(),
    }
}

#[test]
fn kind_enum_is_one_byte_ordered_named_and_serde() {
    assert_eq!(core::mem::size_of::<WorkerKind>(), 1);
    assert_eq!(WorkerKind::ALL.len(), 7);
    assert_eq!(WorkerKind::ALL[0], WorkerKind::Assigned);
    assert!(WorkerKind::Assigned < WorkerKind::Failed);
    assert_eq!(WorkerKind::InReview.name(), "InReview");
    assert_eq!(WorkerKind::InReview.to_string(), "InReview");
    assert_eq!(format!("{:>10}", WorkerKind::Approved), "  Approved");
    assert_eq!(working().kind(), WorkerKind::Working);
    let json = serde_json::to_string(&WorkerKind::InReview).unwrap();
    assert_eq!(json, "\"InReview\"");
    let back: WorkerKind = serde_json::from_str(&json).unwrap();
    assert_eq!(back, WorkerKind::InReview);
    let error = serde_json::from_str::<WorkerKind>("\"Reviewing\"").unwrap_err();
    assert!(
        error.to_string().contains("unknown variant `Reviewing`"),
        "{error}"
    );
}

#[test]
fn state_machine_impl_has_the_table_in_declaration_order() {
    assert_eq!(Worker::NAME, "Worker");
    assert_eq!(<Worker as StateMachine>::INITIAL, WorkerKind::Assigned);
    assert_eq!(Worker::STATES, &WorkerKind::ALL);
    let first = Worker::EDGES[..3].to_vec();
    assert_eq!(
        first,
        [
            Edge {
                from: WorkerKind::Assigned,
                to: WorkerKind::Working,
                event: Some("start")
            },
            Edge {
                from: WorkerKind::Assigned,
                to: WorkerKind::Failed,
                event: Some("fail")
            },
            Edge {
                from: WorkerKind::Working,
                to: WorkerKind::InReview,
                event: Some("submit")
            },
        ]
    );
    // 9 declared edges + `fail` from the five non-terminal states other than Failed.
    assert_eq!(Worker::EDGES.len(), 10 + 5);
    assert!(Worker::EDGES
        .iter()
        .all(|edge| Worker::can_transition(edge.from, edge.to)));
    let edge_count = WorkerKind::ALL
        .iter()
        .flat_map(|from| WorkerKind::ALL.iter().map(move |to| (*from, *to)))
        .filter(|(from, to)| Worker::can_transition(*from, *to))
        .count();
    assert_eq!(
        edge_count, 15,
        "the matrix holds exactly the declared edges"
    );
    assert!(Worker::is_terminal(WorkerKind::Completed));
    assert!(!Worker::is_terminal(WorkerKind::Failed));
}

#[test]
fn can_transition_is_const() {
    const START: bool = Worker::can_transition(WorkerKind::Assigned, WorkerKind::Working);
    const SKIP: bool = Worker::can_transition(WorkerKind::Assigned, WorkerKind::Completed);
    const DONE: bool = Worker::is_terminal(WorkerKind::Completed);
    const { assert!(START && !SKIP && DONE) };
}

#[test]
fn transition_to_replaces_and_returns_previous_or_leaves_state() {
    let mut worker = Worker::Assigned;
    let previous = worker.transition_to(working()).unwrap();
    assert_eq!(previous, Worker::Assigned);
    assert_eq!(worker, working());

    let error = worker.transition_to(Worker::Completed).unwrap_err();
    assert_eq!(
        error,
        TransitionError::new(WorkerKind::Working, WorkerKind::Completed)
    );
    assert_eq!(error.machine(), "Worker");
    assert_eq!(
        error.allowed(),
        [
            WorkerKind::InReview,
            WorkerKind::Conflicted,
            WorkerKind::Failed
        ]
    );
    assert_eq!(worker, working(), "a refused transition leaves the state");
    assert_eq!(
        error.to_string(),
        "illegal transition in `Worker`: `Working` -> `Completed` (allowed: `InReview`, `Conflicted`, `Failed`)"
    );
    let _: &dyn std::error::Error = &error;
}

#[test]
fn typestate_structs_convert_and_move_only_along_edges() {
    let assigned = worker::Assigned;
    let working: worker::Working = assigned.start("feat".to_owned());
    assert_eq!(working.branch, "feat");
    let review: worker::InReview = working.clone().submit();
    let approved = review.approve();
    let done: worker::Completed = approved.merge();
    assert_eq!(Worker::from(done), Worker::Completed);
    let failed = working.fail("boom".to_owned());
    assert_eq!(failed.reason, "boom");
    let back: worker::Assigned = failed.retry();
    let via_to: worker::InReview = worker::Conflicted.to(worker::InReview);
    let _ = via_to;
    let _ = back;

    let converted = worker::Working::try_from(working_machine()).unwrap();
    assert_eq!(
        converted,
        worker::Working {
            branch: "feat".into()
        }
    );
    let wrong = worker::Approved::try_from(working_machine()).unwrap_err();
    assert_eq!(wrong.expected, WorkerKind::Approved);
    assert_eq!(
        wrong.to_string(),
        "expected `Worker` in state `Approved`, found state `Working`"
    );
    assert_eq!(wrong.into_inner(), working_machine());
}

fn working_machine() -> Worker {
    working()
}

#[test]
fn events_carry_target_fields_and_fire_checks_the_table() {
    let mut worker = Worker::Assigned;
    let event = WorkerEvent::Start {
        branch: "feat".into(),
    };
    assert_eq!(event.name(), "start");
    assert_eq!(worker.fire(event).unwrap(), Worker::Assigned);
    assert_eq!(worker, working());

    let error = worker.fire(WorkerEvent::Merge).unwrap_err();
    assert_eq!(error, EventError::new(WorkerKind::Working, 6));
    assert_eq!(
        (error.machine(), error.state(), error.event()),
        ("Worker", WorkerKind::Working, "merge")
    );
    assert_eq!(error.accepted(), ["submit", "conflict", "fail"]);
    assert_eq!(
        error.to_string(),
        "event `merge` is not accepted in state `Working` of `Worker` (accepted: `submit`, `conflict`, `fail`)"
    );
    assert_eq!(worker, working(), "a refused event leaves the state");

    worker
        .fire(WorkerEvent::Fail {
            reason: "disk".into(),
        })
        .unwrap();
    assert_eq!(
        worker,
        Worker::Failed {
            reason: "disk".into()
        }
    );
    worker.fire(WorkerEvent::Retry).unwrap();
    assert_eq!(worker.kind(), WorkerKind::Assigned);
}

#[test]
fn terminal_state_accepts_nothing() {
    let mut worker = Worker::Completed;
    let error = worker
        .fire(WorkerEvent::Fail {
            reason: "late".into(),
        })
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "event `fail` is not accepted in state `Completed` of `Worker` (it is terminal: nothing is accepted)"
    );
}

fn assert_transition<A: TransitionTo<B>, B>() {}

#[test]
fn transition_to_impls_follow_the_table() {
    assert_transition::<worker::Assigned, worker::Working>();
    assert_transition::<worker::Conflicted, worker::Working>();
    assert_transition::<worker::InReview, worker::Failed>();
}

/// A machine without data, as in the README's performance section.
#[state_machine]
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Door {
    /// Shut.
    #[initial]
    #[on(open => Open)]
    Closed,
    /// Not shut.
    #[on(close => Closed)]
    Open,
}

#[test]
fn errors_are_a_kind_and_an_index_so_results_fit_in_registers() {
    use core::mem::size_of;
    assert!(size_of::<Result<Door, EventError<DoorKind>>>() <= 16);
    assert!(size_of::<Result<Door, TransitionError<DoorKind>>>() <= 16);
    assert_eq!(size_of::<EventError<DoorKind>>(), 4);
    assert_eq!(size_of::<TransitionError<DoorKind>>(), 2);
    let error = Door::Closed.fire(DoorEvent::Close).unwrap_err();
    assert_eq!(
        error.to_string(),
        "event `close` is not accepted in state `Closed` of `Door` (accepted: `open`)"
    );
}
