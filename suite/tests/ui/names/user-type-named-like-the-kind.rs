//! A type of the user's already has the kind enum's name: one error that
//! names the option, instead of a clash in every generated impl.
use statewright::state_machine;

#[derive(Debug)]
pub struct OrderKind(pub u8);

#[derive(Debug)]
pub enum OrderEvent {
    Placed,
}

#[state_machine]
#[derive(Debug, Clone, PartialEq)]
pub enum Order {
    #[initial]
    #[on(pay => Paid)]
    Placed,
    #[terminal]
    Paid,
}

fn main() {
    let _paid: order::Paid = order::Placed.pay();
    let _ = Order::Paid.kind();
    let _ = OrderKind(3);
    let _ = OrderEvent::Placed;
}
