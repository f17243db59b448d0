//! `StateMachine::FINGERPRINT`: pinned values, and what does and does not change it.

use statewright::{state_machine, StateMachine};

mod pinned {
    use super::state_machine;

    #[state_machine]
    #[derive(Debug, Clone)]
    pub(crate) enum Door {
        #[initial]
        #[on(open => Open)]
        Closed,
        #[on(close => Closed, lock => Locked)]
        Open,
        #[terminal]
        Locked,
    }
}

/// The same table, with docs, other field types and its names in another order.
mod cosmetic {
    use super::state_machine;

    /// A door.
    #[state_machine]
    #[derive(Debug, Clone)]
    pub(crate) enum Door {
        /// Shut.
        #[initial]
        #[on(open => Open)]
        Closed,
        /// Ajar, with a note.
        #[on(lock => Locked, close => Closed)]
        Open { note: String },
        #[terminal]
        Locked(u64),
    }
}

mod one_more_edge {
    use super::state_machine;

    #[state_machine]
    #[derive(Debug, Clone)]
    pub(crate) enum Door {
        #[initial]
        #[on(open => Open, lock => Locked)]
        Closed,
        #[on(close => Closed, lock => Locked)]
        Open,
        #[terminal]
        Locked,
    }
}

mod renamed_event {
    use super::state_machine;

    #[state_machine]
    #[derive(Debug, Clone)]
    pub(crate) enum Door {
        #[initial]
        #[on(push => Open)]
        Closed,
        #[on(close => Closed, lock => Locked)]
        Open,
        #[terminal]
        Locked,
    }
}

mod states_reordered {
    use super::state_machine;

    #[state_machine]
    #[derive(Debug, Clone)]
    pub(crate) enum Door {
        #[on(close => Closed, lock => Locked)]
        Open,
        #[initial]
        #[on(open => Open)]
        Closed,
        #[terminal]
        Locked,
    }
}

mod not_terminal {
    use super::state_machine;

    #[state_machine]
    #[derive(Debug, Clone)]
    pub(crate) enum Door {
        #[initial]
        #[on(open => Open)]
        Closed,
        #[on(close => Closed, lock => Locked)]
        Open,
        #[on(unlock => Closed)]
        Locked,
    }
}

mod other_name {
    use super::state_machine;

    #[state_machine]
    #[derive(Debug, Clone)]
    pub(crate) enum Gate {
        #[initial]
        #[on(open => Open)]
        Closed,
        #[on(close => Closed, lock => Locked)]
        Open,
        #[terminal]
        Locked,
    }
}

/// Pinned: the value must not move between platforms, compilers or
/// releases, or every stored checkpoint and journal would be refused. The
/// canonical text is FNV-1a-hashed; change it only with a new format version.
/// The value was checked against an independent FNV-1a (Python) over
/// "statewright table v1\nmachine Door\nstate Closed initial\nstate Open\n
/// state Locked terminal\nedge Closed Open open\nedge Open Closed close\n
/// edge Open Locked lock\n".
#[test]
fn the_fingerprint_is_pinned() {
    assert_eq!(pinned::Door::FINGERPRINT, 0x89f7_29ac_abf6_93c4);
}

#[test]
fn docs_field_types_and_name_order_do_not_change_it() {
    assert_eq!(pinned::Door::FINGERPRINT, cosmetic::Door::FINGERPRINT);
}

#[test]
fn every_change_to_the_table_does() {
    let changed = [
        ("one more edge", one_more_edge::Door::FINGERPRINT),
        ("renamed event", renamed_event::Door::FINGERPRINT),
        ("states reordered", states_reordered::Door::FINGERPRINT),
        ("terminal mark", not_terminal::Door::FINGERPRINT),
        ("machine name", other_name::Gate::FINGERPRINT),
    ];
    for (change, fingerprint) in changed {
        assert_ne!(pinned::Door::FINGERPRINT, fingerprint, "{change}");
    }
    let mut all: Vec<u64> = changed.iter().map(|(_, value)| *value).collect();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), changed.len(), "two different tables collide");
}
