//! Querent: a PostgreSQL-wire proxy. See README.md and docs/ for the user's view and
//! docs/ARCHITECTURE.md for the design.

#![warn(missing_docs)]

pub mod admin;
pub mod api;
pub mod ask;
pub mod audit;
pub mod auth;
pub mod cancel;
pub mod catalog;
pub mod config;
pub mod error;
pub mod guard;
pub mod history;
pub mod metrics;
pub mod mysql;
pub mod net;
pub mod policy;
pub mod protocol;
pub mod server;
pub mod session;
pub mod telemetry;
pub mod upstream;
pub mod workers;
