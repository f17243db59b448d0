//! Paths through a machine's table, for tests that must walk every edge:
//! [`edge_cover`] and [`shortest_path`], computed from the compiled table
//! ([`StateMachine::STATES`], [`StateMachine::EDGES`]).
//!
//! The `statewright paths` command prints the same cover: both call
//! [`edge_cover_indices`].

use std::collections::VecDeque;

use crate::{Edge, StateMachine};

/// The fewest walks from the initial state that together take every edge
/// of the table (edges out of reach of the initial state, which the macro
/// refuses anyway, are left out). Each walk is its edges in order; follow
/// one by firing each edge's event, or moving to each edge's `to`.
///
/// "Fewest" is exact: it is a minimum flow with every edge taken at least
/// once, split into walks. A walk may take an edge more than once when
/// that saves a walk.
///
/// # Examples
///
/// ```
/// use statewright::{paths, state_machine, StateMachine};
///
/// #[state_machine]
/// #[derive(Debug, Clone)]
/// enum Door {
///     #[initial]
///     #[on(open => Open)]
///     Closed,
///     #[on(close => Closed, lock => Locked)]
///     Open,
///     #[terminal]
///     Locked,
/// }
///
/// # fn main() {
/// let walks = paths::edge_cover::<Door>();
/// // Closed -open-> Open -close-> Closed -open-> Open -lock-> Locked
/// assert_eq!(walks.len(), 1);
/// assert_eq!(walks[0].len(), 4);
/// assert!(Door::EDGES.iter().all(|edge| walks[0].contains(edge)));
/// # }
/// ```
#[must_use]
pub fn edge_cover<M: StateMachine>() -> Vec<Vec<Edge<M::Kind>>> {
    let (initial, edges) = indexed::<M>();
    edge_cover_indices(M::STATES.len(), initial, &edges)
        .into_iter()
        .map(|walk| walk.into_iter().map(|edge| M::EDGES[edge]).collect())
        .collect()
}

/// The shortest sequence of edges from `from` to `to` (empty when they are
/// the same state), or `None` if the table has no way there.
#[must_use]
pub fn shortest_path<M: StateMachine>(from: M::Kind, to: M::Kind) -> Option<Vec<Edge<M::Kind>>> {
    let (_, edges) = indexed::<M>();
    let (from, to) = (index_of::<M>(from)?, index_of::<M>(to)?);
    let mut reached_by: Vec<Option<usize>> = vec![None; M::STATES.len()];
    let mut seen = vec![false; M::STATES.len()];
    seen[from] = true;
    let mut queue = VecDeque::from([from]);
    while let Some(state) = queue.pop_front() {
        if state == to {
            let mut path = Vec::new();
            let mut at = to;
            while let Some(edge) = reached_by[at] {
                path.push(M::EDGES[edge]);
                at = edges[edge].0;
            }
            path.reverse();
            return Some(path);
        }
        for (index, &(source, target)) in edges.iter().enumerate() {
            if source == state && !seen[target] {
                seen[target] = true;
                reached_by[target] = Some(index);
                queue.push_back(target);
            }
        }
    }
    None
}

fn index_of<M: StateMachine>(kind: M::Kind) -> Option<usize> {
    M::STATES.iter().position(|state| *state == kind)
}

/// The initial state's index and each edge as (from, to) state indices.
fn indexed<M: StateMachine>() -> (usize, Vec<(usize, usize)>) {
    let initial = index_of::<M>(M::INITIAL).unwrap_or(0);
    let edges = M::EDGES
        .iter()
        .filter_map(|edge| Some((index_of::<M>(edge.from)?, index_of::<M>(edge.to)?)))
        .collect();
    (initial, edges)
}

/// [`edge_cover`] on a plain graph: `states` states, walks from `initial`,
/// `edges` as (from, to) pairs; each walk is a list of edge indices.
#[doc(hidden)]
#[must_use]
pub fn edge_cover_indices(
    states: usize,
    initial: usize,
    edges: &[(usize, usize)],
) -> Vec<Vec<usize>> {
    let reachable = reachable(states, initial, edges);
    let wanted: Vec<usize> = (0..edges.len())
        .filter(|&edge| reachable[edges[edge].0])
        .collect();
    if wanted.is_empty() {
        return Vec::new();
    }
    let (uses, ends) = minimum_flow(states, initial, edges, &wanted);
    walks(states, initial, edges, uses, ends)
}

fn reachable(states: usize, initial: usize, edges: &[(usize, usize)]) -> Vec<bool> {
    let mut seen = vec![false; states];
    let mut stack = vec![initial];
    while let Some(state) = stack.pop() {
        if std::mem::replace(&mut seen[state], true) {
            continue;
        }
        stack.extend(
            edges
                .iter()
                .filter(|edge| edge.0 == state)
                .map(|edge| edge.1),
        );
    }
    seen
}

/// A flow network with residual capacities (Edmonds-Karp; tables are small).
struct Network {
    /// Per arc: head, residual capacity; arc `i ^ 1` is its reverse.
    head: Vec<usize>,
    residual: Vec<i64>,
    out: Vec<Vec<usize>>,
}

impl Network {
    fn new(nodes: usize) -> Self {
        Self {
            head: Vec::new(),
            residual: Vec::new(),
            out: vec![Vec::new(); nodes],
        }
    }

    fn arc(&mut self, from: usize, to: usize, capacity: i64) -> usize {
        let id = self.head.len();
        self.head.extend([to, from]);
        self.residual.extend([capacity, 0]);
        self.out[from].push(id);
        self.out[to].push(id + 1);
        id
    }

    /// The flow an arc carries: its reverse arc's residual.
    fn flow(&self, arc: usize) -> i64 {
        self.residual[arc ^ 1]
    }

    fn max_flow(&mut self, source: usize, sink: usize) -> i64 {
        let mut total = 0;
        loop {
            let mut via: Vec<Option<usize>> = vec![None; self.out.len()];
            let mut queue = VecDeque::from([source]);
            let mut seen = vec![false; self.out.len()];
            seen[source] = true;
            while let Some(node) = queue.pop_front() {
                for &arc in &self.out[node] {
                    let next = self.head[arc];
                    if self.residual[arc] > 0 && !seen[next] {
                        seen[next] = true;
                        via[next] = Some(arc);
                        queue.push_back(next);
                    }
                }
            }
            if !seen[sink] {
                return total;
            }
            let mut push = i64::MAX;
            let mut node = sink;
            while let Some(arc) = via[node] {
                push = push.min(self.residual[arc]);
                node = self.head[arc ^ 1];
            }
            node = sink;
            while let Some(arc) = via[node] {
                self.residual[arc] -= push;
                self.residual[arc ^ 1] += push;
                node = self.head[arc ^ 1];
            }
            total += push;
        }
    }
}

/// How often each wanted edge is taken and how many walks end in each
/// state, in a minimum flow from `initial` that takes every wanted edge.
fn minimum_flow(
    states: usize,
    initial: usize,
    edges: &[(usize, usize)],
    wanted: &[usize],
) -> (Vec<i64>, Vec<i64>) {
    // Nodes: the states, then the sink, then the source and sink of the
    // lower-bound reduction.
    let (sink, super_source, super_sink) = (states, states + 1, states + 2);
    let unbounded = i64::try_from(wanted.len() + states + 1).unwrap_or(i64::MAX / 4) * 2;
    let mut network = Network::new(states + 3);
    let mut excess = vec![0i64; states];
    let mut edge_arcs = vec![None; edges.len()];
    for &edge in wanted {
        let (from, to) = edges[edge];
        // At least once: the unit is routed through the reduction.
        edge_arcs[edge] = Some(network.arc(from, to, unbounded));
        excess[to] += 1;
        excess[from] -= 1;
    }
    let end_arcs: Vec<usize> = (0..states)
        .map(|state| network.arc(state, sink, unbounded))
        .collect();
    let back = network.arc(sink, initial, unbounded);
    for (state, &balance) in excess.iter().enumerate() {
        if balance > 0 {
            network.arc(super_source, state, balance);
        } else if balance < 0 {
            network.arc(state, super_sink, -balance);
        }
    }
    network.max_flow(super_source, super_sink);
    // Feasible; now push back as much as possible from the sink to the
    // start without the return arc: what remains is the minimum.
    network.residual[back] = 0;
    network.residual[back ^ 1] = 0;
    network.max_flow(sink, initial);
    let uses = (0..edges.len())
        .map(|edge| edge_arcs[edge].map_or(0, |arc| network.flow(arc) + 1))
        .collect();
    let ends = end_arcs.iter().map(|&arc| network.flow(arc)).collect();
    (uses, ends)
}

/// Splits the flow into walks from `initial`: with one return edge to
/// `initial` per walk's end, every state is balanced, so an Euler circuit
/// from `initial` exists; cutting it at the return edges gives the walks.
fn walks(
    states: usize,
    initial: usize,
    edges: &[(usize, usize)],
    mut uses: Vec<i64>,
    mut ends: Vec<i64>,
) -> Vec<Vec<usize>> {
    // A step of the circuit: a table edge, or the return after a walk's end.
    #[derive(Clone, Copy)]
    enum Step {
        Edge(usize),
        Return,
    }
    let mut outgoing: Vec<Vec<usize>> = vec![Vec::new(); states];
    for (index, &(from, _)) in edges.iter().enumerate() {
        outgoing[from].push(index);
    }
    let mut next_out = vec![0usize; states];
    // Hierholzer, iteratively: the stack holds (state, step that led here).
    let mut stack: Vec<(usize, Option<Step>)> = vec![(initial, None)];
    let mut circuit: Vec<Step> = Vec::new();
    while let Some(&(state, _)) = stack.last() {
        let mut moved = false;
        while next_out[state] < outgoing[state].len() {
            let edge = outgoing[state][next_out[state]];
            if uses[edge] > 0 {
                uses[edge] -= 1;
                stack.push((edges[edge].1, Some(Step::Edge(edge))));
                moved = true;
                break;
            }
            next_out[state] += 1;
        }
        if moved {
            continue;
        }
        if ends[state] > 0 {
            ends[state] -= 1;
            stack.push((initial, Some(Step::Return)));
            continue;
        }
        if let Some((_, Some(step))) = stack.pop() {
            circuit.push(step);
        }
    }
    circuit.reverse();
    let mut walks = Vec::new();
    let mut walk = Vec::new();
    for step in circuit {
        match step {
            Step::Edge(edge) => walk.push(edge),
            Step::Return => walks.push(std::mem::take(&mut walk)),
        }
    }
    // The circuit is a cycle through `initial`: what follows the last
    // return leads, through `initial`, into the first walk.
    if !walk.is_empty() {
        match walks.first_mut() {
            Some(first) => {
                walk.append(first);
                *first = walk;
            }
            None => walks.push(walk),
        }
    }
    walks.retain(|walk| !walk.is_empty());
    walks
}

#[cfg(test)]
mod tests {
    use super::{edge_cover_indices, reachable};

    /// Each walk starts at `initial` and is connected; together they take
    /// every reachable edge.
    fn check(states: usize, initial: usize, edges: &[(usize, usize)]) -> usize {
        let walks = edge_cover_indices(states, initial, edges);
        let mut taken = vec![false; edges.len()];
        for walk in &walks {
            let mut at = initial;
            for &edge in walk {
                assert_eq!(edges[edge].0, at, "walk {walk:?} jumps");
                at = edges[edge].1;
                taken[edge] = true;
            }
        }
        let reached = reachable(states, initial, edges);
        for (edge, &(from, _)) in edges.iter().enumerate() {
            assert_eq!(
                taken[edge], reached[from],
                "edge {edge} of {edges:?}: {walks:?}"
            );
        }
        walks.len()
    }

    #[test]
    fn known_minimums() {
        // A line: one walk.
        assert_eq!(check(3, 0, &[(0, 1), (1, 2)]), 1);
        // A fork: two walks.
        assert_eq!(check(3, 0, &[(0, 1), (0, 2)]), 2);
        // A cycle with an exit: one walk goes round, then out.
        assert_eq!(check(3, 0, &[(0, 1), (1, 0), (1, 2)]), 1);
        // Two dead ends after a cycle: two walks.
        assert_eq!(check(4, 0, &[(0, 1), (1, 0), (1, 2), (1, 3)]), 2);
        // A self-loop.
        assert_eq!(check(2, 0, &[(0, 0), (0, 1)]), 1);
        // Nothing to take.
        assert_eq!(check(1, 0, &[]), 0);
    }

    #[test]
    fn random_tables_are_covered() {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |bound: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % bound as u64) as usize
        };
        for _ in 0..300 {
            let states = 1 + next(8);
            let edges: Vec<(usize, usize)> = (0..next(20))
                .map(|_| (next(states), next(states)))
                .collect();
            check(states, 0, &edges);
        }
    }
}
