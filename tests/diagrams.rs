//! Golden tests: the diagrams are a contract (the CLI prints the same text).

use statewright::state_machine;

/// The worker of DESIGN.md. Its own copy rather than `macro_generated`'s,
/// which must document every state: here only `Assigned` has docs, so the
/// golden files pin both a note and its absence.
#[state_machine]
#[derive(Debug, Clone)]
enum Worker {
    /// Waiting for an agent.
    #[initial]
    #[on(start => Working)]
    Assigned,
    #[on(submit => InReview, conflict => Conflicted)]
    Working { branch: String },
    #[on(resolve => InReview)]
    #[to(Working)]
    Conflicted,
    #[on(approve => Approved, rework => Working)]
    InReview,
    #[on(merge => Completed, rework => Working)]
    Approved,
    #[terminal]
    Completed,
    #[from_any(fail)]
    #[on(retry => Assigned)]
    Failed { reason: String },
}

/// Compares with `tests/golden/<file>`; `UPDATE_GOLDEN=1` rewrites it instead
/// (read the diff before committing).
fn assert_golden(file: &str, actual: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(file);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).expect("golden file is writable");
        return;
    }
    let expected = std::fs::read_to_string(&path).expect("golden file exists");
    assert_eq!(
        actual,
        expected,
        "{} differs; actual:\n{actual}",
        path.display()
    );
}

#[test]
fn mermaid_is_pinned() {
    assert_golden("worker.mmd", Worker::MERMAID);
}

#[test]
fn dot_is_pinned() {
    assert_golden("worker.dot", Worker::DOT);
}
