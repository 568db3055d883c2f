//! The planner's rules, grouped by what they read.

pub(super) mod absence;
pub(super) mod counting;
pub(super) mod elements;
pub(super) mod flags;
pub(super) mod matching;
pub(super) mod measure;
pub(super) mod ordering;
pub(super) mod periods;
pub(super) mod ratio;
pub(super) mod rows;
pub(super) mod shape;
pub(super) mod stored;
pub(super) mod words;
