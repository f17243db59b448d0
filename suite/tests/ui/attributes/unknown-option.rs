use statewright::state_machine;

#[state_machine(modul = door_states)]
enum Door {
    #[initial]
    #[to(Open)]
    Closed,
    #[to(Closed)]
    Open,
}

fn main() {}
