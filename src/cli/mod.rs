//! Command-line pieces of the `querent` binary.
pub mod catalog;
