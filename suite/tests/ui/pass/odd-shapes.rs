//! Shapes that once expanded to code that did not compile: braces and
//! parentheses without fields, an event whose every edge is `#[cfg]`'d
//! out, a raw target, and a macro in a field type that names `Self`.
#![deny(warnings, missing_docs, unused_qualifications)]

use statewright::state_machine;

/// Empty braces and parentheses, fieldless: dispatch is a table.
#[state_machine]
#[derive(Debug, Clone, PartialEq)]
pub enum Empty {
    /// Braces.
    #[initial]
    #[on(go => Done)]
    Idle {},
    /// Parentheses.
    #[terminal]
    Done(),
}

/// An event that exists in no configuration.
#[state_machine]
#[derive(Debug)]
pub enum Gone {
    /// Idle.
    #[initial]
    #[to(r#Done)]
    #[to(Away)]
    Idle,
    /// Never compiled in.
    #[cfg(any())]
    #[on(vanish => Done)]
    Away,
    /// Done.
    #[terminal]
    Done,
}

macro_rules! boxed {
    ($t:ty) => {
        Box<$t>
    };
}

/// A field type written with a macro.
#[state_machine]
#[derive(Debug)]
pub enum Chain {
    /// Idle.
    #[initial]
    #[on(next => Next)]
    Idle,
    /// Holds the machine.
    #[terminal]
    Next(boxed!(Self)),
}

fn main() {
    let mut empty = Empty::Idle {};
    assert_eq!(empty.fire(EmptyEvent::Go), Ok(Empty::Idle {}));
    assert_eq!(empty, Empty::Done());
    let _: empty::Done = empty::Idle {}.go();
    let mut gone = Gone::Idle;
    assert!(gone.transition_to(Gone::Done).is_ok());
    let mut chain = Chain::Idle;
    assert!(chain.fire(ChainEvent::Next(Box::new(Chain::Idle))).is_ok());
    let _: chain::Next = chain::Idle.next(Box::new(Chain::Idle));
}
