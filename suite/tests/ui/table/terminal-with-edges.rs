use statewright::state_machine;

#[state_machine]
enum Job {
    #[initial]
    #[to(Done)]
    Queued,
    #[terminal]
    #[to(Queued)]
    Done,
}

fn main() {}
