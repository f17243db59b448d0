//! With `TransitionTo` imported, `to()` on anything but a typestate is
//! that type's own: the trait is implemented per typestate, never for
//! every type.
#![deny(warnings, unused_qualifications)]

use statewright::{state_machine, StateMachine, TransitionTo};

#[state_machine]
#[derive(Debug, Clone, PartialEq)]
enum Door {
    #[initial]
    #[to(Open)]
    Closed,
    #[terminal]
    Open,
}

fn through<A: TransitionTo<B>, B>(a: A, b: B) -> B {
    a.to(b)
}

fn main() {
    let mut door = Door::Open;
    let error = door.transition_to(Door::Closed).expect_err("terminal");
    let to: DoorKind = error.to();
    assert_eq!(to, DoorKind::Closed);
    let _: door::Open = through(door::Closed, door::Open);
    assert_eq!(Door::STATES.len(), 2);
}
