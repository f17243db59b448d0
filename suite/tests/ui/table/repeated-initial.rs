use statewright::state_machine;

#[state_machine]
enum Job {
    #[initial]
    #[to(Done)]
    Queued,
    #[initial]
    #[terminal]
    Done,
}

fn main() {}
