use statewright::state_machine;

#[state_machine]
enum Job {
    #[initial]
    #[to(Runing)]
    Queued,
    #[on(finish => Complete)]
    Running,
    #[terminal]
    Done,
}

fn main() {}
