use statewright::state_machine;

#[state_machine]
#[initial]
enum Job {
    #[initial]
    #[to(Done)]
    Queued {
        #[terminal]
        id: u32,
    },
    #[terminal]
    Done,
}

fn main() {}
