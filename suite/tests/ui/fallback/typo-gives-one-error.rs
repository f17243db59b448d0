//! One misspelt state in a machine used across the crate: exactly one
//! error, at the typo. Every generated item is still there, built from
//! what the table says, with the edge aimed at the suggested state.
use statewright::{state_machine, StateMachine, TransitionTo};

#[state_machine]
#[derive(Debug, Clone, PartialEq)]
pub enum Order {
    #[initial]
    #[on(pay => Paid)]
    Placed,
    #[on(ship => Shiped)]
    Paid,
    #[on(deliver => Delivered)]
    Shipped { tracking: String },
    #[terminal]
    Delivered,
}

fn generic<A: TransitionTo<B>, B>(a: A, b: B) -> B {
    a.to(b)
}

fn main() {
    let mut order = Order::Placed;
    let _: OrderKind = order.kind();
    let _ = order.fire(OrderEvent::Pay);
    let _ = order.fire(OrderEvent::Ship { tracking: "1Z".into() });
    let _ = order.transition_to(Order::Delivered);
    let _ = Order::can_transition(OrderKind::Placed, OrderKind::Paid);
    let _: &str = Order::MERMAID;
    let _ = <Order as StateMachine>::EDGES;
    let _ = OrderKind::ALL.iter().map(|kind| kind.name()).count();
    let shipped: order::Shipped = order::Paid.ship("1Z".into());
    let _: order::Delivered = shipped.deliver();
    let _: order::Paid = generic(order::Placed, order::Paid);
    let _ = OrderEvent::Deliver.name();
}
