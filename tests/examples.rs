//! Each example's output, asserted. The examples are compiled in as modules so
//! the test needs no nested `cargo run`.

#[allow(dead_code)]
#[path = "../examples/run_instance.rs"]
mod run_instance;

#[allow(dead_code)]
#[path = "../examples/worker.rs"]
mod worker;

mod support;

use support::{assert_lines_in_order, within};

fn output(run: impl FnOnce(&mut String) -> std::fmt::Result) -> String {
    let mut out = String::new();
    run(&mut out).expect("writing to a String cannot fail");
    out
}

#[test]
fn run_instance_refuses_illegal_and_guarded_moves_and_revalidates_on_restore() {
    let out = output(run_instance::run);
    let expected_lines = [
        "ok      -> Ready",
        "refused -> Completed: illegal transition in `RunState`: `Ready` -> `Completed` (allowed: `Leased`, `Canceled`)",
        "attempt 1 started",
        "refused -> Completed: attempt 1 is still open; finish it before leaving `Running`",
        "ok      -> Completed",
        "stored: 7 journal lines, seq 6",
        "restored: Completed, equal: true",
        "re-stamped: journal line 3: illegal transition in `RunState`: `Ready` -> `Running` (allowed: `Leased`, `Canceled`)",
    ];
    assert_lines_in_order(out.lines(), &expected_lines);
    // An edit the checksum catches, with the line it is on.
    assert!(
        out.lines()
            .any(|line| line.starts_with("tampered: journal line 3: corrupt: checksum")),
        "{out}"
    );
}

#[test]
fn worker_fails_from_anywhere_retries_and_derives_staleness() {
    let out = output(worker::run);
    let expected_lines = [
        "   start: Assigned -> Working",
        " approve: refused: event `approve` is not accepted in state `Working` of `Worker` (accepted: `submit`, `conflict`, `fail`)",
        "    fail: Working -> Failed",
        "   retry: Failed -> Assigned",
        "complete: Approved -> Completed",
        "    fail: refused: event `fail` is not accepted in state `Completed` of `Worker` (it is terminal: nothing is accepted)",
        "Working, heartbeat 400000 ms ago: Stale",
        "Assigned, heartbeat never: Dead",
        "InReview, heartbeat never: Ok",
        "    Failed --> Assigned : retry",
    ];
    assert_lines_in_order(out.lines(), &expected_lines);
}

#[tokio::test]
async fn worker_keeps_its_machines_in_sqlite_with_compare_and_set_and_an_outbox() {
    let log = within(worker::store_demo())
        .await
        .expect("the store demo runs");
    let expected = [
        "w-1 start: Working at v1",
        "w-1 stale writer: `Worker` `w-1` is at version 1, not 0: another writer moved it first",
        "w-2 fail: Failed { reason: \"tests do not compile\" } at v1",
        "w-2 retry: Assigned at v2",
        "w-2 approve: refused: event `approve` is not accepted in state `Assigned` of `Worker` (accepted: `start`, `fail`)",
        "w-2 start: Working at v3",
        "w-1 Working v1: Ok",
        "w-2 Working v3: Stale",
        "published #1 w-1 v1: Assigned -> Working",
        "published #2 w-2 v1: Assigned -> Failed",
        "published #3 w-2 v2: Failed -> Assigned",
        "published #4 w-2 v3: Assigned -> Working",
        "outbox: 4 committed changes",
    ];
    assert_lines_in_order(log.iter().map(String::as_str), &expected);
    let published = log
        .iter()
        .filter(|line| line.starts_with("published"))
        .count();
    assert_eq!(published, 4, "exactly the committed changes: {log:#?}");
}

#[allow(dead_code)]
#[path = "../examples/network_runner.rs"]
mod network_runner;

#[tokio::test(start_paused = true)]
async fn network_runner_rejects_in_lockout_restarts_from_waiting_broadcasts_full_status_and_survives_a_restart(
) {
    let out = within(network_runner::demo()).await;
    // The watcher's lines and the demo's own are printed by two tasks: each
    // stream is in order, their interleaving is not asserted.
    let demo_lines = [
        "start 'a cat': accepted, now InLockout",
        "start 'a dog' during lockout: rejected: in lockout: the run that just started is protected",
        "late watcher, from one snapshot: #8  failed           run=2 last=#3 can_start_run=true",
        "restart: first runner Stopped(WaitingNext)",
        "restored at #13: WaitingNext, next invocation at the saved deadline: true",
        "outcome: Stopped(Idle)",
    ];
    let watcher_lines = [
        "watcher: #1  in_lockout       run=1 genesis=#1 lockout_ends_in=1.0s can_start_run=false (timer in 1.0s)",
        "watcher: #3  waiting_next     run=1 last=#1 genesis=#1 next_invocation_in=0.5s can_start_run=true (timer in 0.5s)",
        "watcher: #4  in_lockout       run=2 genesis=#2 lockout_ends_in=1.0s can_start_run=false (timer in 1.0s)",
        "watcher: #8  failed           run=2 last=#3 can_start_run=true",
        "watcher: #13 waiting_next     run=3 last=#5 genesis=#4 next_invocation_in=0.5s can_start_run=true (timer in 0.5s)",
        "watcher: #14 processing       run=3 invocation=#6 (3/3) genesis=#4 can_start_run=false",
        "watcher: #15 idle             can_start_run=true",
    ];
    let (watcher, demo): (Vec<&str>, Vec<&str>) =
        out.lines().partition(|line| line.starts_with("watcher:"));
    assert_lines_in_order(demo, &demo_lines);
    assert_lines_in_order(watcher, &watcher_lines);
    let broadcasts = out.lines().filter(|l| l.starts_with("watcher:")).count();
    assert_eq!(
        broadcasts, 15,
        "one broadcast per change, none lost:\n{out}"
    );
}

#[allow(dead_code)]
#[path = "../examples/recorder.rs"]
mod recorder;

#[tokio::test(start_paused = true)]
async fn recorder_sees_every_event_and_finishes_exactly_once() {
    let [decided, crashed, abandoned]: [Vec<String>; 3] = within(recorder::demo())
        .await
        .try_into()
        .expect("three sessions");
    assert_eq!(
        decided.first().map(String::as_str),
        Some("opened in Convened")
    );
    assert_eq!(
        decided.iter().filter(|l| l.starts_with("  motion")).count(),
        5
    );
    assert_lines_in_order(
        decided.iter().map(String::as_str),
        &["  refused: Tally { ayes: 1, noes: 0 } is out of order"],
    );
    assert_eq!(
        decided.last().map(String::as_str),
        Some("closed: Completed(Decided)")
    );

    let closed = |minutes: &[String]| minutes.iter().filter(|l| l.starts_with("closed")).count();
    assert_eq!(
        crashed.last().map(String::as_str),
        Some("closed: Crashed: the chair cannot break a tie")
    );
    assert_eq!(
        abandoned.last().map(String::as_str),
        Some("closed: Aborted")
    );
    for minutes in [&decided, &crashed, &abandoned] {
        assert_eq!(closed(minutes), 1, "{minutes:#?}");
    }
}

#[allow(dead_code)]
#[path = "../examples/workflow.rs"]
mod workflow;

#[tokio::test(start_paused = true)]
async fn workflow_pauses_hooks_checkpoints_and_reports_errors_with_context() {
    let log = within(workflow::demo()).await;
    let expected = [
        "reset: workflow error in `Running` at #1: illegal transition in `Workflow`: `Running` -> `Pending` (allowed: `Running`, `Completed`, `Failed`)",
        "paused for 1 s: still Running { step: 2 } at #2 (Paused)",
        "before: step 2 reports (Running)",
        "after:  checkpoint #5 Completed { steps: 4 }",
        "result: Ok(4)",
        "after:  checkpoint #4 Failed { step: 3, error: \"step 3 lost its database connection\" }",
        "result: workflow error in `Failed` at #4: step 3 lost its database connection",
        "checkpoints saved: 9",
        "after:  checkpoint #3 Running { step: 3 }",
        "finished: Stopped(Running)",
        "restart: checkpoint #3 Running { step: 3 } read back",
        "before: step 3 reports (Running)",
        "after:  checkpoint #4 Running { step: 4 }",
        "after:  checkpoint #5 Completed { steps: 4 }",
        "resumed: Ok(4)",
    ];
    assert_lines_in_order(log.iter().map(String::as_str), &expected);
    // The resumed run went on from #3: no step ran twice to completion, and
    // restoring called no `on_start`-style hooks (the first line after the
    // restart is step 3 reporting).
    let restart = log.iter().position(|l| l.starts_with("restart")).unwrap();
    assert_eq!(log[restart + 1], "before: step 3 reports (Running)");
    assert_eq!(
        log[restart..]
            .iter()
            .filter(|l| l.starts_with("after:"))
            .count(),
        2,
        "{log:#?}"
    );
    let paused = log.iter().position(|l| l.starts_with("paused")).unwrap();
    assert_eq!(
        log[paused - 1],
        "after:  checkpoint #2 Running { step: 2 }",
        "nothing ran while paused"
    );
}

/// Walks every edge of `M`'s table along `paths::edge_cover`, checking
/// each step against the table.
fn walk_every_edge<M: statewright::StateMachine>() {
    let walks = statewright::paths::edge_cover::<M>();
    let mut taken = std::collections::HashSet::new();
    for walk in &walks {
        let mut at = M::INITIAL;
        for edge in walk {
            assert_eq!(edge.from, at, "{}: a walk jumps", M::NAME);
            assert!(
                M::can_transition(edge.from, edge.to),
                "{}: no such edge",
                M::NAME
            );
            at = edge.to;
            taken.insert((edge.from, edge.to, edge.event));
        }
    }
    for edge in M::EDGES {
        assert!(
            taken.contains(&(edge.from, edge.to, edge.event)),
            "{}: {:?} -> {:?} not walked",
            M::NAME,
            edge.from,
            edge.to
        );
    }
}

#[test]
fn edge_cover_walks_every_edge_of_every_example_machine() {
    walk_every_edge::<network_runner::Network>();
    walk_every_edge::<recorder::Council>();
    walk_every_edge::<run_instance::RunState>();
    walk_every_edge::<worker::Worker>();
    walk_every_edge::<workflow::Workflow>();
    // And a shortest path, for a test that needs one state.
    let path = statewright::paths::shortest_path::<worker::Worker>(
        worker::WorkerKind::Assigned,
        worker::WorkerKind::Completed,
    )
    .expect("Completed is reachable");
    let events: Vec<_> = path.iter().map(|edge| edge.event.unwrap_or("-")).collect();
    assert_eq!(events, ["start", "submit", "approve", "complete"]);
}

#[tokio::test]
async fn worker_fleet_takes_over_a_dead_owners_workers_and_each_heartbeat_timer_fires_once() {
    let store = statewright::store::SqliteStore::<worker::Worker>::memory()
        .await
        .unwrap();
    // The other owner, in this process: dropped without `shutdown`, as a
    // killed process would leave it, its leases held until they expire.
    let other = {
        let store = store.clone();
        async move {
            drop(worker::other_owner(store).await?);
            Ok(())
        }
    };
    let log = within(worker::fleet_demo(store, other))
        .await
        .expect("the fleet demo runs");
    let expected = [
        "first owner: w-1 is still `second`'s until its lease ends",
        "each heartbeat timer fired once: 3 failures in the outbox for 3 workers",
    ];
    assert_lines_in_order(log.iter().map(String::as_str), &expected);
    for id in ["w-1", "w-2", "w-3"] {
        let line = format!("{id} v2: Working -> Failed (no heartbeat), fired by the first owner");
        assert!(log.contains(&line), "{line} in {log:#?}");
    }
}

#[tokio::test]
async fn recorder_fleet_keeps_a_book_per_council_and_an_adjourned_one_resumes() {
    let books = within(recorder::fleet_demo())
        .await
        .expect("the fleet demo runs");
    let book = |id: &str| {
        let found = books.iter().find(|(of, _)| of == id);
        found.map_or_else(
            || panic!("no book for {id}: {books:#?}"),
            |(_, book)| book.clone(),
        )
    };
    assert_eq!(
        book("council-2"),
        [
            "opened in Convened",
            "  motion Open while Convened",
            "  #1 now Deliberating { round: 1 }",
            "adjourned in Deliberating (not closed)",
            "resumed in Deliberating at #1",
            "  motion Argue while Deliberating",
            "  #2 now Deliberating { round: 2 }",
            "adjourned in Deliberating (not closed)",
        ]
    );
    let decided = book("council-1");
    assert_eq!(
        decided.last().map(String::as_str),
        Some("closed: Completed(Decided)")
    );
    assert_eq!(
        decided
            .iter()
            .filter(|line| line.starts_with("closed"))
            .count(),
        1
    );
}

/// Networks passivate while they wait on timers and come back when the
/// timers are due, but never while an invocation (a state task) runs, so
/// every run gets through its three invocations.
#[tokio::test]
async fn network_fleet_runs_every_network_through_passivations() {
    let log = within(network_runner::fleet_demo(3))
        .await
        .expect("the fleet demo runs");
    for id in ["net-1", "net-2", "net-3"] {
        let line = format!("{id}: #7  idle             can_start_run=true [Passivated]");
        assert!(log.contains(&line), "{line} in {log:#?}");
    }
    assert!(
        log.contains(
            &"net-1 start again (activated from the store): accepted, now InLockout".to_owned()
        ),
        "{log:#?}"
    );
}
