//! Generic code bounds by `TransitionTo` alone; an illegal edge is still
//! refused with statewright's message.
use statewright::{state_machine, TransitionTo};

#[state_machine]
enum Door {
    #[initial]
    #[to(Open)]
    Closed,
    #[to(Closed, Gone)]
    Open,
    #[terminal]
    Gone,
}

fn step<A: TransitionTo<B>, B>(from: A, to: B) -> B {
    from.to(to)
}

fn main() {
    let _: door::Open = step(door::Closed, door::Open);
    let _: door::Gone = step(door::Closed, door::Gone);
}
