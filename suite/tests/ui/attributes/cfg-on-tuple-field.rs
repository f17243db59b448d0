use statewright::state_machine;

#[state_machine]
enum Job {
    #[initial]
    #[to(Running)]
    Queued,
    #[terminal]
    Running(u32, #[cfg(any())] String),
}

fn main() {}
