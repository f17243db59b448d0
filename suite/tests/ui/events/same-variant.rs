use statewright::state_machine;

#[state_machine]
enum Door {
    #[initial]
    #[on(open => Open, open_ => Ajar)]
    Closed,
    #[terminal]
    Open,
    #[terminal]
    Ajar,
}

fn main() {}
