//! What the picture is made of, and the routes that do not depend on the
//! layered graph: loops, the start arrow, and the path through a chain.

use super::order::float;

/// Which way the ranks run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    LeftToRight,
    TopToBottom,
}

const LABEL_CHAR_WIDTH: f64 = 6.0;
pub(super) const LABEL_HEIGHT: f64 = 13.0;
pub(super) const LOOP_SIZE: f64 = 20.0;

/// An axis-aligned rectangle.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Rect {
    pub(crate) x: f64,
    pub(crate) y: f64,
    pub(crate) width: f64,
    pub(crate) height: f64,
}

/// A piece of a route: a straight line, a cubic Bézier, or a gap (where the
/// edge's label is written across it), to its last point.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Segment {
    Line((f64, f64)),
    Curve((f64, f64), (f64, f64), (f64, f64)),
    Gap((f64, f64)),
}

/// One edge as drawn: its arrow is at the end of the last segment.
pub(crate) struct Route {
    pub(crate) start: (f64, f64),
    pub(crate) segments: Vec<Segment>,
    /// Where the event's name is written.
    pub(crate) label: Option<(Rect, String)>,
}

/// A state's edges to itself: one loop beside its box.
pub(crate) struct Loop {
    #[cfg_attr(
        not(test),
        expect(dead_code, reason = "the tests check where loops are")
    )]
    pub(crate) state: usize,
    pub(crate) route: Route,
}

/// The width of an edge's label.
pub(super) fn label_width(text: &str) -> f64 {
    float(text.chars().count()) * LABEL_CHAR_WIDTH + 6.0
}

/// A state's loop, with its events as one label: above the box when ranks
/// run left to right, right of it when they run down.
pub(super) fn loop_beside(rect: &Rect, text: String, direction: Direction) -> Route {
    let (start, segment, label_at) = match direction {
        Direction::LeftToRight => {
            let (middle, top) = (rect.x + rect.width / 2.0, rect.y);
            let high = top - LOOP_SIZE - 4.0;
            let curve = Segment::Curve(
                (middle - 22.0, high),
                (middle + 22.0, high),
                (middle + 8.0, top),
            );
            (
                (middle - 8.0, top),
                curve,
                (middle, top - LOOP_SIZE - LABEL_HEIGHT / 2.0),
            )
        }
        Direction::TopToBottom => {
            let (right, middle) = (rect.x + rect.width, rect.y + rect.height / 2.0);
            let far = right + LOOP_SIZE + 4.0;
            let curve = Segment::Curve(
                (far, middle - 22.0),
                (far, middle + 22.0),
                (right, middle + 8.0),
            );
            let width = label_width(&text);
            (
                (right, middle - 8.0),
                curve,
                (right + LOOP_SIZE + 2.0 + width / 2.0, middle),
            )
        }
    };
    let label = (!text.is_empty()).then(|| {
        let width = label_width(&text);
        let rect = Rect {
            x: label_at.0 - width / 2.0,
            y: label_at.1 - LABEL_HEIGHT / 2.0,
            width,
            height: LABEL_HEIGHT - 1.0,
        };
        (rect, text)
    });
    Route {
        start,
        segments: vec![segment],
        label,
    }
}

/// The start dot's centre, and its arrow into the initial state's box.
pub(super) fn start_arrow(initial: &Rect, direction: Direction) -> ((f64, f64), Route) {
    let (dot, from, to) = match direction {
        Direction::LeftToRight => {
            let middle = initial.y + initial.height / 2.0;
            (
                (initial.x - 25.0, middle),
                (initial.x - 20.0, middle),
                (initial.x, middle),
            )
        }
        Direction::TopToBottom => {
            let middle = initial.x + initial.width / 2.0;
            (
                (middle, initial.y - 25.0),
                (middle, initial.y - 20.0),
                (middle, initial.y),
            )
        }
    };
    let arrow = Route {
        start: from,
        segments: vec![Segment::Line(to)],
        label: None,
    };
    (dot, arrow)
}

/// Segments through alternating runs and bends (given as (along the ranks,
/// along a rank)); level stretches become one line. Bends leave and arrive
/// square to the ranks, so arrows meet boxes square. The run numbered
/// `gap` (if any) is left blank, for a label written across the edge.
pub(super) fn segments(
    points: &[(f64, f64)],
    point: &impl Fn(f64, f64) -> (f64, f64),
    gap: Option<usize>,
) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut level_to = None;
    for (index, pair) in points.windows(2).enumerate() {
        let ((a1, c1), (a2, c2)) = (pair[0], pair[1]);
        if gap == Some(index) {
            out.extend(level_to.take().map(Segment::Line));
            out.push(Segment::Gap(point(a2, c2)));
            continue;
        }
        if index % 2 == 0 || (c2 - c1).abs() < 0.05 {
            // An empty run (a box as long as its rank) would leave the
            // arrow with no direction.
            if (a2 - a1).abs() >= 0.05 {
                level_to = Some(point(a2, c2));
            }
            continue;
        }
        if let Some(to) = level_to.take() {
            out.push(Segment::Line(to));
        }
        let bend = f64::midpoint(a1, a2);
        out.push(Segment::Curve(
            point(bend, c1),
            point(bend, c2),
            point(a2, c2),
        ));
    }
    out.extend(level_to.map(Segment::Line));
    out
}
