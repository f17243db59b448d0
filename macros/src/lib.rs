//! The proc-macro entry point of statewright; see the `statewright` crate.

use proc_macro::TokenStream;

/// Turns an enum into a checked state machine; documented on `statewright::state_machine`.
#[proc_macro_attribute]
pub fn state_machine(args: TokenStream, item: TokenStream) -> TokenStream {
    statewright_codegen::expand(args.into(), item.into()).into()
}
