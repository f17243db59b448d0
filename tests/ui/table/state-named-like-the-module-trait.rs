use statewright::state_machine;

#[state_machine]
enum Route {
    #[initial]
    #[to(LegalEdge)]
    Planned,
    #[terminal]
    LegalEdge,
}

fn main() {}
