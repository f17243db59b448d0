use statewright::state_machine;

#[state_machine]
enum Job {
    #[initial]
    #[on(kind => Done)]
    Queued,
    #[terminal]
    Done,
}

fn main() {}
