//! Each example's output, asserted. The examples are compiled in as modules so
//! the test needs no nested `cargo run`.

#[allow(dead_code)]
#[path = "../examples/run_instance.rs"]
mod run_instance;

#[allow(dead_code)]
#[path = "../examples/worker.rs"]
mod worker;

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
        "restored: Completed, equal: true",
        "tampered: history has an illegal step `Ready` -> `Running`",
    ];
    for line in expected_lines {
        assert!(
            out.lines().any(|l| l.starts_with(line)),
            "missing {line:?} in\n{out}"
        );
    }
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
    for line in expected_lines {
        assert!(out.lines().any(|l| l == line), "missing {line:?} in\n{out}");
    }
}
