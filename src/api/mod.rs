//! The HTTP API on the admin port, for API clients and the page: `POST /v1/ask` (a question
//! in, the answer out as JSON: summary, SQL, columns, rows, insights, chart, follow-ups,
//! timings) and `GET /v1/openapi.json`. A request acts for a principal as a wire session
//! does — a JWT bearer token verified like a JWT login (`auth = jwt`, or any mode with
//! `jwt.*` keys), or, only where `auth = trust`, the user the body names — and goes through
//! the same policies and guard. Errors have one JSON shape with the SQLSTATE.

mod ask;
pub mod run;

use crate::auth::Principal;
use crate::config::AuthMode;
use crate::error::PgError;
use crate::server::Shared;
pub use ask::AskIn;
use std::sync::Arc;
use std::time::Duration;

/// The OpenAPI 3 document of the API.
pub const OPENAPI: &str = include_str!("openapi.json");

/// Longest request body accepted, in bytes.
pub const MAX_BODY: usize = 64 * 1024;

/// Status, content type, body.
pub type Reply = (&'static str, &'static str, String);

/// An API error: its HTTP status and the PostgreSQL-style error it carries.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status line text.
    pub status: &'static str,
    /// The error.
    pub error: PgError,
}

impl ApiError {
    /// An error with an explicit status.
    pub fn new(status: &'static str, code: &str, message: impl Into<String>, hint: &str) -> Self {
        ApiError {
            status,
            error: PgError::error(code, message).with_hint(hint),
        }
    }

    /// The HTTP status of an ASK or guard error, by its SQLSTATE.
    pub fn from_pg(error: PgError) -> Self {
        let status = match error.code.as_str() {
            "28000" | "28P01" => "401 Unauthorized",
            "42501" | "25006" => "403 Forbidden",
            "QA002" => "404 Not Found",
            "QA005" => "429 Too Many Requests",
            "QA004" => "502 Bad Gateway",
            "57014" => "504 Gateway Timeout",
            "54000" => "413 Payload Too Large",
            c if c.starts_with("08") => "502 Bad Gateway",
            c if c.starts_with("XX") => "500 Internal Server Error",
            "22023" | "22P02" | "42601" => "400 Bad Request",
            _ => "422 Unprocessable Entity",
        };
        ApiError { status, error }
    }

    /// The reply: `{"error": {"code", "message", "hint", "detail"}}`.
    pub fn reply(&self) -> Reply {
        let body = serde_json::json!({
            "error": {
                "code": self.error.code,
                "message": self.error.message,
                "hint": self.error.hint,
                "detail": self.error.detail,
            }
        });
        (self.status, "application/json", format!("{body}\n"))
    }
}

/// A request's head: method, path and the headers the API reads.
pub struct Head<'a> {
    /// `Authorization`.
    pub authorization: Option<&'a str>,
    /// `Content-Type`.
    pub content_type: Option<&'a str>,
}

/// The value of header `name` (case-insensitive) in the request head `head`.
pub fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.split("\r\n").skip(1).find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Conversations of API clients: a session id → its user and last answer (bounded, expiring).
pub struct Sessions {
    cache: moka::sync::Cache<String, Arc<(String, crate::ask::Asked)>>,
}

impl Default for Sessions {
    fn default() -> Self {
        Sessions {
            cache: moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_idle(Duration::from_secs(3600))
                .build(),
        }
    }
}

impl Sessions {
    /// The last answer of session `id`, when it belongs to `user`.
    pub fn get(&self, id: &str, user: &str) -> Option<crate::ask::Asked> {
        let held = self.cache.get(id)?;
        (held.0 == user).then(|| held.1.clone())
    }

    /// Remembers `asked` as session `id`'s last answer.
    pub fn put(&self, id: &str, user: &str, asked: crate::ask::Asked) {
        self.cache
            .insert(id.to_string(), Arc::new((user.to_string(), asked)));
    }

    /// Forgets session `id` (when it belongs to `user`).
    pub fn forget(&self, id: &str, user: &str) {
        if self.get(id, user).is_some() {
            self.cache.invalidate(id);
        }
    }
}

/// A new unguessable session id (128 random bits, hex).
pub fn new_session_id() -> String {
    use rand::RngCore;
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Who the request acts for: the bearer token's principal; without one, the body's `user`
/// only where `auth = trust`.
pub fn principal(
    shared: &Shared,
    head: &Head<'_>,
    user: Option<&str>,
) -> Result<Principal, ApiError> {
    let bearer = head.authorization.and_then(|a| {
        let (scheme, token) = a.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
    });
    match (bearer, shared.jwt.as_ref()) {
        (Some(token), Some(jwt)) => {
            let p = jwt.verify_bearer(token).map_err(|e| {
                ApiError::new(
                    "401 Unauthorized",
                    "28000",
                    format!("the bearer token was not accepted: {}", e.reason()),
                    "send a valid JWT signed with a key of jwt.* as Authorization: Bearer <token>",
                )
            })?;
            if user.is_some_and(|u| u != p.user) {
                return Err(ApiError::new(
                    "403 Forbidden",
                    "28000",
                    "the body's user differs from the token's user",
                    "leave out \"user\": the token says who you are",
                ));
            }
            Ok(p)
        }
        (Some(_), None) => Err(ApiError::new(
            "401 Unauthorized",
            "28000",
            "this server verifies no JWTs, so a bearer token cannot be checked",
            "configure jwt.secret, jwt.public_keys or jwt.jwks (see docs/AUTH.md)",
        )),
        (None, _) if shared.config.auth == AuthMode::Trust => {
            let name = user
                .map(str::to_string)
                .unwrap_or_else(|| shared.pool.target().user.clone());
            let users = shared.users();
            let entry = users.users.get(&name);
            Ok(Principal {
                user: name,
                roles: entry.map(|e| e.roles.clone()).unwrap_or_default(),
                attributes: entry.map(|e| e.attributes.clone()).unwrap_or_default(),
            })
        }
        (None, _) => Err(ApiError::new(
            "401 Unauthorized",
            "28000",
            "no bearer token: POST /v1/ask needs Authorization: Bearer <JWT>",
            "get a token from your identity provider (the same one the wire protocol accepts)",
        )),
    }
}

/// `POST /v1/ask` with the request head `head_text` and body `body`.
pub async fn post_ask(shared: &Shared, head_text: &str, body: &[u8]) -> Reply {
    let head = Head {
        authorization: header(head_text, "authorization"),
        content_type: header(head_text, "content-type"),
    };
    if head
        .content_type
        .is_some_and(|c| !c.to_ascii_lowercase().starts_with("application/json"))
    {
        return ApiError::new(
            "415 Unsupported Media Type",
            "22P02",
            "the body must be JSON",
            "send Content-Type: application/json",
        )
        .reply();
    }
    let input: AskIn = match serde_json::from_slice(body) {
        Ok(i) => i,
        Err(e) => {
            return ApiError::new(
                "400 Bad Request",
                "22P02",
                format!("the body is not a valid request: {e}"),
                "send {\"question\": \"revenue by region in 2024\"} (see GET /v1/openapi.json)",
            )
            .reply()
        }
    };
    let principal = match principal(shared, &head, input.user.as_deref()) {
        Ok(p) => p,
        Err(e) => return e.reply(),
    };
    match ask::ask(shared, &principal, input).await {
        Ok(v) => ("200 OK", "application/json", format!("{v}\n")),
        Err(e) => e.reply(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_sqlstate() {
        let s = |c: &str| ApiError::from_pg(PgError::error(c, "m")).status;
        assert_eq!(s("QA001"), "422 Unprocessable Entity");
        assert_eq!(s("42501"), "403 Forbidden");
        assert_eq!(s("QA002"), "404 Not Found");
        assert_eq!(s("08006"), "502 Bad Gateway");
        assert_eq!(s("XX000"), "500 Internal Server Error");
        let (status, ctype, body) = ApiError::new("400 Bad Request", "22P02", "bad", "fix").reply();
        assert_eq!((status, ctype), ("400 Bad Request", "application/json"));
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["error"]["code"], "22P02");
        assert_eq!(v["error"]["hint"], "fix");
    }

    #[test]
    fn headers_and_documents() {
        let head = "POST /v1/ask HTTP/1.1\r\nHost: x\r\nauthorization: Bearer abc\r\n\r\n";
        assert_eq!(header(head, "Authorization"), Some("Bearer abc"));
        assert_eq!(header(head, "content-type"), None);
        let doc: serde_json::Value = serde_json::from_str(OPENAPI).unwrap();
        assert_eq!(doc["openapi"], "3.0.3");
        assert!(doc["paths"]["/v1/ask"]["post"].is_object());
        assert_eq!(new_session_id().len(), 32);
    }
}
