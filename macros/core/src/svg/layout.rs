//! A layered layout, left to right, the way Graphviz's `dot` draws:
//!
//! 1. Cycles are broken by a depth-first search from the initial state: an
//!    edge back to a state on the search path is laid out reversed (and
//!    drawn with its arrow the right way).
//! 2. Each state goes in the column of its longest path from a source, so
//!    every laid-out edge runs rightwards.
//! 3. Every edge becomes a chain with a virtual node in each column it
//!    crosses. Between two columns of states is a column of labels: an
//!    edge's label is a virtual node there, so labels take room and never
//!    overlap a box, another label or another edge.
//! 4. Barycenter sweeps order each column to reduce crossings.
//! 5. Heights are least squares towards each node's neighbours, so edges
//!    run as straight as the spacing allows.
//!
//! Edges cross columns as horizontal runs and bend only in the gaps between
//! columns, where no box or label is.

use super::order::{float, spread, Layered};

/// What the layout needs of a machine: widths come from the names' lengths.
pub(crate) struct Graph<'a> {
    pub(crate) states: Vec<&'a str>,
    /// `(from, to, event)`, in declaration order.
    pub(crate) edges: Vec<(usize, usize, Option<&'a str>)>,
    pub(crate) initial: usize,
}

/// An axis-aligned rectangle.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Rect {
    pub(crate) x: f64,
    pub(crate) y: f64,
    pub(crate) width: f64,
    pub(crate) height: f64,
}

/// One edge between two states, in the direction it is drawn (its arrow at
/// the last point).
pub(crate) struct Route {
    /// Alternating runs and bends: `points[i]..points[i + 1]` is a straight
    /// horizontal run for even `i` and an S-bend for odd `i`.
    pub(crate) points: Vec<(f64, f64)>,
    /// Where the event's name is written.
    pub(crate) label: Option<(Rect, String)>,
}

/// A state's edges to itself: one loop over its box.
pub(crate) struct Loop {
    pub(crate) state: usize,
    pub(crate) label: Option<(Rect, String)>,
}

/// The finished layout.
pub(crate) struct Drawn {
    pub(crate) boxes: Vec<Rect>,
    /// Per edge that is not a loop, in declaration order.
    pub(crate) routes: Vec<Route>,
    pub(crate) loops: Vec<Loop>,
    pub(crate) width: f64,
    pub(crate) height: f64,
    /// Edge crossings between neighbouring columns (of the laid-out graph).
    #[cfg_attr(
        not(test),
        expect(dead_code, reason = "the tests measure the layout by it")
    )]
    pub(crate) crossings: usize,
}

pub(crate) const CHAR_WIDTH: f64 = 7.2;
pub(crate) const LABEL_CHAR_WIDTH: f64 = 6.0;
pub(crate) const LABEL_HEIGHT: f64 = 13.0;
pub(crate) const LOOP_HEIGHT: f64 = 20.0;
const BOX_HEIGHT: f64 = 30.0;
const PORT_GAP: f64 = 8.0;
const COLUMN_GAP: f64 = 36.0;
const STATE_GAP: f64 = 16.0;
const EDGE_GAP: f64 = 8.0;
pub(crate) const MARGIN: f64 = 20.0;
/// Room left of the first column for the start dot and its arrow.
const START: f64 = 30.0;
/// Rounds of height smoothing.
const SMOOTHING: usize = 8;

/// A node of the layered graph: a state, a label or a bend of an edge.
struct Node {
    column: usize,
    width: f64,
    /// Extent above and below the line where edges attach.
    above: f64,
    below: f64,
    is_state: bool,
}

/// Lays out `graph`.
pub(crate) fn layout(graph: &Graph<'_>) -> Drawn {
    let count = graph.states.len();
    let reversed = break_cycles(graph);
    let layer = longest_paths(graph, &reversed);
    let label_width = |text: &str| float(text.chars().count()) * LABEL_CHAR_WIDTH + 6.0;

    // Self-loops, merged per state.
    let mut loop_labels: Vec<Option<Vec<&str>>> = vec![None; count];
    for &(from, to, event) in &graph.edges {
        if from == to {
            let labels = loop_labels[from].get_or_insert_with(Vec::new);
            labels.extend(event);
        }
    }
    let loop_text: Vec<Option<String>> = loop_labels
        .iter()
        .map(|labels| labels.as_ref().map(|labels| labels.join(", ")))
        .collect();

    let mut nodes: Vec<Node> = graph
        .states
        .iter()
        .enumerate()
        .map(|(state, name)| {
            let loop_room = loop_text[state].as_ref().map_or(0.0, |text| {
                LOOP_HEIGHT + if text.is_empty() { 0.0 } else { LABEL_HEIGHT }
            });
            let loop_width = loop_text[state].as_deref().map_or(0.0, label_width);
            Node {
                column: 2 * layer[state],
                width: (float(name.chars().count()) * CHAR_WIDTH + 24.0).max(loop_width),
                above: BOX_HEIGHT / 2.0 + loop_room,
                below: BOX_HEIGHT / 2.0,
                is_state: true,
            }
        })
        .collect();
    // Chains, left to right; `None` for loops.
    let mut chains: Vec<Option<Vec<usize>>> = Vec::with_capacity(graph.edges.len());
    let mut label_node: Vec<Option<usize>> = vec![None; graph.edges.len()];
    for (index, &(from, to, event)) in graph.edges.iter().enumerate() {
        if from == to {
            chains.push(None);
            continue;
        }
        let (left, right) = if reversed[index] {
            (to, from)
        } else {
            (from, to)
        };
        let (first, last) = (nodes[left].column, nodes[right].column);
        // The label goes next to the state the edge leaves.
        let label_column = if reversed[index] { last - 1 } else { first + 1 };
        let mut chain = vec![left];
        for column in first + 1..last {
            let labelled = event.filter(|_| column == label_column);
            if labelled.is_some() {
                label_node[index] = Some(nodes.len());
            }
            nodes.push(Node {
                column,
                width: labelled.map_or(0.0, label_width),
                above: if labelled.is_some() {
                    LABEL_HEIGHT
                } else {
                    0.0
                },
                below: 0.0,
                is_state: false,
            });
            chain.push(nodes.len() - 1);
        }
        chain.push(right);
        chains.push(Some(chain));
    }

    let column_count = nodes.iter().map(|node| node.column + 1).max().unwrap_or(1);
    let mut columns = Layered {
        columns: vec![Vec::new(); column_count],
        left: vec![Vec::new(); nodes.len()],
        right: vec![Vec::new(); nodes.len()],
    };
    for (index, node) in nodes.iter().enumerate() {
        columns.columns[node.column].push(index);
    }
    for chain in chains.iter().flatten() {
        for pair in chain.windows(2) {
            columns.right[pair[0]].push(pair[1]);
            columns.left[pair[1]].push(pair[0]);
        }
    }
    columns.reduce_crossings();
    let crossings = columns.crossings();

    // A box grows with the edges on its busier side.
    for (state, node) in nodes.iter_mut().enumerate().take(count) {
        let ports = columns.left[state].len().max(columns.right[state].len());
        let height = BOX_HEIGHT.max(PORT_GAP * float(ports) + 8.0);
        node.above += (height - BOX_HEIGHT) / 2.0;
        node.below += (height - BOX_HEIGHT) / 2.0;
    }
    // Whole pixels: crisp lines, short numbers, and level runs stay level.
    let line: Vec<f64> = heights(&columns, &nodes)
        .into_iter()
        .map(f64::round)
        .collect();

    // Layered left to right.
    let mut column_x = Vec::with_capacity(column_count);
    let mut x = MARGIN + START;
    for column in &columns.columns {
        let width = column
            .iter()
            .map(|&n| nodes[n].width)
            .fold(0.0, f64::max)
            .ceil();
        column_x.push((x, x + width));
        x += width + COLUMN_GAP;
    }
    let width = x - COLUMN_GAP + MARGIN;
    let top = (0..nodes.len())
        .map(|n| line[n] - nodes[n].above)
        .fold(f64::MAX, f64::min);
    let shift = MARGIN - top;
    let height = (0..nodes.len())
        .map(|n| line[n] + nodes[n].below + shift)
        .fold(0.0, f64::max)
        + MARGIN;
    let centre = |n: usize| f64::midpoint(column_x[nodes[n].column].0, column_x[nodes[n].column].1);

    let boxes: Vec<Rect> = (0..count)
        .map(|state| {
            let node = &nodes[state];
            let box_height = node.below * 2.0;
            let box_width = float(graph.states[state].chars().count()) * CHAR_WIDTH + 24.0;
            Rect {
                x: centre(state) - box_width / 2.0,
                y: line[state] + shift - box_height / 2.0,
                width: box_width,
                height: box_height,
            }
        })
        .collect();

    // Ports: a box's edges on each side, spread in the order of where they go.
    let mut port = vec![(0.0, 0.0); nodes.len()];
    for state in 0..count {
        for (side, neighbours) in [(0, &columns.left[state]), (1, &columns.right[state])] {
            let mut sorted = neighbours.clone();
            sorted.sort_by(|a, b| line[*a].total_cmp(&line[*b]).then(a.cmp(b)));
            let middle = float(sorted.len().saturating_sub(1)) / 2.0;
            for (place, &neighbour) in sorted.iter().enumerate() {
                let y = line[state] + shift + (float(place) - middle) * PORT_GAP;
                // A neighbour is a virtual node: its left state is side 1's.
                if side == 1 {
                    port[neighbour].0 = y;
                } else {
                    port[neighbour].1 = y;
                }
            }
        }
    }

    let mut routes = Vec::new();
    for (index, chain) in chains.iter().enumerate() {
        let Some(chain) = chain else { continue };
        let (first, last) = (chain[0], chain[chain.len() - 1]);
        let (start_y, end_y) = (port[chain[1]].0, port[chain[chain.len() - 2]].1);
        let mut points = vec![
            (boxes[first].x + boxes[first].width, start_y),
            (column_x[nodes[first].column].1, start_y),
        ];
        for &node in &chain[1..chain.len() - 1] {
            let (left, right) = column_x[nodes[node].column];
            points.push((left, line[node] + shift));
            points.push((right, line[node] + shift));
        }
        points.push((column_x[nodes[last].column].0, end_y));
        points.push((boxes[last].x, end_y));
        if reversed[index] {
            points.reverse();
        }
        let label = label_node[index].map(|node| {
            let text = graph.edges[index].2.unwrap_or_default();
            let width = label_width(text);
            let rect = Rect {
                x: centre(node) - width / 2.0,
                y: line[node] + shift - LABEL_HEIGHT,
                width,
                height: LABEL_HEIGHT - 1.0,
            };
            (rect, text.to_owned())
        });
        routes.push(Route { points, label });
    }
    let loops = loop_text
        .into_iter()
        .enumerate()
        .filter_map(|(state, text)| {
            let text = text?;
            let label = (!text.is_empty()).then(|| {
                let width = label_width(&text);
                let rect = Rect {
                    x: centre(state) - width / 2.0,
                    y: boxes[state].y - LOOP_HEIGHT - LABEL_HEIGHT,
                    width,
                    height: LABEL_HEIGHT - 1.0,
                };
                (rect, text)
            });
            Some(Loop { state, label })
        })
        .collect();
    Drawn {
        boxes,
        routes,
        loops,
        width,
        height,
        crossings,
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

/// Each node's line (where its edges attach), before the final shift.
fn heights(columns: &Layered, nodes: &[Node]) -> Vec<f64> {
    let gap = |upper: usize, lower: usize| {
        let space = if nodes[upper].is_state || nodes[lower].is_state {
            STATE_GAP
        } else {
            EDGE_GAP
        };
        nodes[upper].below + space + nodes[lower].above
    };
    let mut line = vec![0.0; nodes.len()];
    for column in &columns.columns {
        let mut y = 0.0;
        for (place, &node) in column.iter().enumerate() {
            if place > 0 {
                y += gap(column[place - 1], node);
            }
            line[node] = y;
        }
    }
    for round in 0..SMOOTHING {
        let order: Vec<&Vec<usize>> = if round % 2 == 0 {
            columns.columns.iter().collect()
        } else {
            columns.columns.iter().rev().collect()
        };
        for column in order {
            let wanted: Vec<f64> = column
                .iter()
                .map(|&node| {
                    let around = columns.left[node].iter().chain(&columns.right[node]);
                    let (sum, n) =
                        around.fold((0.0, 0usize), |(sum, n), &other| (sum + line[other], n + 1));
                    if n == 0 {
                        line[node]
                    } else {
                        sum / float(n)
                    }
                })
                .collect();
            let gaps: Vec<f64> = column
                .windows(2)
                .map(|pair| gap(pair[0], pair[1]))
                .collect();
            for (&node, y) in column.iter().zip(spread(&wanted, &gaps)) {
                line[node] = y;
            }
        }
    }
    line
}
