//! The one error shape a client sees: a Postgres ErrorResponse with severity, SQLSTATE,
//! message, and usually a hint (ARCHITECTURE: "a person reading an error in psql should know
//! what to do next").

use std::fmt;

/// Severity of an ErrorResponse. `Fatal` closes the connection afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The statement failed; the session goes on.
    Error,
    /// The session ends.
    Fatal,
}

impl Severity {
    /// The text Postgres puts in the `S` and `V` fields.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "ERROR",
            Severity::Fatal => "FATAL",
        }
    }
}

/// An error for the client, encoded as a Postgres ErrorResponse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgError {
    /// ERROR or FATAL.
    pub severity: Severity,
    /// Five-character SQLSTATE.
    pub code: String,
    /// Primary message: names what was wrong.
    pub message: String,
    /// Optional detail line.
    pub detail: Option<String>,
    /// What to do next.
    pub hint: Option<String>,
}

impl PgError {
    /// A FATAL error (the connection closes after it).
    pub fn fatal(code: &str, message: impl Into<String>) -> Self {
        PgError {
            severity: Severity::Fatal,
            code: code.to_string(),
            message: message.into(),
            detail: None,
            hint: None,
        }
    }

    /// An ERROR (the session continues).
    pub fn error(code: &str, message: impl Into<String>) -> Self {
        PgError {
            severity: Severity::Error,
            ..PgError::fatal(code, message)
        }
    }

    /// Adds a hint.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Adds a detail line.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

impl fmt::Display for PgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.severity.as_str(),
            self.code,
            self.message
        )?;
        if let Some(h) = &self.hint {
            write!(f, " (hint: {h})")?;
        }
        Ok(())
    }
}

impl std::error::Error for PgError {}

/// SQLSTATE codes used by the proxy itself.
pub mod sqlstate {
    /// protocol_violation
    pub const PROTOCOL_VIOLATION: &str = "08P01";
    /// sqlclient_unable_to_establish_sqlconnection
    pub const CANNOT_CONNECT: &str = "08001";
    /// connection_failure
    pub const CONNECTION_FAILURE: &str = "08006";
    /// invalid_authorization_specification
    pub const INVALID_AUTHORIZATION: &str = "28000";
    /// invalid_password
    pub const INVALID_PASSWORD: &str = "28P01";
    /// feature_not_supported
    pub const FEATURE_NOT_SUPPORTED: &str = "0A000";
    /// admin_shutdown
    pub const ADMIN_SHUTDOWN: &str = "57P01";
    /// idle_session_timeout
    pub const IDLE_SESSION_TIMEOUT: &str = "57P05";
    /// too_many_connections
    pub const TOO_MANY_CONNECTIONS: &str = "53300";
    /// internal_error
    pub const INTERNAL_ERROR: &str = "XX000";
}
