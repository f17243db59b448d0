use statewright::state_machine;

#[state_machine]
enum Job {
    #[initial]
    #[to(Done, Done)]
    Queued,
    #[terminal]
    Done,
}

fn main() {}
