//! Tests of `statewright-table` that need a parsed enum.

mod diagram;
mod validate;
