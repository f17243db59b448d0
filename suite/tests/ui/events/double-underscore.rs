use statewright::state_machine;

#[state_machine]
enum Door {
    #[initial]
    #[on(open__now => Open)]
    Closed,
    #[terminal]
    Open,
}

fn main() {}
