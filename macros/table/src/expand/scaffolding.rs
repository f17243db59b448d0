//! Hidden items beside the enum that the generated modules reach it by, and
//! the checks that a user type has not taken a generated name.

use crate::model::Machine;
use proc_macro2::{Ident, TokenStream};
use quote::{quote, quote_spanned};

/// The anchor the modules import the machine through, and the aliases for
/// field types the typestate module would shadow; both declared beside the
/// enum, where names mean what they mean in the enum.
pub(super) fn expand_scaffolding(machine: &Machine) -> TokenStream {
    let (ident, vis, lints) = (&machine.ident, &machine.vis, &machine.lints);
    let anchor = anchor(machine);
    let aliases = machine.aliases.iter().map(|(alias, ty)| {
        quote! {
            #lints
            #[doc(hidden)]
            #[allow(non_camel_case_types)]
            #vis type #alias = #ty;
        }
    });
    quote! {
        #lints
        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        #vis type #anchor = #ident;
        #(#aliases)*
    }
}

/// `use super::<anchor> as __Machine;` for a generated module. Inside a
/// function body a module cannot see the function's items, and this import
/// is then the one error, named to say why.
pub(super) fn import_machine(machine: &Machine) -> TokenStream {
    let anchor = anchor(machine);
    let alias = &machine.self_in_module;
    quote_spanned! {machine.ident.span()=>
        use super::#anchor as #alias;
    }
}

fn anchor(machine: &Machine) -> Ident {
    crate::names::anchor(&machine.name, machine.ident.span())
}

/// One error, in our words, when a user type has the name of the kind or
/// event enum: the glob import of the generated enum is then shadowed, so
/// the bare name is not ours.
pub(super) fn expand_name_checks(machine: &Machine) -> TokenStream {
    let mut checks = vec![name_check(machine, &machine.kind, "kind enum", "kind")];
    if !machine.events.is_empty() {
        checks.push(name_check(
            machine,
            &machine.event_enum,
            "event enum",
            "event",
        ));
    }
    quote!(#(#checks)*)
}

fn name_check(machine: &Machine, generated: &Ident, item: &str, option: &str) -> TokenStream {
    let items = &machine.items;
    let name = crate::idents::unraw(generated);
    let message = format!(
        "`{name}` is a type of yours, but `#[state_machine]` gives this name to the {item} of `{}`",
        machine.name
    );
    let note = format!(
        "rename your type, or name the generated one with `#[state_machine({option} = OtherName)]`"
    );
    let mut bare = generated.clone();
    bare.set_span(machine.ident.span());
    let check = quote_spanned! {machine.ident.span()=>
        const _: fn() = __generated::<#bare>;
    };
    let lints = &machine.lints;
    quote! {
        #lints
        const _: () = {
            #[diagnostic::on_unimplemented(message = #message, label = "this name is taken", note = #note)]
            trait Generated {}
            impl Generated for #items::#generated {}
            fn __generated<T: Generated + ?Sized>() {}
            #check
        };
    }
}
