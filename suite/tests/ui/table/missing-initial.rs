use statewright::state_machine;

#[state_machine]
enum Job {
    #[to(Done)]
    Queued,
    #[terminal]
    Done,
}

fn main() {}
