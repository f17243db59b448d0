//! Typestate structs are exactly as visible as the enum, at every level.
#![deny(warnings, unused_qualifications)]
mod outer {
    pub mod inner {
        use statewright::state_machine;

        #[state_machine]
        enum Private {
            #[initial]
            #[to(B)]
            A,
            #[terminal]
            B,
        }

        #[state_machine]
        pub(super) enum ForParent {
            #[initial]
            #[to(B)]
            A,
            #[terminal]
            B,
        }

        #[state_machine]
        pub(crate) enum ForCrate {
            #[initial]
            #[to(B)]
            A,
            #[terminal]
            B,
        }

        #[state_machine]
        pub(in crate::outer) enum ForOuter {
            #[initial]
            #[to(B)]
            A,
            #[terminal]
            B,
        }

        pub fn private_moves() -> bool {
            let _ = private::A.to(private::B);
            Private::can_transition(PrivateKind::A, PrivateKind::B)
        }
    }

    pub fn from_parent() {
        let _ = inner::for_parent::A.to(inner::for_parent::B);
        let _ = inner::for_outer::A.to(inner::for_outer::B);
    }
}

fn main() {
    assert!(outer::inner::private_moves());
    outer::from_parent();
    let _ = outer::inner::for_crate::A.to(outer::inner::for_crate::B);
}
