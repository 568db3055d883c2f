//! The insight agent (issue 12, in progress): deterministic statistics on an answer's rows.
//! So far the statistics themselves (`stats`); nothing calls them yet.

pub mod stats;
