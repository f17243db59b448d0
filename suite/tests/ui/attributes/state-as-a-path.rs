use statewright::state_machine;

#[state_machine]
enum Order {
    #[initial]
    #[to(Order::Paid)]
    Placed,
    #[terminal]
    Paid,
}

fn main() {}
