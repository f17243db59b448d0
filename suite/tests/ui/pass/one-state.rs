#![deny(warnings, unused_qualifications)]
use statewright::state_machine;

#[state_machine]
#[derive(Debug)]
enum Constant {
    #[terminal]
    Only,
}

fn main() {
    assert_eq!(ConstantKind::ALL, [ConstantKind::Only]);
    let _ = Constant::Only;
}
