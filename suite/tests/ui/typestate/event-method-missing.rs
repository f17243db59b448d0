use statewright::state_machine;

#[state_machine]
enum Door {
    #[initial]
    #[on(open => Open)]
    Closed,
    #[on(shut => Closed)]
    Open,
}

fn main() {
    let _ = door::Closed.shut();
}
