//! PostgreSQL v3 wire protocol: the few pieces the proxy must read or write itself.
//!
//! Everything else is relayed as bytes (see `session::relay`). `startup` reads the untagged
//! first packet, `frame` splits tagged messages, `backend` builds the messages the proxy sends.

pub mod backend;
pub mod frame;
pub mod startup;

/// Protocol version 3.0 as sent in a StartupMessage.
pub const PROTOCOL_V3: i32 = 196_608;
/// Magic code of SSLRequest.
pub const SSL_REQUEST: i32 = 80_877_103;
/// Magic code of GSSENCRequest.
pub const GSSENC_REQUEST: i32 = 80_877_104;
/// Magic code of CancelRequest.
pub const CANCEL_REQUEST: i32 = 80_877_102;
/// Largest startup packet accepted, as in Postgres (MAX_STARTUP_PACKET_LENGTH).
pub const MAX_STARTUP_LEN: usize = 10_000;

/// Errors while reading protocol bytes.
#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    /// The peer closed the socket.
    #[error("connection closed by peer")]
    Closed,
    /// Socket error.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// Bytes that break the protocol.
    #[error("{0}")]
    Invalid(String),
}
