use super::{cfg_all, Names};
use crate::model::Machine;
use crate::{diagram, fingerprint};
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

/// `impl StateMachine`, plus inherent `const` twins so the trait need not be in scope.
pub(super) fn expand_state_machine(machine: &Machine, names: &Names) -> TokenStream {
    let Names {
        machine: ident,
        kind,
        ..
    } = names;
    let name = &machine.name;
    let count = machine.states.len();
    let variants: Vec<_> = machine.states.iter().map(|state| &state.ident).collect();
    let initial = variants[machine.initial()];
    let matrix = bit_words(
        count * count,
        machine.edges.iter().map(|edge| edge.from * count + edge.to),
    );
    let terminal = bit_words(
        count,
        machine
            .states
            .iter()
            .enumerate()
            .filter(|(_, state)| state.terminal.is_some())
            .map(|(index, _)| index),
    );
    let (matrix_words, terminal_words) = (matrix.len(), terminal.len());
    let cfgs: Vec<TokenStream> = (0..count).map(|state| cfg_all(machine, &[state])).collect();
    let edges = machine.edges.iter().map(|edge| {
        let (from, to) = (variants[edge.from], variants[edge.to]);
        let cfg = cfg_all(machine, &[edge.from, edge.to]);
        let event = match edge.event {
            Some(event) => {
                let label = &machine.events[event].name;
                quote!(__Some(#label))
            }
            None => quote!(__None),
        };
        quote!(#cfg __Edge { from: __K::#from, to: __K::#to, event: #event })
    });
    let mermaid = diagram::mermaid(machine);
    let dot = diagram::dot(machine);
    let fingerprint = fingerprint::literal(machine);
    let doc_can = format!(
        "Whether the table of `{ident}` has an edge `from -> to`: one load from a constant bit matrix, usable in `const`."
    );
    let doc_transition = format!(
        "Replaces the state with `next` if the table of `{ident}` allows it and returns the previous state.\n\n\
         # Errors\n\nA `TransitionError` if and only if there is no edge from the current state's kind to `next`'s; the state is then left untouched."
    );
    let lints = &machine.lints;
    let trait_impl = quote_spanned! {ident.span()=>
        #lints
        #[automatically_derived]
        impl ::statewright::StateMachine for #ident
    };
    quote! {
        #lints
        #[automatically_derived]
        impl #ident {
            /// The transition table as a Mermaid `stateDiagram-v2`.
            pub const MERMAID: &'static str = #mermaid;
            /// The transition table as a Graphviz `digraph`.
            pub const DOT: &'static str = #dot;

            /// The kind of the current state.
            #[must_use]
            #[inline]
            pub const fn kind(&self) -> #kind {
                match self {
                    #(#cfgs #ident::#variants { .. } => #kind::#variants,)*
                }
            }

            #[doc = #doc_can]
            #[must_use]
            #[inline]
            pub const fn can_transition(from: #kind, to: #kind) -> bool {
                const __MATRIX: [u64; #matrix_words] = [#(#matrix),*];
                let bit = from as usize * #count + to as usize;
                (__MATRIX[bit / 64] >> (bit % 64)) & 1 == 1
            }

            /// Whether `kind` is a `#[terminal]` state.
            #[must_use]
            #[inline]
            pub const fn is_terminal(kind: #kind) -> bool {
                const __TERMINAL: [u64; #terminal_words] = [#(#terminal),*];
                let bit = kind as usize;
                (__TERMINAL[bit / 64] >> (bit % 64)) & 1 == 1
            }

            #[doc = #doc_transition]
            #[inline]
            pub fn transition_to(&mut self, next: Self) -> ::core::result::Result<Self, ::statewright::TransitionError<#kind>> {
                <Self as ::statewright::StateMachine>::transition_to(self, next)
            }
        }

        #trait_impl {
            type Kind = #kind;
            const NAME: &'static str = #name;
            // Not `ALL`: a state of that name (an error) would shadow it.
            const STATES: &'static [#kind] = &[#(#cfgs #kind::#variants),*];
            const INITIAL: #kind = #kind::#initial;
            // Short local names: a table of thousands of edges stays small.
            const EDGES: &'static [::statewright::Edge<#kind>] = {
                use ::core::option::Option::{None as __None, Some as __Some};
                use ::statewright::Edge as __Edge;
                use #kind as __K;
                &[#(#edges),*]
            };
            const MERMAID: &'static str = #mermaid;
            const DOT: &'static str = #dot;
            const FINGERPRINT: u64 = #fingerprint;

            #[inline]
            fn kind(&self) -> #kind {
                #ident::kind(self)
            }

            #[inline]
            fn can_transition(from: #kind, to: #kind) -> bool {
                #ident::can_transition(from, to)
            }

            #[inline]
            fn is_terminal(kind: #kind) -> bool {
                #ident::is_terminal(kind)
            }
        }
    }
}

/// `bits` set in a little-endian array of `u64` words of `len` bits.
fn bit_words(len: usize, bits: impl Iterator<Item = usize>) -> Vec<u64> {
    let mut words = vec![0_u64; len.div_ceil(64).max(1)];
    for bit in bits {
        words[bit / 64] |= 1 << (bit % 64);
    }
    words
}
