//! The layered graph, before any coordinates, built the way Graphviz's
//! `dot` does:
//!
//! 1. Cycles are broken by a depth-first search from the initial state: an
//!    edge back to a state on the search path is laid out reversed (and
//!    drawn with its arrow the right way).
//! 2. Each state goes in the rank of its longest path from a source, so
//!    every laid-out edge runs forwards.
//! 3. Every edge becomes a chain with a virtual node in each rank it
//!    crosses. Between two ranks of states is a rank of labels: an edge's
//!    label is a virtual node there, so labels take room and never overlap
//!    a box, another label or another edge.
//! 4. Barycenter sweeps order each rank to reduce crossings.
//!
//! `place` then gives it coordinates, left to right or top to bottom.

use super::order::Layered;

/// What the layout needs of a machine.
pub(crate) struct Graph<'a> {
    pub(crate) states: Vec<&'a str>,
    /// `(from, to, event)`, in declaration order.
    pub(crate) edges: Vec<(usize, usize, Option<&'a str>)>,
    pub(crate) initial: usize,
}

/// A virtual node: a bend of an edge, or its label.
struct Virtual {
    rank: usize,
    /// The edge whose label this is.
    label: Option<usize>,
}

/// The ordered layered graph. Nodes are numbered states first (node `s` is
/// state `s`), then virtual nodes.
pub(super) struct Skeleton {
    /// Per edge: laid out from `to` to `from`.
    pub(super) reversed: Vec<bool>,
    /// Per state: its rank (always even; odd ranks hold labels).
    state_rank: Vec<usize>,
    /// Per virtual node (node `states + i`).
    virtuals: Vec<Virtual>,
    /// Per edge: its nodes in rank order (`None` for an edge to itself).
    pub(super) chains: Vec<Option<Vec<usize>>>,
    /// The ranks, ordered, with each node's neighbours.
    pub(super) layered: Layered,
}

impl Skeleton {
    pub(super) fn new(graph: &Graph<'_>) -> Self {
        let count = graph.states.len();
        let reversed = break_cycles(graph);
        let state_rank: Vec<usize> = longest_paths(graph, &reversed)
            .into_iter()
            .map(|layer| 2 * layer)
            .collect();
        let mut virtuals = Vec::new();
        let mut chains = Vec::with_capacity(graph.edges.len());
        for (index, &(from, to, event)) in graph.edges.iter().enumerate() {
            if from == to {
                chains.push(None);
                continue;
            }
            let (low, high) = if reversed[index] {
                (to, from)
            } else {
                (from, to)
            };
            let (first, last) = (state_rank[low], state_rank[high]);
            // The label goes next to the state the edge leaves.
            let label_rank = if reversed[index] { last - 1 } else { first + 1 };
            let mut chain = vec![low];
            for rank in first + 1..last {
                let label = (event.is_some() && rank == label_rank).then_some(index);
                chain.push(count + virtuals.len());
                virtuals.push(Virtual { rank, label });
            }
            chain.push(high);
            chains.push(Some(chain));
        }
        let nodes = count + virtuals.len();
        let mut skeleton = Skeleton {
            reversed,
            state_rank,
            virtuals,
            chains,
            layered: Layered {
                ranks: Vec::new(),
                before: vec![Vec::new(); nodes],
                after: vec![Vec::new(); nodes],
            },
        };
        let rank_count = (0..nodes)
            .map(|node| skeleton.rank(node) + 1)
            .max()
            .unwrap_or(1);
        let mut ranks = vec![Vec::new(); rank_count];
        for node in 0..nodes {
            ranks[skeleton.rank(node)].push(node);
        }
        let layered = &mut skeleton.layered;
        layered.ranks = ranks;
        for chain in skeleton.chains.iter().flatten() {
            for pair in chain.windows(2) {
                layered.after[pair[0]].push(pair[1]);
                layered.before[pair[1]].push(pair[0]);
            }
        }
        layered.reduce_crossings();
        skeleton
    }

    /// The states' count: nodes below it are states.
    pub(super) fn states(&self) -> usize {
        self.state_rank.len()
    }

    /// All nodes' count, states and virtual nodes.
    pub(super) fn nodes(&self) -> usize {
        self.states() + self.virtuals.len()
    }

    /// A node's rank.
    pub(super) fn rank(&self, node: usize) -> usize {
        match node.checked_sub(self.states()) {
            None => self.state_rank[node],
            Some(virtual_node) => self.virtuals[virtual_node].rank,
        }
    }

    /// The edge whose label `node` is, if it is one.
    pub(super) fn label_of(&self, node: usize) -> Option<usize> {
        let virtual_node = node.checked_sub(self.states())?;
        self.virtuals[virtual_node].label
    }
}

/// Which edges to lay out reversed: those found going back to a state on
/// the path of a depth-first search from the initial state (then from any
/// state not reached), taking edges in declaration order.
fn break_cycles(graph: &Graph<'_>) -> Vec<bool> {
    let count = graph.states.len();
    let mut outgoing: Vec<Vec<usize>> = vec![Vec::new(); count];
    for (index, &(from, _, _)) in graph.edges.iter().enumerate() {
        outgoing[from].push(index);
    }
    let mut reversed = vec![false; graph.edges.len()];
    let mut visited = vec![false; count];
    let mut on_path = vec![false; count];
    let roots = core::iter::once(graph.initial).chain(0..count);
    for root in roots {
        if visited[root] {
            continue;
        }
        visited[root] = true;
        on_path[root] = true;
        let mut path = vec![(root, 0)];
        while let Some((state, next)) = path.last_mut() {
            let state = *state;
            let Some(&edge) = outgoing[state].get(*next) else {
                on_path[state] = false;
                path.pop();
                continue;
            };
            *next += 1;
            let to = graph.edges[edge].1;
            if on_path[to] {
                reversed[edge] = to != state;
            } else if !visited[to] {
                visited[to] = true;
                on_path[to] = true;
                path.push((to, 0));
            }
        }
    }
    reversed
}

/// Each state's layer: the longest path to it from a state with no edge in,
/// with the reversed edges turned round (which makes the graph acyclic).
fn longest_paths(graph: &Graph<'_>, reversed: &[bool]) -> Vec<usize> {
    let count = graph.states.len();
    let mut incoming = vec![0usize; count];
    let mut outgoing: Vec<Vec<usize>> = vec![Vec::new(); count];
    for (index, &(from, to, _)) in graph.edges.iter().enumerate() {
        if from == to {
            continue;
        }
        let (from, to) = if reversed[index] {
            (to, from)
        } else {
            (from, to)
        };
        incoming[to] += 1;
        outgoing[from].push(to);
    }
    let mut layer = vec![0; count];
    let mut ready: Vec<usize> = (0..count).filter(|&s| incoming[s] == 0).collect();
    while let Some(state) = ready.pop() {
        for &to in &outgoing[state] {
            layer[to] = layer[to].max(layer[state] + 1);
            incoming[to] -= 1;
            if incoming[to] == 0 {
                ready.push(to);
            }
        }
    }
    layer
}
