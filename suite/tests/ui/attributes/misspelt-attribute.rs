use statewright::state_machine;

#[state_machine]
enum Job {
    #[initial]
    #[to(Done)]
    Queued,
    #[termnal]
    Done,
}

fn main() {}
