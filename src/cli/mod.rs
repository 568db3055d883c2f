//! Command-line pieces of the `querent` binary.
pub mod ask;
pub mod catalog;
pub mod history;
