use statewright::state_machine;

#[state_machine]
enum Signal {
    #[initial]
    #[to(ALL, DOT)]
    Idle,
    #[terminal]
    ALL,
    #[terminal]
    DOT,
}

fn main() {}
