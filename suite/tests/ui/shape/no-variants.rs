use statewright::state_machine;

#[state_machine]
enum Nothing {}

fn main() {}
