//! The contract between a generated machine and everything that runs it.

use core::fmt::{self, Debug, Display};
use core::hash::Hash;

/// A state machine: an enum whose legal transitions are known at compile time.
///
/// Implemented by `#[state_machine]`; you rarely implement it by hand. The
/// generated enum also has inherent `const` versions of
/// [`can_transition`](StateMachine::can_transition) and
/// [`is_terminal`](StateMachine::is_terminal), so the trait need not be in
/// scope to use them.
///
/// # Examples
///
/// ```
/// use statewright::{state_machine, StateMachine};
///
/// #[state_machine]
/// #[derive(Debug, Clone, PartialEq)]
/// enum Door {
///     #[initial]
///     #[on(open => Open)]
///     Closed,
///     #[on(close => Closed)]
///     Open,
/// }
///
/// fn main() {
///     assert_eq!(<Door as StateMachine>::INITIAL, DoorKind::Closed);
///     assert!(Door::can_transition(DoorKind::Closed, DoorKind::Open));
///     let mut door = Door::Closed;
///     let previous = door.transition_to(Door::Open).unwrap();
///     assert_eq!((previous, door), (Door::Closed, Door::Open));
/// }
/// ```
pub trait StateMachine: Sized + Send + 'static {
    /// The fieldless twin of the machine, one variant per state.
    type Kind: StateKind;
    /// The machine's name, as written on the enum.
    const NAME: &'static str;
    /// Every state, in declaration order.
    const STATES: &'static [Self::Kind];
    /// The state a new machine starts in.
    const INITIAL: Self::Kind;
    /// Every legal edge, in declaration order.
    const EDGES: &'static [Edge<Self::Kind>];
    /// The transition table as a Mermaid `stateDiagram-v2`.
    const MERMAID: &'static str;
    /// The transition table as a Graphviz `digraph`.
    const DOT: &'static str;
    /// A stable hash of the table: the machine's name, its states in order
    /// (with their initial and terminal marks) and its edges with their
    /// events. The same on every platform, compiler and build (FNV-1a over
    /// a canonical text, not `std::hash`); doc comments and field types do
    /// not change it, any change to the table does. A checkpoint or journal
    /// carries it, so one taken under another table is refused.
    const FINGERPRINT: u64;

    /// The kind of the current state.
    fn kind(&self) -> Self::Kind;

    /// Whether the table has an edge `from -> to`.
    fn can_transition(from: Self::Kind, to: Self::Kind) -> bool;

    /// Whether `kind` is a `#[terminal]` state.
    fn is_terminal(kind: Self::Kind) -> bool;

    /// The states that `from` may go to, in declaration order.
    fn targets(from: Self::Kind) -> &'static [Self::Kind] {
        from.targets()
    }

    /// Replaces the state with `next` if the table allows it and returns the
    /// previous state.
    ///
    /// # Errors
    ///
    /// Returns a [`TransitionError`] if and only if the table has no edge from
    /// the current kind to `next`'s kind; the state is then left untouched.
    fn transition_to(&mut self, next: Self) -> Result<Self, TransitionError<Self::Kind>> {
        let (from, to) = (self.kind(), next.kind());
        if Self::can_transition(from, to) {
            Ok(core::mem::replace(self, next))
        } else {
            Err(TransitionError::new(from, to))
        }
    }
}

/// One legal edge of a transition table.
///
/// With the `serde` feature it serializes as `{"from": .., "to": ..,
/// "event": ..}`. It has no `Deserialize`: its event name borrows from the
/// compiled table, and an edge read back could only be checked against
/// [`StateMachine::EDGES`] anyway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Edge<K> {
    /// The source state.
    pub from: K,
    /// The target state.
    pub to: K,
    /// The event that labels the edge (`#[on(event => To)]`), if any.
    pub event: Option<&'static str>,
}

/// The kind enum of a machine (`<Machine>Kind`): a state without its data,
/// which knows its machine's table. Implemented by `#[state_machine]`.
///
/// The errors hold only kinds and an event's index and look the rest up
/// here when they are displayed, so they stay a few bytes: `fire` on a
/// machine without data returns in registers.
pub trait StateKind: Copy + Eq + Ord + Hash + Debug + Display + Send + Sync + 'static {
    /// The machine's name, as written on the enum.
    const MACHINE: &'static str;

    /// The states this one may go to, in declaration order.
    fn targets(self) -> &'static [Self];

    /// The events this state accepts, in declaration order.
    fn accepted(self) -> &'static [&'static str];

    /// The `snake_case` name of the machine's event number `index`, in
    /// order of first use (the event enum's order); `""` for no such event.
    fn event_name(index: u16) -> &'static str;
}

/// A transition the table does not allow.
///
/// Its `Display` names the machine, both states and what was allowed:
/// ``illegal transition in `Worker`: `Assigned` -> `Completed` (allowed: `Working`, `Failed`)``.
/// It holds the two kinds only; the rest is read from the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TransitionError<K> {
    from: K,
    to: K,
}

impl<K: StateKind> TransitionError<K> {
    /// The error for the refused edge `from -> to`.
    #[must_use]
    pub const fn new(from: K, to: K) -> Self {
        Self { from, to }
    }

    /// The machine's name.
    #[must_use]
    pub fn machine(&self) -> &'static str {
        K::MACHINE
    }

    /// The state the machine was in (and still is).
    #[must_use]
    pub fn from(&self) -> K {
        self.from
    }

    /// The state that was refused.
    #[must_use]
    pub fn to(&self) -> K {
        self.to
    }

    /// The states `from` may go to, in declaration order.
    #[must_use]
    pub fn allowed(&self) -> &'static [K] {
        self.from.targets()
    }
}

impl<K: StateKind> Display for TransitionError<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "illegal transition in `{}`: `{}` -> `{}` ",
            K::MACHINE,
            self.from,
            self.to
        )?;
        write_list(f, "allowed", self.allowed())
    }
}

impl<K: StateKind> std::error::Error for TransitionError<K> {}

/// An event the current state does not accept.
///
/// Its `Display` names the machine, the state, the event and what was accepted:
/// ``event `merge` is not accepted in state `Working` of `Worker` (accepted: `submit`, `conflict`, `fail`)``.
/// It holds the state's kind and the event's index only; the rest is read
/// from the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EventError<K> {
    state: K,
    event: u16,
}

impl<K: StateKind> EventError<K> {
    /// The error for the machine's event number `event` (its position in
    /// the event enum) refused in `state`.
    #[must_use]
    pub const fn new(state: K, event: u16) -> Self {
        Self { state, event }
    }

    /// The machine's name.
    #[must_use]
    pub fn machine(&self) -> &'static str {
        K::MACHINE
    }

    /// The state the machine was in (and still is).
    #[must_use]
    pub fn state(&self) -> K {
        self.state
    }

    /// The `snake_case` name of the refused event.
    #[must_use]
    pub fn event(&self) -> &'static str {
        K::event_name(self.event)
    }

    /// The events `state` accepts, in declaration order.
    #[must_use]
    pub fn accepted(&self) -> &'static [&'static str] {
        self.state.accepted()
    }
}

impl<K: StateKind> Display for EventError<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "event `{}` is not accepted in state `{}` of `{}` ",
            self.event(),
            self.state,
            K::MACHINE
        )?;
        write_list(f, "accepted", self.accepted())
    }
}

impl<K: StateKind> std::error::Error for EventError<K> {}

fn write_list<T: Display>(f: &mut fmt::Formatter<'_>, what: &str, items: &[T]) -> fmt::Result {
    if items.is_empty() {
        return write!(f, "(it is terminal: nothing is {what})");
    }
    write!(f, "({what}: ")?;
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "`{item}`")?;
    }
    f.write_str(")")
}

/// A value of machine `M` that is not in the state a typestate struct expected.
///
/// Returned by `TryFrom<Machine> for machine::State`; the value comes back
/// unchanged through [`into_inner`](WrongState::into_inner).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrongState<M: StateMachine> {
    /// The state the conversion expected.
    pub expected: M::Kind,
    /// The value that was in another state.
    pub actual: M,
}

impl<M: StateMachine> WrongState<M> {
    /// Gives the value back.
    pub fn into_inner(self) -> M {
        self.actual
    }
}

impl<M: StateMachine> Display for WrongState<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "expected `{}` in state `{}`, found state `{}`",
            M::NAME,
            self.expected,
            self.actual.kind()
        )
    }
}

impl<M: StateMachine + Debug> std::error::Error for WrongState<M> {}

/// A legal move between two typestate structs of one machine.
///
/// `#[state_machine]` implements `TransitionTo<B> for A` exactly when the
/// table has an edge `A -> B`, so `a.to(b)` compiles only for legal edges.
///
/// ```compile_fail
/// use statewright::state_machine;
///
/// #[state_machine]
/// enum Door {
///     #[initial]
///     #[to(Open)]
///     Closed,
///     #[to(Closed, Gone)]
///     Open,
///     #[terminal]
///     Gone,
/// }
///
/// fn main() {
///     let _: door::Open = door::Closed.to(door::Open); // legal
///     let _: door::Gone = door::Closed.to(door::Gone); // no edge Closed -> Gone
/// }
/// ```
///
/// Generic code needs no other bound: `fn f<A: TransitionTo<B>, B>(a: A, b: B) -> B`.
/// (The typestates' own `to` method reports an illegal edge with the
/// machine's name, through a trait generated for each machine.)
#[diagnostic::on_unimplemented(
    message = "illegal transition: no edge `{Self}` -> `{Target}`",
    label = "`{Self}` cannot go to `{Target}`",
    note = "legal edges are declared on the enum with `#[to(..)]`, `#[on(event => ..)]` and `#[from_any]`"
)]
pub trait TransitionTo<Target>: Sized {
    /// Moves to `next`, which the table allows.
    #[must_use = "the new state is the machine from now on"]
    fn to(self, next: Target) -> Target {
        next
    }
}

/// A typestate struct: one state of `Machine` as a type of its own.
///
/// Implemented by `#[state_machine]` for every struct of the typestate module.
pub trait Typestate: Sized {
    /// The machine enum this state belongs to.
    type Machine;
}

/// A machine with named events (`#[on(event => ..)]`); implemented by
/// `#[state_machine]` whenever some edge is named.
pub trait Fire: StateMachine {
    /// The generated event enum.
    type Event: Send + 'static;

    /// Applies `event` and returns the previous state.
    ///
    /// # Errors
    ///
    /// An [`EventError`] if and only if the current state has no edge named by
    /// `event`; the state is then left untouched.
    fn fire(&mut self, event: Self::Event) -> Result<Self, EventError<Self::Kind>>;

    /// The event's `snake_case` name.
    fn event_name(event: &Self::Event) -> &'static str;
}

#[cfg(feature = "serde")]
impl<K: serde::Serialize> serde::Serialize for Edge<K> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut edge = serializer.serialize_struct("Edge", 3)?;
        edge.serialize_field("from", &self.from)?;
        edge.serialize_field("to", &self.to)?;
        edge.serialize_field("event", &self.event)?;
        edge.end()
    }
}
