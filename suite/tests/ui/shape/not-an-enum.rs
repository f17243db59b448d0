use statewright::state_machine;

#[state_machine]
struct Door {
    open: bool,
}

fn main() {}
