use statewright::state_machine;

// The typestate module would be `job`, the enum's own name.
#[allow(non_camel_case_types)]
#[state_machine]
enum job {
    #[initial]
    #[to(Done)]
    Idle,
    #[terminal]
    Done,
}

#[state_machine(kind = Same, event = Same)]
enum Order {
    #[initial]
    #[on(pay => Paid)]
    Placed,
    #[terminal]
    Paid,
}

#[state_machine(module = Ticket)]
enum Ticket {
    #[initial]
    #[to(Closed)]
    Open,
    #[terminal]
    Closed,
}

fn main() {}
