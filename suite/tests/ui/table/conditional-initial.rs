use statewright::state_machine;

#[state_machine]
enum Job {
    #[cfg(any())]
    #[initial]
    #[to(Done)]
    Queued,
    #[terminal]
    Done,
}

fn main() {}
