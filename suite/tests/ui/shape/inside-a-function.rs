//! A module cannot see a function's items, so the typestate module cannot
//! be generated inside a function body: one error says where to move it.
use statewright::state_machine;

fn main() {
    #[state_machine]
    #[derive(Debug, Clone, PartialEq)]
    enum Light {
        #[initial]
        #[on(switch => On)]
        Off,
        #[on(off => Off)]
        On { lumens: u32 },
    }

    let mut light = Light::Off;
    light.fire(LightEvent::Switch { lumens: 800 }).unwrap();
    assert_eq!(light.kind(), LightKind::On);
}
