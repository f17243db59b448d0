//! What the compile sample of the fuzz run found warning: a kind and event
//! enum named after an enum that ends in `_`, and an event with no edge
//! (a `#[from_any]` on the only state), whose dispatch once had code after
//! a `match` in which every arm returns.
#![deny(warnings, unused_qualifications)]

use statewright::state_machine;

/// A machine named like a keyword.
#[state_machine]
#[derive(Debug, PartialEq)]
pub enum Self_ {
    /// Waiting.
    #[initial]
    #[on(go => Done)]
    Idle,
    /// Over.
    #[terminal]
    Done,
}

/// One state; `#[from_any]` on it adds no edge, so `start` never applies.
#[state_machine]
#[derive(Debug, PartialEq)]
pub enum Lone {
    /// The only state.
    #[initial]
    #[from_any(start)]
    Only(u8),
}

fn main() {
    let mut machine = Self_::Idle;
    assert_eq!(machine.fire(Self_Event::Go), Ok(Self_::Idle));
    assert_eq!(machine.kind(), Self_Kind::Done);
    let mut lone = Lone::Only(1);
    assert!(lone.fire(LoneEvent::Start(2)).is_err());
    assert_eq!(lone, Lone::Only(1));
}
