use statewright::state_machine;

#[state_machine]
enum Job {
    #[initial]
    #[on(Finish => Done)]
    Queued,
    #[terminal]
    Done,
}

fn main() {}
