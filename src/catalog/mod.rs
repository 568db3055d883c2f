//! What Querent knows about a database: introspection and profiling of the upstream
//! (`introspect`, `profile`, `pgstats`), business annotations from `schemas/*.toml`
//! (`annotations`), keys and relationships inferred where the database declares none (`infer`),
//! the join graph (`graph`), schema linking of a question (`text`, `fuzzy`,
//! `link`) and a role's filtered view (`view`). See docs/CATALOG.md.

pub mod annotations;
pub mod fuzzy;
pub mod graph;
pub mod infer;
pub mod introspect;
pub mod link;
pub mod model;
mod pgstats;
pub mod profile;
pub mod report;
pub mod store;
pub mod suggest;
pub mod text;
pub mod view;

pub use model::*;

#[cfg(test)]
pub(crate) mod tests;
#[cfg(test)]
mod tests_examples;
#[cfg(test)]
mod tests_graph;
#[cfg(test)]
mod tests_view;
