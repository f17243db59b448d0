use statewright::state_machine;

#[state_machine]
enum Job {
    #[initial]
    #[to(Done)]
    Queued,
    #[to(Done)]
    Orphan,
    #[terminal]
    Done,
}

fn main() {}
