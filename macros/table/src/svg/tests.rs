//! The layout's promises, checked on machines of every shape: nothing
//! overlaps, no edge runs through a box or a label, every edge starts and
//! ends on the sides of its states, and the crossings are few.

use super::escape;
use super::layout::Graph;
use super::place::{layout, layout_in, Direction, Drawn, Rect, Route, Segment};

const BOTH: [Direction; 2] = [Direction::LeftToRight, Direction::TopToBottom];

fn graph<'a>(states: &[&'a str], edges: &[(usize, usize, Option<&'a str>)]) -> Graph<'a> {
    Graph {
        states: states.to_vec(),
        edges: edges.to_vec(),
        initial: 0,
    }
}

/// The `Worker` of the examples: a review loop, and `fail` from anywhere.
fn worker() -> Graph<'static> {
    let states = [
        "Assigned",
        "Working",
        "Conflicted",
        "InReview",
        "Approved",
        "Completed",
        "Failed",
    ];
    let mut edges = vec![
        (0, 1, Some("start")),
        (1, 3, Some("submit")),
        (1, 2, Some("conflict")),
        (2, 3, Some("resolve")),
        (2, 1, None),
        (3, 4, Some("approve")),
        (3, 1, Some("rework")),
        (4, 5, Some("complete")),
        (4, 1, Some("rework")),
        (6, 0, Some("retry")),
    ];
    edges.extend([0, 1, 2, 3, 4].map(|from| (from, 6, Some("fail"))));
    graph(&states, &edges)
}

/// The compile-time benchmark's machine: 40 states in a ring, each with
/// edges to the next four.
fn ring(states: usize) -> Graph<'static> {
    let names: Vec<&'static str> = (0..states)
        .map(|index| &*Box::leak(format!("S{index}").into_boxed_str()))
        .collect();
    let edges: Vec<_> = (0..states)
        .flat_map(|from| {
            ["a", "b", "c", "d"]
                .into_iter()
                .enumerate()
                .map(move |(step, event)| (from, (from + step + 1) % states, Some(event)))
        })
        .collect();
    graph(&names, &edges)
}

/// A chain of 30 steps, any of which may fail, with loops and a long name.
fn chain_with_fail() -> Graph<'static> {
    let names: Vec<&'static str> = (0..30)
        .map(|index| &*Box::leak(format!("Step{index}").into_boxed_str()))
        .chain(["FailedWithAVeryLongNameIndeed"])
        .collect();
    let mut edges: Vec<_> = (0..29).map(|from| (from, from + 1, Some("next"))).collect();
    edges.extend((0..30).map(|from| (from, 30, Some("fail"))));
    edges.extend([(3, 3, Some("tick")), (3, 3, Some("tock")), (5, 5, None)]);
    graph(&names, &edges)
}

fn inside(rect: &Rect, (x, y): (f64, f64), inset: f64) -> bool {
    x > rect.x + inset
        && x < rect.x + rect.width - inset
        && y > rect.y + inset
        && y < rect.y + rect.height - inset
}

fn overlap(a: &Rect, b: &Rect) -> bool {
    a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height
}

/// Points along a route: its lines and its curves (cubic Béziers).
fn samples(route: &Route) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    let mut from = route.start;
    for segment in &route.segments {
        let to = match *segment {
            Segment::Gap(to) => to,
            Segment::Line(to) => {
                for step in 0..=20 {
                    let t = f64::from(step) / 20.0;
                    out.push((from.0 + (to.0 - from.0) * t, from.1 + (to.1 - from.1) * t));
                }
                to
            }
            Segment::Curve(c1, c2, to) => {
                for step in 0..=20 {
                    let t = f64::from(step) / 20.0;
                    let u = 1.0 - t;
                    let at = |p0: f64, p1: f64, p2: f64, p3: f64| {
                        u * u * u * p0
                            + 3.0 * u * u * t * p1
                            + 3.0 * u * t * t * p2
                            + t * t * t * p3
                    };
                    out.push((at(from.0, c1.0, c2.0, to.0), at(from.1, c1.1, c2.1, to.1)));
                }
                to
            }
        };
        from = to;
    }
    out
}

fn end(route: &Route) -> (f64, f64) {
    match route.segments.last() {
        Some(Segment::Line(to) | Segment::Curve(_, _, to) | Segment::Gap(to)) => *to,
        None => route.start,
    }
}

/// On the side of `rect` that faces the next or the previous rank.
fn on_side(rect: &Rect, (x, y): (f64, f64), direction: Direction) -> bool {
    let near = |a: f64, b: f64| (a - b).abs() < 1e-6;
    match direction {
        Direction::LeftToRight => {
            (near(x, rect.x) || near(x, rect.x + rect.width))
                && y > rect.y
                && y < rect.y + rect.height
        }
        Direction::TopToBottom => {
            (near(y, rect.y) || near(y, rect.y + rect.height))
                && x > rect.x
                && x < rect.x + rect.width
        }
    }
}

fn check(graph: &Graph<'_>, drawn: &Drawn) {
    let labels: Vec<&Rect> = drawn
        .routes
        .iter()
        .filter_map(|route| route.label.as_ref())
        .chain(
            drawn
                .loops
                .iter()
                .filter_map(|drawn| drawn.route.label.as_ref()),
        )
        .map(|(rect, _)| rect)
        .collect();
    let canvas = Rect {
        x: 0.0,
        y: 0.0,
        width: drawn.width,
        height: drawn.height,
    };
    for (index, a) in drawn.boxes.iter().enumerate() {
        assert!(
            inside(&canvas, (a.x, a.y), 0.0)
                && inside(&canvas, (a.x + a.width, a.y + a.height), 0.0)
        );
        for b in &drawn.boxes[index + 1..] {
            assert!(!overlap(a, b), "boxes {a:?} and {b:?} overlap");
        }
        for label in &labels {
            assert!(!overlap(a, label), "box {a:?} and label {label:?} overlap");
        }
    }
    for (index, a) in labels.iter().enumerate() {
        assert!(inside(&canvas, (a.x, a.y), 0.0));
        for b in &labels[index + 1..] {
            assert!(!overlap(a, b), "labels {a:?} and {b:?} overlap");
        }
    }
    let edges = graph.edges.iter().filter(|(from, to, _)| from != to);
    assert_eq!(edges.clone().count(), drawn.routes.len());
    for (&(from, to, event), route) in edges.zip(&drawn.routes) {
        let (first, last) = (route.start, end(route));
        assert!(
            on_side(&drawn.boxes[from], first, drawn.direction),
            "{from} -> {to} starts at {first:?}"
        );
        assert!(
            on_side(&drawn.boxes[to], last, drawn.direction),
            "{from} -> {to} ends at {last:?}"
        );
        assert_eq!(route.label.as_ref().map(|(_, text)| text.as_str()), event);
        for point in samples(route) {
            for rect in drawn.boxes.iter().chain(labels.iter().copied()) {
                assert!(
                    !inside(rect, point, 0.5),
                    "{from} -> {to} runs through {rect:?} at {point:?}"
                );
            }
            assert!(inside(&canvas, point, 0.0));
        }
    }
    for drawn_loop in &drawn.loops {
        for point in samples(&drawn_loop.route) {
            for (index, rect) in drawn.boxes.iter().enumerate() {
                if index != drawn_loop.state {
                    assert!(!inside(rect, point, 0.5), "a loop runs through {rect:?}");
                }
            }
            assert!(inside(&canvas, point, 0.0));
        }
    }
}

#[test]
fn nothing_overlaps_and_no_edge_runs_through_a_box_or_label() {
    for graph in [worker(), ring(40), ring(7), chain_with_fail()] {
        for direction in BOTH {
            check(&graph, &layout_in(&graph, direction));
        }
    }
}

#[test]
fn loops_are_drawn_once_per_state_with_their_events() {
    let graph = chain_with_fail();
    for direction in BOTH {
        let drawn = layout_in(&graph, direction);
        let loops: Vec<(usize, Option<&str>)> = drawn
            .loops
            .iter()
            .map(|drawn| {
                (
                    drawn.state,
                    drawn.route.label.as_ref().map(|(_, text)| text.as_str()),
                )
            })
            .collect();
        assert_eq!(loops, [(3, Some("tick, tock")), (5, None)]);
        // The loop's label is beside its box (above it, or right of it).
        let (rect, _) = drawn.loops[0].route.label.as_ref().expect("a label");
        let state = drawn.boxes[3];
        match direction {
            Direction::LeftToRight => assert!(rect.y + rect.height <= state.y),
            Direction::TopToBottom => assert!(rect.x >= state.x + state.width),
        }
    }
}

#[test]
fn long_machines_go_top_to_bottom_to_fit_a_page() {
    let short = layout(&graph(&["A", "B"], &[(0, 1, Some("go"))]));
    assert_eq!(short.direction, Direction::LeftToRight);
    let long = layout(&chain_with_fail());
    assert_eq!(long.direction, Direction::TopToBottom);
    assert!(long.width < 880.0, "{}", long.width);
}

#[test]
fn a_tree_declared_out_of_order_is_drawn_without_crossings() {
    // Root -> A, B; A -> A1; B -> B1; declared so that placing by
    // declaration order would cross A -> A1 and B -> B1.
    let graph = graph(
        &["Root", "A", "B", "B1", "A1", "A2"],
        &[
            (0, 1, Some("a")),
            (0, 2, Some("b")),
            (2, 3, Some("x")),
            (1, 4, None),
            (1, 5, Some("y")),
        ],
    );
    for direction in BOTH {
        let drawn = layout_in(&graph, direction);
        check(&graph, &drawn);
        assert_eq!(drawn.crossings, 0);
        let (a1, b1) = (drawn.boxes[4], drawn.boxes[3]);
        assert!(a1.y + a1.x < b1.y + b1.x, "A1 stays before B1");
    }
}

#[test]
fn both_edges_of_a_two_cycle_are_drawn_apart() {
    let graph = graph(
        &["Open", "Closed"],
        &[(0, 1, Some("close")), (1, 0, Some("open"))],
    );
    for direction in BOTH {
        let drawn = layout_in(&graph, direction);
        check(&graph, &drawn);
        let [close, open] = &drawn.routes[..] else {
            panic!("two routes")
        };
        // `open` is drawn from `Closed` back to `Open`.
        assert!(on_side(&drawn.boxes[1], open.start, direction));
        let apart = samples(close).iter().all(|a| {
            samples(open)
                .iter()
                .all(|b| (a.0 - b.0).abs() + (a.1 - b.1).abs() >= 4.0)
        });
        assert!(apart, "{direction:?}: the two edges touch");
    }
}

#[test]
fn the_ring_keeps_crossings_down() {
    let drawn = layout_in(&ring(40), Direction::LeftToRight);
    // Each state's four edges fan out over the next four columns; the
    // order found keeps the crossings to a few per column.
    assert!(drawn.crossings < 40 * 12, "{} crossings", drawn.crossings);
}

#[test]
fn text_is_escaped() {
    assert_eq!(
        escape(r#"a < b & "c" > 'd'"#),
        "a &lt; b &amp; &quot;c&quot; &gt; &#39;d&#39;"
    );
}
