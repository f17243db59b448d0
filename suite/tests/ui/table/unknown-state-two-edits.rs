use statewright::state_machine;

#[state_machine]
enum Order {
    #[initial]
    #[to(Payed)]
    Placed,
    #[terminal]
    Paid,
}

fn main() {}
