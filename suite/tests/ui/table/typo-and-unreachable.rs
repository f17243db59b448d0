// A misspelt target is taken as meant for the state the error suggests, so
// an unrelated mistake in the graph is reported in the same run.
use statewright::state_machine;

#[state_machine]
enum Job {
    #[initial]
    #[to(Runing)]
    Queued,
    #[to(Done)]
    Running,
    #[terminal]
    Done,
    #[to(Done)]
    Orphan,
}

fn main() {}
