use statewright::state_machine;

#[state_machine]
enum Job<T> {
    #[initial]
    #[to(Done)]
    Queued(T),
    #[terminal]
    Done,
}

fn main() {}
