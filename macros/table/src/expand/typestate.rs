use super::{bindings, docs, docs_then, parameters, shape, Names};
use super::{cfg_all, states_existing_before};
use crate::model::Machine;
use crate::model::{Fields, Style};
use proc_macro2::TokenStream;
use quote::quote;

/// The typestate module: a struct per state, conversions, `TransitionTo`
/// for every legal edge and a method per named edge.
pub(super) fn expand_typestate(machine: &Machine, names: &Names) -> TokenStream {
    let ident = &names.machine;
    let vis = &machine.vis;
    let module = &machine.module;
    let derives = &machine.derives;
    let serde_derives = &machine.serde_derives;
    let inner_vis = &machine.inner_vis;
    let machine_alias = &machine.self_in_module;
    let legal_edge = &machine.module_trait;
    let structs = machine.states.iter().enumerate().map(|(index, state)| {
        let name = &state.ident;
        let doc = docs_then(
            &state.docs,
            &format!("The `{name}` state of `{ident}` as a type of its own."),
        );
        let body = struct_body(&state.fields);
        let bound = bindings(&state.fields, "__");
        let as_struct = shape(&quote!(#name), &state.fields, &bound);
        let as_enum = shape(&quote!(#machine_alias::#name), &state.fields, &bound);
        let cfg = cfg_all(machine, &[index]);
        let position = states_existing_before(machine, index);
        let default = (machine.derives_default && state.default)
            .then(|| quote!(#[derive(::core::default::Default)]));
        let attrs = &state.attrs;
        quote! {
            #doc
            #cfg
            #attrs
            #[derive(#(#derives,)* #(#serde_derives),*)]
            #default
            #inner_vis struct #name #body

            #cfg
            #[automatically_derived]
            impl ::statewright::Typestate for #name {
                type Machine = #machine_alias;
            }

            #cfg
            #[automatically_derived]
            impl #name {
                /// Moves to `next`; compiles only when the table has an edge to `Next`.
                ///
                /// Generic over the target (rather than left to the trait) so that an
                /// illegal target is reported as a missing edge, not a type mismatch.
                #[must_use = "the returned state is the machine from now on"]
                #[inline]
                pub fn to<Next: ::statewright::Typestate>(self, next: Next) -> Next
                where
                    Self: #legal_edge<Next>,
                {
                    next
                }
            }


            #cfg
            #[automatically_derived]
            impl ::core::convert::From<#name> for #machine_alias {
                #[inline]
                fn from(state: #name) -> Self {
                    let #as_struct = state;
                    #as_enum
                }
            }

            #cfg
            #[automatically_derived]
            impl ::core::convert::TryFrom<#machine_alias> for #name {
                type Error = ::statewright::WrongState<#machine_alias>;

                #[inline]
                fn try_from(machine: #machine_alias) -> ::core::result::Result<Self, Self::Error> {
                    match machine {
                        #as_enum => ::core::result::Result::Ok(#as_struct),
                        actual => ::core::result::Result::Err(::statewright::WrongState {
                            expected: <#machine_alias as ::statewright::StateMachine>::STATES[#position],
                            actual,
                        }),
                    }
                }
            }
        }
    });
    let legal_edge = &machine.module_trait;
    let transitions = (0..machine.states.len()).flat_map(|from| {
        machine.targets(from).into_iter().map(move |to| {
            let cfg = cfg_all(machine, &[from, to]);
            let (from, to) = (&machine.states[from].ident, &machine.states[to].ident);
            quote! {
                #cfg
                impl ::statewright::TransitionTo<#to> for #from {}
                #cfg
                impl #legal_edge<#to> for #from {}
            }
        })
    });
    let message = format!(
        "illegal transition in `{}`: no edge `{{Self}}` -> `{{Next}}`",
        machine.name
    );
    // One `impl` per source state: the expansion grows with the edges.
    let methods = machine
        .states
        .iter()
        .enumerate()
        .filter_map(|(from, source)| {
            let methods: Vec<TokenStream> = machine
                .edges_from(from)
                .filter_map(|edge| {
                    let event = &machine.events[edge.event?].ident;
                    let target = &machine.states[edge.to];
                    let to = &target.ident;
                    let bound = bindings(&target.fields, "field_");
                    let params = parameters(&target.fields, &bound);
                    let build = shape(&quote!(#to), &target.fields, &bound);
                    let doc = format!("Event `{event}`: goes to `{to}`.");
                    let cfg = cfg_all(machine, &[edge.to]);
                    Some(quote! {
                        #[doc = #doc]
                        #cfg
                        #[must_use = "the returned state is the machine"]
                        #[inline]
                        pub fn #event(self, #params) -> #to {
                            #build
                        }
                    })
                })
                .collect();
            if methods.is_empty() {
                return None;
            }
            let (from, cfg) = (&source.ident, cfg_all(machine, &[from]));
            Some(quote! {
                #cfg
                #[automatically_derived]
                impl #from {
                    #(#methods)*
                }
            })
        });
    let doc = format!(
        "Typestates of `{ident}`: one struct per state. `a.to(b)` and the event methods exist only for edges of the table, so an illegal transition does not compile.\n\nGenerated by `#[state_machine]`."
    );
    let import_machine = super::scaffolding::import_machine(machine);
    let lints = &machine.lints;
    quote! {
        #[doc = #doc]
        #lints
        // A private machine need not use every typestate the table implies.
        #[allow(dead_code)]
        #vis mod #module {
            #[allow(unused_imports)]
            use super::*;
            // The one way in to the machine from here: inside a function
            // body, a module cannot see the function's items, and this
            // import is then the one error, named to say why.
            #import_machine

            /// The edges of the table, for `to`: an illegal one is reported
            /// with the machine's name.
            #[doc(hidden)]
            #[diagnostic::on_unimplemented(
                message = #message,
                label = "`{Self}` cannot go to `{Next}`",
                note = "legal edges are declared on the enum with `#[to(..)]`, `#[on(event => ..)]` and `#[from_any]`"
            )]
            #inner_vis trait #legal_edge<Next> {}

            // No typestate has exactly one edge, or rustc would infer the
            // target of `a.to(b)` from it and report a type mismatch. (A
            // blanket impl of this hidden trait, which has no methods, puts
            // nothing on other types; `TransitionTo` is never implemented so.)
            #[automatically_derived]
            impl<T> #legal_edge<::statewright::__private::NoTarget> for T {}

            #(#structs)*
            #(#transitions)*
            #(#methods)*
        }
    }
}

/// `;`, `(pub A, pub B);` or `{ pub a: A }` with each field's docs.
fn struct_body(fields: &Fields) -> TokenStream {
    let items = fields.fields.iter().enumerate().map(|(index, field)| {
        let doc = if field.docs.is_empty() {
            let generated = match &field.ident {
                Some(name) => format!("The `{name}` field."),
                None => format!("Field {index}."),
            };
            quote!(#[doc = #generated])
        } else {
            docs(&field.docs)
        };
        let (ty, cfg, attrs) = (&field.inside, &field.cfg, &field.attrs);
        match &field.ident {
            Some(name) => quote!(#doc #cfg #attrs pub #name: #ty),
            None => quote!(#doc #attrs pub #ty),
        }
    });
    match fields.style {
        Style::Unit => quote!(;),
        Style::Tuple => quote!((#(#items),*);),
        Style::Named => quote!({ #(#items),* }),
    }
}
