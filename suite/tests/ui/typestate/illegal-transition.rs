use statewright::state_machine;

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

fn main() {
    let open: door::Open = door::Closed.to(door::Open);
    let _: door::Closed = open.to(door::Closed);
    let _: door::Gone = door::Closed.to(door::Gone);
}
