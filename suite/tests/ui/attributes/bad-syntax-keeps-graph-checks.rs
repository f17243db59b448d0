//! A syntax error in one `#[on]` loses that attribute's edges only: the
//! rest of the table is still checked (`Stuck` has no way out).
use statewright::state_machine;

#[state_machine]
enum Job {
    #[initial]
    #[on(start => Running Fast)]
    #[to(Stuck)]
    Queued,
    #[to(Done)]
    Running,
    Stuck,
    #[terminal]
    Done,
}

fn main() {}
