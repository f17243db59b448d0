use statewright::state_machine;

#[state_machine]
enum Job {
    #[initial(now)]
    #[on(start -> Running)]
    Queued,
    #[to]
    Running,
    #[terminal]
    Done,
}

fn main() {}
