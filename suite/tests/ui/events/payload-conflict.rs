use statewright::state_machine;

#[state_machine]
enum Job {
    #[initial]
    #[on(advance => Running)]
    Queued,
    #[on(advance => Done)]
    Running { worker: u32 },
    #[terminal]
    Done { exit_code: i32 },
}

fn main() {}
