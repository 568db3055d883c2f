//! Client authentication: trust, SCRAM-SHA-256 and cleartext-over-TLS against the users file,
//! or a JWT as the cleartext password (`jwt`). Every session ends up with a [`Principal`].

pub mod jwt;
pub mod scram;
pub mod throttle;
pub mod users;

use crate::config::AuthMode;
use crate::error::{sqlstate, PgError};
use crate::protocol::backend;
use crate::protocol::frame::{read_message, take_cstr, take_i32};
use bytes::BytesMut;
use scram::{ScramError, ScramServer, Verifier};
use std::collections::BTreeMap;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use users::UsersFile;

/// Who a session acts for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Principal {
    /// Login name.
    pub user: String,
    /// Roles from the users file or the JWT's roles claim.
    pub roles: Vec<String>,
    /// Attributes usable by row filters.
    pub attributes: BTreeMap<String, String>,
}

const MAX_AUTH_MESSAGE: usize = 8192;

fn wrong_password(user: &str) -> PgError {
    PgError::fatal(
        sqlstate::INVALID_PASSWORD,
        format!("password authentication failed for user \"{user}\""),
    )
    .with_hint("check the password; an administrator can reset it with `querent user add NAME --password ...`")
}

/// Cleartext passwords (and tokens) only travel encrypted.
fn require_tls(is_tls: bool, what: &str) -> Result<(), PgError> {
    if is_tls {
        return Ok(());
    }
    Err(PgError::fatal(
        sqlstate::INVALID_AUTHORIZATION,
        format!("{what} authentication requires an encrypted connection"),
    )
    .with_hint("connect with sslmode=require"))
}

fn protocol(msg: impl Into<String>) -> PgError {
    PgError::fatal(sqlstate::PROTOCOL_VIOLATION, msg)
}

/// Runs the authentication exchange for `user`. On success nothing is written yet: the caller
/// sends AuthenticationOk together with the rest of the startup reply.
pub async fn authenticate<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    mode: AuthMode,
    users: &UsersFile,
    jwt: Option<&jwt::JwtVerifier>,
    user: &str,
    tls_endpoint: Option<&[u8]>,
) -> Result<Principal, PgError> {
    let is_tls = tls_endpoint.is_some();
    let entry = users.users.get(user);
    let principal = |e: Option<&users::UserEntry>| Principal {
        user: user.to_string(),
        roles: e.map(|e| e.roles.clone()).unwrap_or_default(),
        attributes: e.map(|e| e.attributes.clone()).unwrap_or_default(),
    };
    if mode == AuthMode::Trust {
        return Ok(principal(entry));
    }
    if mode == AuthMode::Jwt {
        // The users file plays no part: identity, roles and attributes come from the token.
        return jwt_login(stream, jwt, user, is_tls).await;
    }
    // A user that does not exist, or has no password, goes through the same exchange against
    // a verifier no password matches, and fails the same way: nothing tells a client which
    // names exist before it proves a password.
    let known = entry.and_then(|e| {
        let v = Verifier::parse(e.scram.as_deref()?).ok()?;
        Some((e, v))
    });
    let (entry, verifier) = match known {
        Some((e, v)) => (Some(e), v),
        None => (None, Verifier::mock(user)),
    };
    let mut buf = BytesMut::new();
    match mode {
        AuthMode::Trust | AuthMode::Jwt => unreachable!("handled above"),
        AuthMode::Password => {
            require_tls(is_tls, "password")?;
            let pw = cleartext_password(stream, &mut buf).await?;
            if !verifier.check_password(&pw) {
                return Err(wrong_password(user));
            }
        }
        AuthMode::Scram => scram_exchange(stream, &mut buf, verifier, user, tls_endpoint).await?,
    }
    match entry {
        Some(e) => Ok(principal(Some(e))),
        None => Err(wrong_password(user)),
    }
}

/// Asks for a cleartext password and returns it.
async fn cleartext_password<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    buf: &mut BytesMut,
) -> Result<String, PgError> {
    let mut out = BytesMut::new();
    backend::auth_cleartext(&mut out);
    write(stream, &out).await?;
    let body = expect_password(stream, buf).await?;
    let mut b = &body[..];
    take_cstr(&mut b).map_err(|e| protocol(e.to_string()))
}

/// `auth = "jwt"`: the cleartext password is a JWT; see [`jwt`].
async fn jwt_login<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    verifier: Option<&jwt::JwtVerifier>,
    user: &str,
    is_tls: bool,
) -> Result<Principal, PgError> {
    require_tls(is_tls, "JWT")?;
    let verifier = verifier.ok_or_else(|| {
        PgError::fatal(
            sqlstate::INVALID_AUTHORIZATION,
            "JWT authentication is not set up: no keys were loaded",
        )
        .with_hint("an administrator must configure [jwt] and restart Querent")
    })?;
    let token = cleartext_password(stream, &mut BytesMut::new()).await?;
    verifier.verify(&token, user).map_err(|e| e.to_pg(user))
}

async fn scram_exchange<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    buf: &mut BytesMut,
    verifier: Verifier,
    user: &str,
    tls_endpoint: Option<&[u8]>,
) -> Result<(), PgError> {
    let mut out = BytesMut::new();
    if tls_endpoint.is_some() {
        backend::auth_sasl(&mut out, &["SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"]);
    } else {
        backend::auth_sasl(&mut out, &["SCRAM-SHA-256"]);
    }
    write(stream, &out).await?;
    let body = expect_password(stream, buf).await?;
    let mut b = &body[..];
    let mech = take_cstr(&mut b).map_err(|e| protocol(e.to_string()))?;
    let plus_selected = mech == "SCRAM-SHA-256-PLUS" && tls_endpoint.is_some();
    if mech != "SCRAM-SHA-256" && !plus_selected {
        return Err(protocol(format!(
            "client selected an invalid SASL authentication mechanism \"{mech}\""
        )));
    }
    let len = take_i32(&mut b).map_err(|e| protocol(e.to_string()))?;
    if len < 0 || len as usize != b.len() {
        return Err(protocol("malformed SASLInitialResponse"));
    }
    let binding = scram::Binding {
        endpoint: tls_endpoint.map(<[u8]>::to_vec),
        plus_selected,
    };
    let mut server = ScramServer::new(verifier, binding);
    let scram_err = |e: ScramError| match e {
        ScramError::WrongPassword => wrong_password(user),
        ScramError::Malformed(m) => protocol(format!("malformed SCRAM message: {m}")),
    };
    let first = server.client_first(b).map_err(scram_err)?;
    out.clear();
    backend::auth_sasl_continue(&mut out, first.as_bytes());
    write(stream, &out).await?;
    let body = expect_password(stream, buf).await?;
    let fin = server.client_final(&body).map_err(scram_err)?;
    out.clear();
    backend::auth_sasl_final(&mut out, fin.as_bytes());
    write(stream, &out).await
}

async fn expect_password<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut BytesMut,
) -> Result<BytesMut, PgError> {
    let (tag, body) = read_message(stream, buf, MAX_AUTH_MESSAGE)
        .await
        .map_err(|e| protocol(format!("during authentication: {e}")))?;
    if tag != b'p' {
        return Err(protocol(format!(
            "expected password response, got message type '{}'",
            crate::protocol::frame::printable(tag)
        )));
    }
    Ok(body)
}

async fn write<S: AsyncWrite + Unpin>(stream: &mut S, bytes: &[u8]) -> Result<(), PgError> {
    stream.write_all(bytes).await.map_err(|e| {
        PgError::fatal(
            sqlstate::CONNECTION_FAILURE,
            format!("client write failed: {e}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn users() -> UsersFile {
        let mut f = UsersFile::default();
        f.upsert(
            "alice",
            Some("pw"),
            &["analyst".into()],
            &[("region_id".into(), "3".into())],
        );
        f
    }

    #[tokio::test]
    async fn trust_keeps_roles_and_attributes_of_known_users() {
        let (mut server, _client) = tokio::io::duplex(1024);
        let p = authenticate(&mut server, AuthMode::Trust, &users(), None, "alice", None)
            .await
            .unwrap();
        assert_eq!(p.roles, vec!["analyst".to_string()]);
        assert_eq!(p.attributes.get("region_id").map(String::as_str), Some("3"));
        let p = authenticate(&mut server, AuthMode::Trust, &users(), None, "nobody", None)
            .await
            .unwrap();
        assert_eq!(
            p,
            Principal {
                user: "nobody".into(),
                ..Default::default()
            }
        );
    }

    #[tokio::test]
    async fn password_mode_refuses_plain_connections_before_asking() {
        let (mut server, _client) = tokio::io::duplex(1024);
        let e = authenticate(
            &mut server,
            AuthMode::Password,
            &users(),
            None,
            "alice",
            None,
        )
        .await
        .unwrap_err();
        assert_eq!(e.code, sqlstate::INVALID_AUTHORIZATION);
        assert!(e.hint.unwrap().contains("sslmode=require"));
    }

    /// A SCRAM client speaking to `authenticate` over a pipe: the server-first message it
    /// saw (salt and iterations) and the error the exchange ended with.
    async fn scram_login(user: &str, password: &str) -> (String, PgError) {
        use postgres_protocol::authentication::sasl::{ChannelBinding, ScramSha256};
        use postgres_protocol::message::frontend;
        let (mut server, mut client) = tokio::io::duplex(4096);
        let users = users();
        let user_owned = user.to_string();
        let srv = tokio::spawn(async move {
            authenticate(
                &mut server,
                AuthMode::Scram,
                &users,
                None,
                &user_owned,
                None,
            )
            .await
        });
        let mut buf = BytesMut::new();
        let (tag, _) = read_message(&mut client, &mut buf, 8192).await.unwrap();
        assert_eq!(tag, b'R', "AuthenticationSASL first, for every user");
        let mut scram = ScramSha256::new(password.as_bytes(), ChannelBinding::unsupported());
        let mut out = BytesMut::new();
        frontend::sasl_initial_response("SCRAM-SHA-256", scram.message(), &mut out).unwrap();
        client.write_all(&out).await.unwrap();
        let (_, body) = read_message(&mut client, &mut buf, 8192).await.unwrap();
        let server_first = String::from_utf8_lossy(&body[4..]).into_owned();
        scram.update(&body[4..]).unwrap();
        out.clear();
        frontend::sasl_response(scram.message(), &mut out).unwrap();
        client.write_all(&out).await.unwrap();
        let err = srv.await.unwrap().unwrap_err();
        let salt = server_first
            .split(',')
            .filter(|p| !p.starts_with("r="))
            .collect::<Vec<_>>()
            .join(",");
        (salt, err)
    }

    #[tokio::test]
    async fn unknown_users_get_the_same_exchange_and_error_as_wrong_passwords() {
        let (salt1, unknown) = scram_login("mallory", "x").await;
        let (salt2, _) = scram_login("mallory", "y").await;
        let (_, wrong) = scram_login("alice", "nope").await;
        assert_eq!(unknown.code, "28P01");
        assert_eq!(wrong.code, "28P01");
        assert_eq!(
            unknown.message.replace("mallory", "X"),
            wrong.message.replace("alice", "X")
        );
        assert_eq!(unknown.hint, wrong.hint);
        assert!(
            salt1.starts_with("s=") && salt1.contains(",i=4096"),
            "{salt1}"
        );
        assert_eq!(salt1, salt2, "a user's salt does not change between tries");
        let (other, _) = scram_login("trudy", "x").await;
        assert_ne!(other, salt1, "salts differ between users");
    }
}
