//! MySQL and MariaDB behind the Postgres front (issue 13, in progress). So far the
//! translator from the PostgreSQL dialect to MySQL's (`translate`); nothing uses it yet.

pub mod translate;
