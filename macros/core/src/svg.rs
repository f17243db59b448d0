//! The state diagram as an SVG picture, laid out here (no JavaScript, no
//! fonts or files fetched): the macro puts it into the enum's rustdoc, and
//! the CLI prints it (`--format svg`).
//!
//! Layout: states in columns by their distance from the initial state
//! (left to right, as the DOT diagram), ordered within a column by where
//! their predecessors are; forward edges are straight, edges back or within
//! a column arc below. Strokes and text use `currentColor`, so the picture
//! follows rustdoc's light and dark themes. Initial: a dot and an arrow;
//! terminal: a double border; doc comments: tooltips.

use core::fmt::Write;
use std::collections::VecDeque;

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use quote::quote_spanned;

use crate::diagram::note;
use crate::model::Machine;

const CHAR_WIDTH: f64 = 7.2;
const BOX_HEIGHT: f64 = 30.0;
const COLUMN_GAP: f64 = 70.0;
const ROW_GAP: f64 = 26.0;
const MARGIN: f64 = 20.0;
const START: f64 = 30.0;
const ARC_STEP: f64 = 14.0;

/// XML text: `&`, `<`, `>` and quotes escaped.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(character),
        }
    }
    out
}

/// Each state's column: its distance from the initial state (unreachable
/// states after the last column).
fn columns(machine: &Machine) -> Vec<usize> {
    let count = machine.states.len();
    let mut column = vec![usize::MAX; count];
    let initial = machine.initial();
    column[initial] = 0;
    let mut queue = VecDeque::from([initial]);
    while let Some(state) = queue.pop_front() {
        for edge in machine.edges.iter().filter(|edge| edge.from == state) {
            if column[edge.to] == usize::MAX {
                column[edge.to] = column[state] + 1;
                queue.push_back(edge.to);
            }
        }
    }
    let last = column
        .iter()
        .filter(|c| **c != usize::MAX)
        .max()
        .copied()
        .unwrap_or(0);
    column
        .iter()
        .map(|c| if *c == usize::MAX { last + 1 } else { *c })
        .collect()
}

struct Placed {
    x: f64,
    y: f64,
    width: f64,
}

/// Counts and indices as coordinates (tables have far fewer than 2^32 states).
fn float(count: usize) -> f64 {
    f64::from(u32::try_from(count).unwrap_or(u32::MAX))
}

/// The picture, one line of SVG.
pub(crate) fn svg(machine: &Machine) -> String {
    let column = columns(machine);
    let columns_used = column.iter().max().map_or(1, |c| c + 1);
    // Order within a column: by the mean row of the predecessors placed so far.
    let mut rows: Vec<Vec<usize>> = vec![Vec::new(); columns_used];
    let mut row_of = vec![0.0f64; machine.states.len()];
    for (index, _) in machine.states.iter().enumerate() {
        rows[column[index]].push(index);
    }
    #[expect(
        clippy::needless_range_loop,
        reason = "each column reads the rows placed before it"
    )]
    for current in 1..columns_used {
        let mut keyed: Vec<(f64, usize)> = rows[current]
            .iter()
            .map(|&state| {
                let before: Vec<f64> = machine
                    .edges
                    .iter()
                    .filter(|edge| edge.to == state && column[edge.from] < current)
                    .map(|edge| row_of[edge.from])
                    .collect();
                let key = if before.is_empty() {
                    f64::MAX
                } else {
                    before.iter().sum::<f64>() / float(before.len())
                };
                (key, state)
            })
            .collect();
        keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        rows[current] = keyed.into_iter().map(|(_, state)| state).collect();
        for (row, &state) in rows[current].iter().enumerate() {
            row_of[state] = float(row);
        }
    }
    let widths: Vec<f64> = machine
        .states
        .iter()
        .map(|state| float(state.name.chars().count()) * CHAR_WIDTH + 24.0)
        .collect();
    let column_width: Vec<f64> = rows
        .iter()
        .map(|states| states.iter().map(|&s| widths[s]).fold(0.0, f64::max))
        .collect();
    let mut placed: Vec<Placed> = (0..machine.states.len())
        .map(|_| Placed {
            x: 0.0,
            y: 0.0,
            width: 0.0,
        })
        .collect();
    let mut x = MARGIN + START;
    for (index, states) in rows.iter().enumerate() {
        for (row, &state) in states.iter().enumerate() {
            placed[state] = Placed {
                x: x + (column_width[index] - widths[state]) / 2.0,
                y: MARGIN + float(row) * (BOX_HEIGHT + ROW_GAP),
                width: widths[state],
            };
        }
        x += column_width[index] + COLUMN_GAP;
    }
    let tallest = float(rows.iter().map(Vec::len).max().unwrap_or(1));
    // Edges back (or within a column) arc below every box, each at its own
    // depth, so they cross no state and their labels do not collide.
    let bottom = MARGIN + tallest * (BOX_HEIGHT + ROW_GAP) - ROW_GAP;
    let backward = float(
        machine
            .edges
            .iter()
            .filter(|edge| edge.from != edge.to && column[edge.to] <= column[edge.from])
            .count(),
    );
    let height = bottom + ARC_STEP * (backward + 1.0) + MARGIN;
    let width = x - COLUMN_GAP + MARGIN;

    let mut out = String::new();
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"statewright-diagram\" role=\"img\" \
         aria-label=\"state diagram of {name}\" width=\"{width:.0}\" height=\"{height:.0}\" \
         viewBox=\"0 0 {width:.0} {height:.0}\" style=\"color:inherit;max-width:100%;height:auto\" \
         font-family=\"sans-serif\" font-size=\"12\">",
        name = escape(&machine.name)
    );
    out.push_str(
        "<defs><marker id=\"sw-arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" \
         markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0L10,5L0,10z\" fill=\"currentColor\"/></marker></defs>",
    );
    let _ = write!(out, "<title>{}</title>", escape(&machine.name));
    // The start.
    let initial = &placed[machine.initial()];
    let middle = initial.y + BOX_HEIGHT / 2.0;
    let _ = write!(
        out,
        "<circle cx=\"{:.1}\" cy=\"{middle:.1}\" r=\"5\" fill=\"currentColor\"/>\
         <line x1=\"{:.1}\" y1=\"{middle:.1}\" x2=\"{:.1}\" y2=\"{middle:.1}\" stroke=\"currentColor\" marker-end=\"url(#sw-arrow)\"/>",
        MARGIN + 5.0,
        MARGIN + 10.0,
        initial.x
    );
    let mut arc = 0.0;
    for edge in &machine.edges {
        let (from, to) = (&placed[edge.from], &placed[edge.to]);
        let label = edge.event.map(|event| escape(&machine.events[event].name));
        let (path, label_x, label_y) = if edge.from == edge.to {
            let (left, top) = (from.x + from.width / 2.0, from.y);
            (
                format!(
                    "M{:.1},{top:.1}C{:.1},{:.1} {:.1},{:.1} {:.1},{top:.1}",
                    left - 8.0,
                    left - 20.0,
                    top - 24.0,
                    left + 20.0,
                    top - 24.0,
                    left + 8.0
                ),
                left,
                top - 24.0,
            )
        } else if column[edge.to] > column[edge.from] {
            let (x1, y1) = (from.x + from.width, from.y + BOX_HEIGHT / 2.0);
            let (x2, y2) = (to.x, to.y + BOX_HEIGHT / 2.0);
            (
                format!("M{x1:.1},{y1:.1}L{x2:.1},{y2:.1}"),
                f64::midpoint(x1, x2),
                f64::midpoint(y1, y2) - 4.0,
            )
        } else {
            arc += 1.0;
            let (x1, y1) = (from.x + from.width / 2.0 + 6.0, from.y + BOX_HEIGHT);
            let (x2, y2) = (to.x + to.width / 2.0 - 6.0, to.y + BOX_HEIGHT);
            let depth = bottom + ARC_STEP * arc;
            (
                format!("M{x1:.1},{y1:.1}L{x1:.1},{depth:.1}L{x2:.1},{depth:.1}L{x2:.1},{y2:.1}"),
                f64::midpoint(x1, x2),
                depth - 2.0,
            )
        };
        let _ = write!(
            out,
            "<path d=\"{path}\" fill=\"none\" stroke=\"currentColor\" stroke-opacity=\"0.7\" marker-end=\"url(#sw-arrow)\"/>"
        );
        if let Some(label) = label {
            let _ = write!(
                out,
                "<text x=\"{label_x:.1}\" y=\"{label_y:.1}\" text-anchor=\"middle\" fill=\"currentColor\" font-size=\"10\">{label}</text>"
            );
        }
    }
    for (index, state) in machine.states.iter().enumerate() {
        let place = &placed[index];
        let name = escape(&state.name);
        out.push_str("<g>");
        match note(&state.docs) {
            Some(docs) => {
                let _ = write!(out, "<title>{name}: {}</title>", escape(&docs));
            }
            None => {
                let _ = write!(out, "<title>{name}</title>");
            }
        }
        let _ = write!(
            out,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{BOX_HEIGHT}\" rx=\"8\" fill=\"none\" stroke=\"currentColor\"/>",
            place.x, place.y, place.width
        );
        if state.terminal.is_some() {
            let _ = write!(
                out,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" rx=\"6\" fill=\"none\" stroke=\"currentColor\"/>",
                place.x + 3.0,
                place.y + 3.0,
                place.width - 6.0,
                BOX_HEIGHT - 6.0
            );
        }
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" dominant-baseline=\"central\" fill=\"currentColor\">{name}</text></g>",
            place.x + place.width / 2.0,
            place.y + BOX_HEIGHT / 2.0
        );
    }
    out.push_str("</svg>");
    out
}

/// Above this many states the picture would not be readable (and would
/// weigh on every build): the enum's docs then point to the CLI instead.
pub(crate) const PICTURE_LIMIT: usize = 60;

/// The doc text that shows the picture in rustdoc, or `None` for a machine
/// too large to draw readably.
pub(crate) fn picture_doc(machine: &Machine) -> Option<String> {
    if machine.states.len() > PICTURE_LIMIT {
        return None;
    }
    Some(format!(
        "<div class=\"statewright-diagram\" style=\"overflow-x:auto\">{}</div>",
        svg(machine)
    ))
}

/// `item` with `#[doc = ""] #[doc = picture]` after its attributes: the
/// user's docs (and their summary line) come first.
pub(crate) fn with_doc(item: TokenStream, picture: &str) -> TokenStream {
    let trees: Vec<TokenTree> = item.into_iter().collect();
    let mut split = 0;
    while let (Some(TokenTree::Punct(hash)), Some(TokenTree::Group(group))) =
        (trees.get(split), trees.get(split + 1))
    {
        if hash.as_char() != '#' || group.delimiter() != Delimiter::Bracket {
            break;
        }
        split += 2;
    }
    let span = trees
        .get(split)
        .map_or_else(Span::call_site, TokenTree::span);
    let mut output: TokenStream = trees[..split].iter().cloned().collect();
    output.extend(quote_spanned! {span=> #[doc = ""] #[doc = #picture]});
    output.extend(trees[split..].iter().cloned());
    output
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            escape(r#"a < b & "c" > 'd'"#),
            "a &lt; b &amp; &quot;c&quot; &gt; &#39;d&#39;"
        );
    }
}
