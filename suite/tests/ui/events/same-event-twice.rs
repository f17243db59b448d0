use statewright::state_machine;

#[state_machine]
enum Job {
    #[initial]
    #[on(go => Running, go => Done)]
    Queued,
    #[to(Done)]
    Running,
    #[terminal]
    Done,
}

fn main() {}
