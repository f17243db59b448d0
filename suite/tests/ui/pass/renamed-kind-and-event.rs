//! `kind = ..` and `event = ..` give the generated enums other names, so a
//! user's own `OrderKind` and `OrderEvent` can stay.
#![deny(warnings, unused_qualifications)]

use statewright::state_machine;

#[derive(Debug, PartialEq)]
pub struct OrderKind(pub u8);

#[derive(Debug, PartialEq)]
pub enum OrderEvent {
    Audit,
}

#[state_machine(kind = OrderState, event = OrderCommand)]
#[derive(Debug, Clone, PartialEq)]
pub enum Order {
    #[initial]
    #[on(pay => Paid)]
    Placed,
    #[terminal]
    Paid,
}

fn main() {
    let mut order = Order::Placed;
    order.fire(OrderCommand::Pay).unwrap();
    assert_eq!(order.kind(), OrderState::Paid);
    assert_eq!(OrderKind(3), OrderKind(3));
    assert_eq!(OrderEvent::Audit, OrderEvent::Audit);
}
