//! The same table in every implementation. Each `run` drives the whole
//! stream, a fresh machine per run, and returns how many events were legal
//! (all implementations must agree).

use std::hint::black_box;

use crate::{Stream, FLEET};

pub struct Implementation {
    pub name: &'static str,
    /// One machine through the stream, a fresh one per run.
    pub run: fn(&Stream) -> usize,
    /// The fleet: 100,000 machines in a `Vec`, each event step applied to all.
    pub fleet: fn(&Stream) -> usize,
}

/// The baseline of every ratio.
pub const HAND_MATCH: usize = 1;

pub const IMPLEMENTATIONS: &[Implementation] = &[
    Implementation {
        name: "statewright fire",
        run: statewright_fire,
        fleet: statewright_fleet,
    },
    Implementation {
        name: "hand-written match",
        run: hand_match,
        fleet: hand_match_fleet,
    },
    Implementation {
        name: "hand-written table",
        run: hand_table,
        fleet: hand_table_fleet,
    },
    Implementation {
        name: "rust-fsm 0.8",
        run: rust_fsm_consume,
        fleet: rust_fsm_fleet,
    },
    Implementation {
        name: "statig 0.4",
        run: statig_handle,
        fleet: statig_fleet,
    },
    Implementation {
        name: "finny 0.3",
        run: finny_dispatch,
        fleet: finny_fleet,
    },
    Implementation {
        name: "smlang 0.8",
        run: smlang_process,
        fleet: smlang_fleet,
    },
];

#[inline]
fn for_each_run(stream: &Stream, mut run: impl FnMut(&[u8]) -> usize) -> usize {
    let (mut position, mut legal) = (0, 0);
    for length in &stream.runs {
        legal += run(&stream.events[position..position + length]);
        position += length;
    }
    legal
}

/// Applies the fleet's events, one step to every machine at a time: how many
/// were legal.
#[inline]
fn fleet_with<M: Clone>(
    stream: &Stream,
    new: M,
    mut step: impl FnMut(&mut M, u8) -> bool,
) -> usize {
    let mut machines = vec![new; FLEET];
    let mut legal = 0;
    for events in stream.fleet.chunks(FLEET) {
        for (machine, &event) in machines.iter_mut().zip(events) {
            legal += usize::from(step(machine, black_box(event)));
        }
    }
    black_box(&machines);
    legal
}

pub mod worker {
    use statewright::state_machine;

    include!("../../worker_table.rs");
}

fn statewright_fire(stream: &Stream) -> usize {
    for_each_run(stream, |events| {
        let mut state = worker::Worker::Assigned;
        let mut legal = 0;
        for &event in events {
            let result = state.fire(black_box(worker::ALL_EVENTS[event as usize]));
            legal += usize::from(result.is_ok());
            let _ = black_box(result);
        }
        black_box(state);
        legal
    })
}

fn statewright_fleet(stream: &Stream) -> usize {
    fleet_with(stream, worker::Worker::Assigned, |machine, event| {
        machine.fire(worker::ALL_EVENTS[event as usize]).is_ok()
    })
}

pub mod hand {
    //! What a careful engineer writes without a library.

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum State {
        Assigned,
        Working,
        Conflicted,
        InReview,
        Approved,
        Completed,
        Failed,
    }

    // Events by index: Start, Fail, Submit, Conflict, Rework, Approve, Complete, Retry.
    #[inline]
    pub fn step_match(state: State, event: u8) -> Option<State> {
        use State as S;
        Some(match (state, event) {
            (S::Assigned, 0) | (S::Conflicted | S::InReview | S::Approved, 4) => S::Working,
            (S::Assigned | S::Working | S::Conflicted | S::InReview | S::Approved, 1) => S::Failed,
            (S::Working | S::Conflicted, 2) => S::InReview,
            (S::Working, 3) => S::Conflicted,
            (S::InReview, 5) => S::Approved,
            (S::Approved, 6) => S::Completed,
            (S::Failed, 7) => S::Assigned,
            _ => return None,
        })
    }

    pub static TABLE: [[Option<State>; 8]; 7] = {
        use State as S;
        let mut table = [[None; 8]; 7];
        table[S::Assigned as usize][0] = Some(S::Working);
        table[S::Assigned as usize][1] = Some(S::Failed);
        table[S::Working as usize][2] = Some(S::InReview);
        table[S::Working as usize][3] = Some(S::Conflicted);
        table[S::Working as usize][1] = Some(S::Failed);
        table[S::Conflicted as usize][2] = Some(S::InReview);
        table[S::Conflicted as usize][4] = Some(S::Working);
        table[S::Conflicted as usize][1] = Some(S::Failed);
        table[S::InReview as usize][5] = Some(S::Approved);
        table[S::InReview as usize][4] = Some(S::Working);
        table[S::InReview as usize][1] = Some(S::Failed);
        table[S::Approved as usize][6] = Some(S::Completed);
        table[S::Approved as usize][4] = Some(S::Working);
        table[S::Approved as usize][1] = Some(S::Failed);
        table[S::Failed as usize][7] = Some(S::Assigned);
        table
    };
}

fn hand_match(stream: &Stream) -> usize {
    hand_with(stream, hand::step_match)
}

fn hand_table(stream: &Stream) -> usize {
    hand_with(stream, |state, event| {
        hand::TABLE[state as usize][event as usize]
    })
}

fn hand_match_fleet(stream: &Stream) -> usize {
    hand_fleet_with(stream, hand::step_match)
}

fn hand_table_fleet(stream: &Stream) -> usize {
    hand_fleet_with(stream, |state, event| {
        hand::TABLE[state as usize][event as usize]
    })
}

#[inline]
fn hand_fleet_with(
    stream: &Stream,
    step: impl Fn(hand::State, u8) -> Option<hand::State>,
) -> usize {
    fleet_with(stream, hand::State::Assigned, |machine, event| {
        match step(*machine, event) {
            Some(next) => {
                *machine = next;
                true
            }
            None => false,
        }
    })
}

#[inline]
fn hand_with(stream: &Stream, step: impl Fn(hand::State, u8) -> Option<hand::State>) -> usize {
    for_each_run(stream, |events| {
        let mut state = hand::State::Assigned;
        let mut legal = 0;
        for &event in events {
            let next = step(state, black_box(event));
            if let Some(next) = next {
                state = next;
                legal += 1;
            }
            black_box(next);
        }
        black_box(state);
        legal
    })
}

rust_fsm::state_machine! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    fsm_worker(Assigned)

    Assigned => {
        Start => Working,
        Fail => Failed
    },
    Working => {
        Submit => InReview,
        Conflict => Conflicted,
        Fail => Failed
    },
    Conflicted => {
        Submit => InReview,
        Rework => Working,
        Fail => Failed
    },
    InReview => {
        Approve => Approved,
        Rework => Working,
        Fail => Failed
    },
    Approved => {
        Complete => Completed,
        Rework => Working,
        Fail => Failed
    },
    Failed(Retry) => Assigned,
}

const FSM_INPUTS: [fsm_worker::Input; 8] = {
    use fsm_worker::Input as I;
    [
        I::Start,
        I::Fail,
        I::Submit,
        I::Conflict,
        I::Rework,
        I::Approve,
        I::Complete,
        I::Retry,
    ]
};

fn rust_fsm_consume(stream: &Stream) -> usize {
    for_each_run(stream, |events| {
        let mut machine = fsm_worker::StateMachine::new();
        let mut legal = 0;
        for &event in events {
            let result = machine.consume(black_box(&FSM_INPUTS[event as usize]));
            legal += usize::from(result.is_ok());
            let _ = black_box(result);
        }
        black_box(machine.state());
        legal
    })
}

mod sml {
    smlang::statemachine! {
        derive_events: [Clone, Copy],
        transitions: {
            *Assigned + Start = Working,
            Assigned + Fail = Failed,
            Working + Submit = InReview,
            Working + Conflict = Conflicted,
            Working + Fail = Failed,
            Conflicted + Submit = InReview,
            Conflicted + Rework = Working,
            Conflicted + Fail = Failed,
            InReview + Approve = Approved,
            InReview + Rework = Working,
            InReview + Fail = Failed,
            Approved + Complete = Completed,
            Approved + Rework = Working,
            Approved + Fail = Failed,
            Failed + Retry = Assigned,
        }
    }

    pub struct Context;

    impl StateMachineContext for Context {}
}

fn rust_fsm_fleet(stream: &Stream) -> usize {
    fleet_with(stream, fsm_worker::StateMachine::new(), |machine, event| {
        machine.consume(&FSM_INPUTS[event as usize]).is_ok()
    })
}

const SML_EVENTS: [sml::Events; 8] = {
    use sml::Events as E;
    [
        E::Start,
        E::Fail,
        E::Submit,
        E::Conflict,
        E::Rework,
        E::Approve,
        E::Complete,
        E::Retry,
    ]
};

fn smlang_process(stream: &Stream) -> usize {
    for_each_run(stream, |events| {
        let mut machine = sml::StateMachine::new(sml::Context);
        let mut legal = 0;
        for &event in events {
            let result = machine.process_event(black_box(SML_EVENTS[event as usize]));
            legal += usize::from(result.is_ok());
            let _ = black_box(result);
        }
        black_box(machine.state());
        legal
    })
}

/// smlang's machine is not `Clone`: the fleet is built one by one.
fn smlang_fleet(stream: &Stream) -> usize {
    let mut machines: Vec<_> = (0..FLEET)
        .map(|_| sml::StateMachine::new(sml::Context))
        .collect();
    let mut legal = 0;
    for events in stream.fleet.chunks(FLEET) {
        for (machine, &event) in machines.iter_mut().zip(events) {
            let event = SML_EVENTS[black_box(event) as usize];
            legal += usize::from(machine.process_event(event).is_ok());
        }
    }
    black_box(&machines);
    legal
}

mod stg {
    //! statig: one handler function per state; an event the state does not
    //! handle goes to the (absent) superstate and changes nothing.
    use statig::prelude::*;

    #[derive(Default, Clone)]
    pub struct Worker;

    /// Events by index, as in the stream.
    #[derive(Clone, Copy)]
    pub enum Event {
        Start,
        Fail,
        Submit,
        Conflict,
        Rework,
        Approve,
        Complete,
        Retry,
    }

    pub const EVENTS: [Event; 8] = [
        Event::Start,
        Event::Fail,
        Event::Submit,
        Event::Conflict,
        Event::Rework,
        Event::Approve,
        Event::Complete,
        Event::Retry,
    ];

    #[state_machine(
        initial = "State::assigned()",
        state(derive(Debug, Clone, Copy, PartialEq, Eq))
    )]
    impl Worker {
        #[state]
        fn assigned(event: &Event) -> Outcome<State> {
            match event {
                Event::Start => Transition(State::working()),
                Event::Fail => Transition(State::failed()),
                _ => Super,
            }
        }

        #[state]
        fn working(event: &Event) -> Outcome<State> {
            match event {
                Event::Submit => Transition(State::in_review()),
                Event::Conflict => Transition(State::conflicted()),
                Event::Fail => Transition(State::failed()),
                _ => Super,
            }
        }

        #[state]
        fn conflicted(event: &Event) -> Outcome<State> {
            match event {
                Event::Submit => Transition(State::in_review()),
                Event::Rework => Transition(State::working()),
                Event::Fail => Transition(State::failed()),
                _ => Super,
            }
        }

        #[state]
        fn in_review(event: &Event) -> Outcome<State> {
            match event {
                Event::Approve => Transition(State::approved()),
                Event::Rework => Transition(State::working()),
                Event::Fail => Transition(State::failed()),
                _ => Super,
            }
        }

        #[state]
        fn approved(event: &Event) -> Outcome<State> {
            match event {
                Event::Complete => Transition(State::completed()),
                Event::Rework => Transition(State::working()),
                Event::Fail => Transition(State::failed()),
                _ => Super,
            }
        }

        #[state]
        fn completed(event: &Event) -> Outcome<State> {
            let _ = event;
            Super
        }

        #[state]
        fn failed(event: &Event) -> Outcome<State> {
            match event {
                Event::Retry => Transition(State::assigned()),
                _ => Super,
            }
        }
    }
}

/// statig reports nothing about an unhandled event: it is legal when the
/// state changed (every edge of this table leaves its state).
fn statig_handle(stream: &Stream) -> usize {
    use statig::prelude::IntoStateMachineExt;
    for_each_run(stream, |events| {
        let mut machine = stg::Worker.uninitialized_state_machine().init();
        let mut legal = 0;
        for &event in events {
            let before = *machine.state();
            machine.handle(black_box(&stg::EVENTS[event as usize]));
            legal += usize::from(*machine.state() != before);
        }
        black_box(machine.state());
        legal
    })
}

fn statig_fleet(stream: &Stream) -> usize {
    use statig::prelude::IntoStateMachineExt;
    let mut machines: Vec<_> = (0..FLEET)
        .map(|_| stg::Worker.uninitialized_state_machine().init())
        .collect();
    let mut legal = 0;
    for events in stream.fleet.chunks(FLEET) {
        for (machine, &event) in machines.iter_mut().zip(events) {
            let before = *machine.state();
            machine.handle(&stg::EVENTS[black_box(event) as usize]);
            legal += usize::from(*machine.state() != before);
        }
    }
    black_box(&machines);
    legal
}

mod fny {
    //! finny: states and events are types; the table is built with a
    //! builder inside a function that its macro turns into a dispatcher.
    use finny::decl::{BuiltFsm, FsmBuilder};
    use finny::finny_fsm;

    #[derive(Default)]
    pub struct Context;

    macro_rules! unit_types {
        ($derive:meta => $($name:ident),*) => { $( #[$derive] pub struct $name; )* };
    }
    unit_types!(derive(Default) => Assigned, Working, Conflicted, InReview, Approved, Completed, Failed);
    unit_types!(derive(Clone, Copy) => Start, Fail, Submit, Conflict, Rework, Approve, Complete, Retry);

    #[finny_fsm]
    fn worker_fsm(mut fsm: FsmBuilder<WorkerFsm, Context>) -> BuiltFsm {
        fsm.initial_state::<Assigned>();
        fsm.state::<Assigned>()
            .on_event::<Start>()
            .transition_to::<Working>();
        fsm.state::<Assigned>()
            .on_event::<Fail>()
            .transition_to::<Failed>();
        fsm.state::<Working>()
            .on_event::<Submit>()
            .transition_to::<InReview>();
        fsm.state::<Working>()
            .on_event::<Conflict>()
            .transition_to::<Conflicted>();
        fsm.state::<Working>()
            .on_event::<Fail>()
            .transition_to::<Failed>();
        fsm.state::<Conflicted>()
            .on_event::<Submit>()
            .transition_to::<InReview>();
        fsm.state::<Conflicted>()
            .on_event::<Rework>()
            .transition_to::<Working>();
        fsm.state::<Conflicted>()
            .on_event::<Fail>()
            .transition_to::<Failed>();
        fsm.state::<InReview>()
            .on_event::<Approve>()
            .transition_to::<Approved>();
        fsm.state::<InReview>()
            .on_event::<Rework>()
            .transition_to::<Working>();
        fsm.state::<InReview>()
            .on_event::<Fail>()
            .transition_to::<Failed>();
        fsm.state::<Approved>()
            .on_event::<Complete>()
            .transition_to::<Completed>();
        fsm.state::<Approved>()
            .on_event::<Rework>()
            .transition_to::<Working>();
        fsm.state::<Approved>()
            .on_event::<Fail>()
            .transition_to::<Failed>();
        fsm.state::<Completed>();
        fsm.state::<Failed>()
            .on_event::<Retry>()
            .transition_to::<Assigned>();
        fsm.build()
    }

    /// A started machine (its type is finny's frontend, left to inference).
    macro_rules! started {
        () => {{
            use finny::FsmFactory;
            let mut fsm = fny::WorkerFsm::new(fny::Context).expect("a table finny accepts");
            fsm.start().expect("starts");
            fsm
        }};
    }
    pub(crate) use started;

    /// Dispatches the stream's event `index`: whether it was legal.
    macro_rules! dispatch {
        ($fsm:expr, $index:expr) => {{
            use fny::*;
            let result = match $index {
                0 => $fsm.dispatch(Start),
                1 => $fsm.dispatch(Fail),
                2 => $fsm.dispatch(Submit),
                3 => $fsm.dispatch(Conflict),
                4 => $fsm.dispatch(Rework),
                5 => $fsm.dispatch(Approve),
                6 => $fsm.dispatch(Complete),
                _ => $fsm.dispatch(Retry),
            };
            result.is_ok()
        }};
    }
    pub(crate) use dispatch;
}

fn finny_dispatch(stream: &Stream) -> usize {
    for_each_run(stream, |events| {
        let mut machine = fny::started!();
        let mut legal = 0;
        for &event in events {
            legal += usize::from(fny::dispatch!(machine, black_box(event)));
        }
        black_box(&machine);
        legal
    })
}

/// finny's machine is not `Clone`: the fleet is built one by one.
fn finny_fleet(stream: &Stream) -> usize {
    let mut machines: Vec<_> = (0..FLEET).map(|_| fny::started!()).collect();
    let mut legal = 0;
    for events in stream.fleet.chunks(FLEET) {
        for (machine, &event) in machines.iter_mut().zip(events) {
            legal += usize::from(fny::dispatch!(machine, black_box(event)));
        }
    }
    black_box(&machines);
    legal
}
