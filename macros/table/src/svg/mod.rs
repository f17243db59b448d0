//! The state diagram as an SVG picture, laid out here (no JavaScript, no
//! fonts or files fetched): the macro puts it into the enum's rustdoc, and
//! the CLI prints it (`--format svg`).
//!
//! Layout: layered, as Graphviz's `dot` would draw it (`layout` builds the
//! ordered layered graph, `place` gives it coordinates left to right, or
//! top to bottom when that would not fit a docs page). Strokes and text use
//! `currentColor`, so the picture follows rustdoc's light and dark themes.
//! Initial: a dot and an arrow; terminal: a double border; doc comments:
//! tooltips.

mod layout;
mod order;
mod place;
mod route;
#[cfg(test)]
mod tests;

use core::fmt::Write;

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use quote::quote_spanned;

use crate::diagram::{escaped, note};
use crate::model::Machine;
use layout::Graph;
use place::{layout, Route, Segment};

/// XML text: `&`, `<`, `>` and quotes escaped.
pub fn escape(text: &str) -> String {
    escaped(text, |character| match character {
        '&' => Some("&amp;"),
        '<' => Some("&lt;"),
        '>' => Some("&gt;"),
        '"' => Some("&quot;"),
        '\'' => Some("&#39;"),
        _ => None,
    })
}

/// The picture, one line of SVG.
pub fn svg(machine: &Machine) -> String {
    let graph = Graph {
        states: machine
            .states
            .iter()
            .map(|state| state.name.as_str())
            .collect(),
        edges: machine.named_edges().collect(),
        initial: machine.initial(),
    };
    let drawn = layout(&graph);
    // Single quotes: the picture becomes a string literal in a `#[doc]`,
    // where every double quote would need a backslash.
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg xmlns='http://www.w3.org/2000/svg' class='statewright-diagram' role='img' \
         aria-label='state diagram of {name}' width='{width}' height='{height}' \
         viewBox='0 0 {width} {height}' font-family='sans-serif' font-size='12'>\
         <defs><marker id='sw-arrow' viewBox='0 0 10 10' refX='10' refY='5' markerWidth='7' \
         markerHeight='7' orient='auto-start-reverse'><path d='M0,0L10,5L0,10z' fill='currentColor'/></marker></defs>\
         <title>{name}</title>",
        name = escape(&machine.name),
        width = Px(drawn.width.ceil()),
        height = Px(drawn.height.ceil()),
    );
    // Edges share their style through a group (and follow the theme's
    // colour through `currentColor`).
    out.push_str(
        "<g fill='none' stroke='currentColor' stroke-opacity='0.7' marker-end='url(#sw-arrow)'>",
    );
    let (dot, arrow) = &drawn.start;
    let _ = write!(
        out,
        "<circle cx='{}' cy='{}' r='5' fill='currentColor'/>",
        Px(dot.0),
        Px(dot.1)
    );
    let loops = drawn.loops.iter().map(|drawn| &drawn.route);
    for route in core::iter::once(arrow)
        .chain(&drawn.routes)
        .chain(loops.clone())
    {
        out.push_str("<path d='");
        path(&mut out, route);
        out.push_str("'/>");
    }
    out.push_str("</g><g text-anchor='middle' fill='currentColor' font-size='10'>");
    for (place, text) in drawn
        .routes
        .iter()
        .chain(loops)
        .filter_map(|route| route.label.as_ref())
    {
        let _ = write!(
            out,
            "<text x='{}' y='{}'>{}</text>",
            Px(place.x + place.width / 2.0),
            Px(place.y + place.height - 2.0),
            escape(text)
        );
    }
    out.push_str("</g><g fill='none' stroke='currentColor'>");
    for (index, state) in machine.states.iter().enumerate() {
        let place = &drawn.boxes[index];
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
            "<rect x='{}' y='{}' width='{}' height='{}' rx='8'/>",
            Px(place.x),
            Px(place.y),
            Px(place.width),
            Px(place.height)
        );
        if state.terminal.is_some() {
            let _ = write!(
                out,
                "<rect x='{}' y='{}' width='{}' height='{}' rx='6'/>",
                Px(place.x + 3.0),
                Px(place.y + 3.0),
                Px(place.width - 6.0),
                Px(place.height - 6.0)
            );
        }
        let _ = write!(
            out,
            "<text x='{}' y='{}' text-anchor='middle' dominant-baseline='central' fill='currentColor' stroke='none'>{name}</text></g>",
            Px(place.x + place.width / 2.0),
            Px(place.y + place.height / 2.0)
        );
    }
    out.push_str("</g></svg>");
    out
}

/// A coordinate, to a tenth of a pixel, without a trailing `.0`: the
/// picture is mostly numbers, and it is inlined in every page that shows it.
struct Px(f64);

impl core::fmt::Display for Px {
    #[expect(
        clippy::cast_possible_truncation,
        reason = "coordinates are far below 2^53 tenths (and `as` saturates)"
    )]
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Integer formatting: float formatting with a precision is slow, and
        // a picture has thousands of numbers.
        let tenths = (self.0 * 10.0).round() as i64;
        let sign = if tenths < 0 { "-" } else { "" };
        let (whole, tenth) = (tenths.unsigned_abs() / 10, tenths.unsigned_abs() % 10);
        if tenth == 0 {
            write!(formatter, "{sign}{whole}")
        } else {
            write!(formatter, "{sign}{whole}.{tenth}")
        }
    }
}

/// A route as SVG path data.
fn path(out: &mut String, route: &Route) {
    let _ = write!(out, "M{},{}", Px(route.start.0), Px(route.start.1));
    for segment in &route.segments {
        let _ = match *segment {
            Segment::Line((x, y)) => write!(out, "L{},{}", Px(x), Px(y)),
            Segment::Gap((x, y)) => write!(out, "M{},{}", Px(x), Px(y)),
            Segment::Curve((x1, y1), (x2, y2), (x, y)) => write!(
                out,
                "C{},{} {},{} {},{}",
                Px(x1),
                Px(y1),
                Px(x2),
                Px(y2),
                Px(x),
                Px(y)
            ),
        };
    }
}

/// Above this many states the picture would not be readable (and would
/// weigh on every build): the enum's docs then point to the CLI instead.
pub const PICTURE_LIMIT: usize = 60;

/// The doc text that shows the picture in rustdoc (or, for a machine too
/// large to draw readably, says where to find it); `None` for a machine
/// declared `no_picture`.
pub fn picture_doc(machine: &Machine) -> Option<String> {
    if machine.no_picture {
        return None;
    }
    if machine.states.len() > PICTURE_LIMIT {
        return Some(format!(
            "*The state diagram of these {} states is too large to draw here: \
             `statewright diagram FILE --format svg` draws it, and the `MERMAID` \
             and `DOT` consts hold it.*",
            machine.states.len()
        ));
    }
    Some(format!(
        "<div class='statewright-diagram' style='overflow-x:auto'>{}</div>",
        svg(machine)
    ))
}

/// `item` with `#[doc = ""] #[doc = picture]` after its attributes: the
/// user's docs (and their summary line) come first.
pub fn with_doc(item: TokenStream, picture: &str) -> TokenStream {
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
