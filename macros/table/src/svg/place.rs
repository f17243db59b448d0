//! Coordinates for the layered graph, in either direction: ranks left to
//! right (as the DOT diagram) or top to bottom (for machines too long to
//! fit a page's width). Places along a rank are least squares towards each
//! node's neighbours, so edges run as straight as the spacing allows. Edges
//! cross ranks as straight runs and bend only between ranks, where no box
//! or label is.

use super::layout::{Graph, Skeleton};
use super::order::{float, spread};
use super::route::{label_width, loop_beside, segments, start_arrow, LABEL_HEIGHT, LOOP_SIZE};
pub(crate) use super::route::{Direction, Loop, Rect, Route, Segment};

/// The finished layout.
pub(crate) struct Drawn {
    #[cfg_attr(not(test), expect(dead_code, reason = "the tests check the choice"))]
    pub(crate) direction: Direction,
    pub(crate) boxes: Vec<Rect>,
    /// Per edge that is not a loop, in declaration order.
    pub(crate) routes: Vec<Route>,
    pub(crate) loops: Vec<Loop>,
    /// The start dot's centre, and the arrow from it to the initial state.
    pub(crate) start: ((f64, f64), Route),
    pub(crate) width: f64,
    pub(crate) height: f64,
    /// Edge crossings between neighbouring ranks (of the laid-out graph).
    #[cfg_attr(
        not(test),
        expect(dead_code, reason = "the tests measure the layout by it")
    )]
    pub(crate) crossings: usize,
}

const CHAR_WIDTH: f64 = 7.2;
const BOX_HEIGHT: f64 = 30.0;
pub(crate) const MARGIN: f64 = 20.0;
/// Room before the first rank for the start dot and its arrow.
const START: f64 = 30.0;
/// Rounds of smoothing the places along the ranks.
const SMOOTHING: usize = 8;

/// Spacing, by direction.
struct Spacing {
    /// Between ranks, where edges bend.
    between_ranks: f64,
    /// Along a rank: next to a box.
    by_state: f64,
    /// Along a rank: between two edges.
    between_edges: f64,
    /// Between the edges on one side of a box.
    between_ports: f64,
}

/// A node's extent: `length` along the ranks' direction, and `before` and
/// `after` its line (where edges pass) along the rank.
#[derive(Clone, Copy)]
struct Extent {
    length: f64,
    before: f64,
    after: f64,
}

fn name_width(name: &str) -> f64 {
    float(name.chars().count()) * CHAR_WIDTH + 24.0
}

/// Events of each state's loop, joined (`None`: no loop).
fn loop_texts(graph: &Graph<'_>) -> Vec<Option<String>> {
    let mut labels: Vec<Option<Vec<&str>>> = vec![None; graph.states.len()];
    for &(from, to, event) in &graph.edges {
        if from == to {
            labels[from].get_or_insert_with(Vec::new).extend(event);
        }
    }
    labels
        .into_iter()
        .map(|labels| labels.map(|labels| labels.join(", ")))
        .collect()
}

/// Sizes of everything in one direction, and the ranks' spans along it.
struct Sizes {
    direction: Direction,
    spacing: Spacing,
    /// Per state: its box's width and height.
    boxes: Vec<(f64, f64)>,
    extents: Vec<Extent>,
    loops: Vec<Option<String>>,
    /// Per rank: where it starts and ends along the ranks' direction.
    rank_span: Vec<(f64, f64)>,
    /// The picture's length along the ranks' direction.
    length: f64,
}

impl Sizes {
    fn new(graph: &Graph<'_>, skeleton: &Skeleton, direction: Direction) -> Self {
        let across = direction == Direction::LeftToRight;
        let spacing = if across {
            Spacing {
                between_ranks: 36.0,
                by_state: 16.0,
                between_edges: 8.0,
                between_ports: 8.0,
            }
        } else {
            Spacing {
                between_ranks: 28.0,
                by_state: 24.0,
                between_edges: 10.0,
                between_ports: 12.0,
            }
        };
        let count = graph.states.len();
        let layered = &skeleton.layered;
        let loops = loop_texts(graph);

        // Box sizes: the name, grown for the edges on its busier side.
        let boxes: Vec<(f64, f64)> = (0..count)
            .map(|state| {
                let ports = float(layered.before[state].len().max(layered.after[state].len()));
                let room = spacing.between_ports * ports + 8.0;
                let width = name_width(graph.states[state]);
                if across {
                    (width, BOX_HEIGHT.max(room))
                } else {
                    (width.max(room), BOX_HEIGHT)
                }
            })
            .collect();
        let extent = |node: usize| -> Extent {
            if node < count {
                let (width, height) = boxes[node];
                let loop_label = loops[node].as_deref().filter(|text| !text.is_empty());
                let has_loop = loops[node].is_some();
                if across {
                    // The loop sits above the box, its label above it.
                    let room = if has_loop { LOOP_SIZE } else { 0.0 }
                        + loop_label.map_or(0.0, |_| LABEL_HEIGHT);
                    Extent {
                        length: width.max(loop_label.map_or(0.0, label_width)),
                        before: height / 2.0 + room,
                        after: height / 2.0,
                    }
                } else {
                    // The loop sits right of the box, its label right of it.
                    let room = if has_loop { LOOP_SIZE } else { 0.0 }
                        + loop_label.map_or(0.0, |text| label_width(text) + 2.0);
                    Extent {
                        length: height,
                        before: width / 2.0,
                        after: width / 2.0 + room,
                    }
                }
            } else {
                let label = skeleton.label_of(node);
                let text = label
                    .and_then(|edge| graph.edges[edge].2)
                    .map_or(0.0, label_width);
                match (label, across) {
                    (None, _) => Extent {
                        length: 0.0,
                        before: 0.0,
                        after: 0.0,
                    },
                    // Above the line, or right of it.
                    (Some(_), true) => Extent {
                        length: text,
                        before: LABEL_HEIGHT,
                        after: 0.0,
                    },
                    // Across the line, which leaves a gap for it.
                    (Some(_), false) => Extent {
                        length: LABEL_HEIGHT + 2.0,
                        before: text / 2.0 + 2.0,
                        after: text / 2.0 + 2.0,
                    },
                }
            }
        };
        let extents: Vec<Extent> = (0..skeleton.nodes()).map(extent).collect();

        // Ranks along their direction.
        let mut rank_span = Vec::with_capacity(layered.ranks.len());
        let mut along = MARGIN + START;
        for rank in &layered.ranks {
            let length = rank
                .iter()
                .map(|&n| extents[n].length)
                .fold(0.0, f64::max)
                .ceil();
            rank_span.push((along, along + length));
            along += length + spacing.between_ranks;
        }
        let length = along - spacing.between_ranks + MARGIN;
        Sizes {
            direction,
            spacing,
            boxes,
            extents,
            loops,
            rank_span,
            length,
        }
    }
}

/// Lays out `skeleton` (of `graph`) with `sizes`.
#[expect(
    clippy::too_many_lines,
    reason = "one pass from places to routes; its steps share every local"
)]
fn place(graph: &Graph<'_>, skeleton: &Skeleton, sizes: Sizes) -> Drawn {
    let Sizes {
        direction,
        spacing,
        boxes,
        extents,
        loops,
        rank_span,
        length,
    } = sizes;
    let across = direction == Direction::LeftToRight;
    let count = graph.states.len();
    let layered = &skeleton.layered;
    let line = places(skeleton, &extents, &spacing);
    let first = (0..extents.len())
        .map(|n| line[n] - extents[n].before)
        .fold(f64::MAX, f64::min);
    let shift = MARGIN - first;
    let breadth = (0..extents.len())
        .map(|n| line[n] + extents[n].after + shift)
        .fold(0.0, f64::max)
        + MARGIN;
    let centre = |node: usize| {
        f64::midpoint(
            rank_span[skeleton.rank(node)].0,
            rank_span[skeleton.rank(node)].1,
        )
    };
    // (along the ranks, along a rank) -> (x, y)
    let point = |along: f64, across_rank: f64| {
        if across {
            (along, across_rank + shift)
        } else {
            (across_rank + shift, along)
        }
    };

    let rects: Vec<Rect> = (0..count)
        .map(|state| {
            let (width, height) = boxes[state];
            let (x, y) = point(centre(state), line[state]);
            Rect {
                x: x - width / 2.0,
                y: y - height / 2.0,
                width,
                height,
            }
        })
        .collect();
    // A box's length along the ranks, for where its edges start and end.
    let box_length = |state: usize| {
        if across {
            boxes[state].0
        } else {
            boxes[state].1
        }
    };

    // Ports: each side's edges spread in the order of where they go. Every
    // neighbour of a state is a virtual node with one state on each side.
    let mut port = vec![(0.0, 0.0); extents.len()];
    for state in 0..count {
        for (is_after, neighbours) in [
            (false, &layered.before[state]),
            (true, &layered.after[state]),
        ] {
            let mut sorted = neighbours.clone();
            sorted.sort_by(|a, b| line[*a].total_cmp(&line[*b]).then(a.cmp(b)));
            let middle = float(sorted.len().saturating_sub(1)) / 2.0;
            for (place, &neighbour) in sorted.iter().enumerate() {
                let at = line[state] + (float(place) - middle) * spacing.between_ports;
                if is_after {
                    port[neighbour].0 = at;
                } else {
                    port[neighbour].1 = at;
                }
            }
        }
    }

    let mut routes = Vec::new();
    for (index, chain) in skeleton.chains.iter().enumerate() {
        let Some(chain) = chain else { continue };
        let (low, high) = (chain[0], chain[chain.len() - 1]);
        let (out_at, in_at) = (port[chain[1]].0, port[chain[chain.len() - 2]].1);
        // Alternating runs (across a rank) and bends (between ranks).
        let mut points = vec![
            (centre(low) + box_length(low) / 2.0, out_at),
            (rank_span[skeleton.rank(low)].1, out_at),
        ];
        for &node in &chain[1..chain.len() - 1] {
            let (start, end) = rank_span[skeleton.rank(node)];
            points.push((start, line[node]));
            points.push((end, line[node]));
        }
        points.push((rank_span[skeleton.rank(high)].0, in_at));
        points.push((centre(high) - box_length(high) / 2.0, in_at));
        // Top to bottom, the label is written across its edge: the run
        // through the label's rank is a gap.
        let at_label = chain
            .iter()
            .position(|&node| skeleton.label_of(node).is_some());
        let mut gap = at_label.filter(|_| !across).map(|place| 2 * place);
        if skeleton.reversed[index] {
            points.reverse();
            gap = gap.map(|run| points.len() - 2 - run);
        }
        let label = at_label.map(|place| &chain[place]);
        let label = label.map(|&node| {
            let text = graph.edges[index].2.unwrap_or_default();
            let width = label_width(text);
            let (x, y) = point(centre(node), line[node]);
            let rect = if across {
                Rect {
                    x: x - width / 2.0,
                    y: y - LABEL_HEIGHT,
                    width,
                    height: LABEL_HEIGHT - 1.0,
                }
            } else {
                Rect {
                    x: x - width / 2.0,
                    y: y - LABEL_HEIGHT / 2.0,
                    width,
                    height: LABEL_HEIGHT - 1.0,
                }
            };
            (rect, text.to_owned())
        });
        routes.push(Route {
            start: point(points[0].0, points[0].1),
            segments: segments(&points, &point, gap),
            label,
        });
    }

    let loops = loops
        .into_iter()
        .enumerate()
        .filter_map(|(state, text)| {
            let route = loop_beside(&rects[state], text?, direction);
            Some(Loop { state, route })
        })
        .collect();

    let start = start_arrow(&rects[graph.initial], direction);
    let (width, height) = if across {
        (length, breadth)
    } else {
        (breadth, length)
    };
    Drawn {
        direction,
        boxes: rects,
        routes,
        loops,
        start,
        width: width.ceil(),
        height: height.ceil(),
        crossings: layered.crossings(),
    }
}

/// Each node's line (where its edges pass) along its rank, before the
/// final shift, in whole pixels.
fn places(skeleton: &Skeleton, extents: &[Extent], spacing: &Spacing) -> Vec<f64> {
    let states = skeleton.states();
    let layered = &skeleton.layered;
    let gap = |first: usize, second: usize| {
        let space = if first < states || second < states {
            spacing.by_state
        } else {
            spacing.between_edges
        };
        extents[first].after + space + extents[second].before
    };
    let mut line = vec![0.0; extents.len()];
    for rank in &layered.ranks {
        let mut at = 0.0;
        for (place, &node) in rank.iter().enumerate() {
            if place > 0 {
                at += gap(rank[place - 1], node);
            }
            line[node] = at;
        }
    }
    for round in 0..SMOOTHING {
        let order: Vec<&Vec<usize>> = if round % 2 == 0 {
            layered.ranks.iter().collect()
        } else {
            layered.ranks.iter().rev().collect()
        };
        for rank in order {
            let wanted: Vec<f64> = rank
                .iter()
                .map(|&node| {
                    let around = layered.before[node].iter().chain(&layered.after[node]);
                    let (sum, n) =
                        around.fold((0.0, 0usize), |(sum, n), &other| (sum + line[other], n + 1));
                    if n == 0 {
                        line[node]
                    } else {
                        sum / float(n)
                    }
                })
                .collect();
            let gaps: Vec<f64> = rank.windows(2).map(|pair| gap(pair[0], pair[1])).collect();
            for (&node, at) in rank.iter().zip(spread(&wanted, &gaps)) {
                line[node] = at;
            }
        }
    }
    // Whole pixels: crisp lines, short numbers, and level runs stay level.
    line.into_iter().map(f64::round).collect()
}

/// The widest picture laid out left to right; a wider one is laid out top
/// to bottom (rustdoc's text column is about 900 pixels wide, and a
/// picture is easier to scroll past than across).
const PAGE_WIDTH: f64 = 880.0;

/// Lays out `graph` left to right, or top to bottom when that would not
/// fit a docs page.
pub(crate) fn layout(graph: &Graph<'_>) -> Drawn {
    let skeleton = Skeleton::new(graph);
    let across = Sizes::new(graph, &skeleton, Direction::LeftToRight);
    let sizes = if across.length <= PAGE_WIDTH {
        across
    } else {
        Sizes::new(graph, &skeleton, Direction::TopToBottom)
    };
    place(graph, &skeleton, sizes)
}

/// Lays out `graph` in `direction`.
#[cfg(test)]
pub(crate) fn layout_in(graph: &Graph<'_>, direction: Direction) -> Drawn {
    let skeleton = Skeleton::new(graph);
    place(graph, &skeleton, Sizes::new(graph, &skeleton, direction))
}
