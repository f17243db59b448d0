use statewright::state_machine;

#[state_machine]
enum Job {
    #[initial]
    #[to(Running, Done)]
    Queued,
    Running,
    #[terminal]
    Done,
}

fn main() {}
