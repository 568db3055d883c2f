//! Server side of SCRAM-SHA-256 (RFC 5802, RFC 7677) as Postgres speaks it, against stored
//! verifiers `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` (the format of
//! `pg_authid.rolpassword`). Plain passwords are never stored.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// Why a SCRAM exchange failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ScramError {
    /// The client's message is not valid SCRAM.
    #[error("malformed SCRAM message: {0}")]
    Malformed(&'static str),
    /// The proof did not match: wrong password.
    #[error("wrong password")]
    WrongPassword,
}

/// A parsed stored verifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verifier {
    iterations: u32,
    salt: Vec<u8>,
    stored_key: Vec<u8>,
    server_key: Vec<u8>,
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut m = <HmacSha256 as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    m.update(data);
    m.finalize().into_bytes().into()
}

fn salted_password(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 32] {
    let mut u = hmac(password, &[salt, &1u32.to_be_bytes()].concat());
    let mut hi = u;
    for _ in 1..iterations {
        u = hmac(password, &u);
        hi.iter_mut().zip(u.iter()).for_each(|(a, b)| *a ^= b);
    }
    hi
}

/// SASLprep the password as Postgres does, falling back to the raw bytes.
fn normalize(password: &str) -> Vec<u8> {
    match stringprep::saslprep(password) {
        Ok(p) => p.into_owned().into_bytes(),
        Err(_) => password.as_bytes().to_vec(),
    }
}

impl Verifier {
    /// Makes a new verifier string with a random salt and 4096 iterations.
    pub fn create(password: &str) -> String {
        postgres_protocol::password::scram_sha_256(password.as_bytes())
    }

    /// Parses a stored verifier.
    pub fn parse(s: &str) -> Result<Verifier, String> {
        let bad =
            || "expected SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>".to_string();
        let rest = s.strip_prefix("SCRAM-SHA-256$").ok_or_else(bad)?;
        let (iter_salt, keys) = rest.split_once('$').ok_or_else(bad)?;
        let (iter, salt) = iter_salt.split_once(':').ok_or_else(bad)?;
        let (stored, server) = keys.split_once(':').ok_or_else(bad)?;
        let v = Verifier {
            iterations: iter.parse().map_err(|_| bad())?,
            salt: B64.decode(salt).map_err(|_| bad())?,
            stored_key: B64.decode(stored).map_err(|_| bad())?,
            server_key: B64.decode(server).map_err(|_| bad())?,
        };
        if v.iterations == 0 || v.stored_key.len() != 32 || v.server_key.len() != 32 {
            return Err(bad());
        }
        Ok(v)
    }

    /// A verifier no password matches, for a user that does not exist (or has no password):
    /// the exchange runs as for a real user, so a client cannot tell the two apart before it
    /// has proven a password, as PostgreSQL does. The salt is stable per user name for the
    /// process's life (a per-process random secret), so two tries see the same salt.
    pub fn mock(user: &str) -> Verifier {
        static SECRET: std::sync::OnceLock<[u8; 32]> = std::sync::OnceLock::new();
        let secret = SECRET.get_or_init(|| {
            let mut s = [0u8; 32];
            rand::thread_rng().fill_bytes(&mut s);
            s
        });
        let derive = |what: &str| hmac(secret, format!("{what}\0{user}").as_bytes());
        Verifier {
            iterations: 4096,
            salt: derive("salt")[..16].to_vec(),
            stored_key: derive("stored").to_vec(),
            server_key: derive("server").to_vec(),
        }
    }

    /// Checks a cleartext password against the verifier.
    pub fn check_password(&self, password: &str) -> bool {
        let salted = salted_password(&normalize(password), &self.salt, self.iterations);
        let client_key = hmac(&salted, b"Client Key");
        let stored: [u8; 32] = Sha256::digest(client_key).into();
        constant_eq(&stored, &self.stored_key)
    }
}

fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The channel-binding side of an exchange (RFC 5929 `tls-server-end-point`).
#[derive(Debug, Clone, Default)]
pub struct Binding {
    /// The hash of the server certificate, when the connection is TLS and -PLUS was offered.
    pub endpoint: Option<Vec<u8>>,
    /// Whether the client selected SCRAM-SHA-256-PLUS.
    pub plus_selected: bool,
}

/// One server-side SCRAM exchange.
pub struct ScramServer {
    verifier: Verifier,
    binding: Binding,
    /// gs2 header, client-first-bare, server-first, nonce
    state: Option<(String, String, String, String)>,
}

impl ScramServer {
    /// Starts an exchange against a verifier.
    pub fn new(verifier: Verifier, binding: Binding) -> Self {
        ScramServer {
            verifier,
            binding,
            state: None,
        }
    }

    fn check_binding_flag(&self, cbind: &str) -> Result<(), ScramError> {
        let plus = self.binding.plus_selected;
        match cbind {
            "n" if !plus => Ok(()),
            "y" if !plus && self.binding.endpoint.is_none() => Ok(()),
            // The client can bind but believes the server cannot, although the server offered
            // SCRAM-SHA-256-PLUS: someone stripped it on the way (a downgrade).
            "y" if !plus => Err(ScramError::Malformed(
                "client supports channel binding, but thinks the server does not",
            )),
            "p=tls-server-end-point" if plus && self.binding.endpoint.is_some() => Ok(()),
            _ if cbind.starts_with("p=") && plus => {
                Err(ScramError::Malformed("unsupported channel binding type"))
            }
            _ if cbind.starts_with("p=") => Err(ScramError::Malformed(
                "channel binding requested without SCRAM-SHA-256-PLUS",
            )),
            "n" | "y" => Err(ScramError::Malformed(
                "SCRAM-SHA-256-PLUS selected without channel binding",
            )),
            _ => Err(ScramError::Malformed("bad channel binding flag")),
        }
    }

    /// Takes the client-first-message, returns the server-first-message.
    pub fn client_first(&mut self, msg: &[u8]) -> Result<String, ScramError> {
        let msg = std::str::from_utf8(msg).map_err(|_| ScramError::Malformed("not UTF-8"))?;
        // gs2-header: ("n" | "y" | "p=...") "," [authzid] ","
        let (cbind, rest) = msg
            .split_once(',')
            .ok_or(ScramError::Malformed("no gs2 header"))?;
        self.check_binding_flag(cbind)?;
        let (_authzid, bare) = rest
            .split_once(',')
            .ok_or(ScramError::Malformed("no gs2 header"))?;
        let gs2 = format!("{cbind},{_authzid},");
        let client_nonce = bare
            .split(',')
            .find_map(|a| a.strip_prefix("r="))
            .ok_or(ScramError::Malformed("no client nonce"))?;
        if client_nonce.is_empty()
            || !client_nonce
                .bytes()
                .all(|b| (0x21..=0x7e).contains(&b) && b != b',')
        {
            return Err(ScramError::Malformed("invalid client nonce"));
        }
        let mut raw = [0u8; 18];
        rand::thread_rng().fill_bytes(&mut raw);
        let nonce = format!("{client_nonce}{}", B64.encode(raw));
        let server_first = format!(
            "r={nonce},s={},i={}",
            B64.encode(&self.verifier.salt),
            self.verifier.iterations
        );
        self.state = Some((gs2, bare.to_string(), server_first.clone(), nonce));
        Ok(server_first)
    }

    /// Takes the client-final-message, returns the server-final-message when the proof holds.
    pub fn client_final(&mut self, msg: &[u8]) -> Result<String, ScramError> {
        let (gs2, bare, server_first, nonce) = self
            .state
            .take()
            .ok_or(ScramError::Malformed("unexpected message"))?;
        let msg = std::str::from_utf8(msg).map_err(|_| ScramError::Malformed("not UTF-8"))?;
        let (without_proof, proof) = msg
            .rsplit_once(",p=")
            .ok_or(ScramError::Malformed("no proof"))?;
        let mut cbind = None;
        let mut got_nonce = None;
        for attr in without_proof.split(',') {
            if let Some(c) = attr.strip_prefix("c=") {
                cbind = Some(c);
            } else if let Some(r) = attr.strip_prefix("r=") {
                got_nonce = Some(r);
            }
        }
        let cbind = B64
            .decode(cbind.ok_or(ScramError::Malformed("no channel binding"))?)
            .map_err(|_| ScramError::Malformed("bad channel binding encoding"))?;
        let mut expected = gs2.as_bytes().to_vec();
        if gs2.starts_with("p=") {
            expected.extend_from_slice(self.binding.endpoint.as_deref().unwrap_or_default());
        }
        if cbind != expected {
            return Err(ScramError::Malformed("channel binding does not match"));
        }
        if got_nonce != Some(nonce.as_str()) {
            return Err(ScramError::Malformed("nonce does not match"));
        }
        let proof = B64
            .decode(proof)
            .map_err(|_| ScramError::Malformed("bad proof encoding"))?;
        if proof.len() != 32 {
            return Err(ScramError::Malformed("bad proof length"));
        }
        let auth_message = format!("{bare},{server_first},{without_proof}");
        let client_signature = hmac(&self.verifier.stored_key, auth_message.as_bytes());
        let client_key: Vec<u8> = proof
            .iter()
            .zip(client_signature)
            .map(|(p, s)| p ^ s)
            .collect();
        let stored: [u8; 32] = Sha256::digest(&client_key).into();
        if !constant_eq(&stored, &self.verifier.stored_key) {
            return Err(ScramError::WrongPassword);
        }
        let server_signature = hmac(&self.verifier.server_key, auth_message.as_bytes());
        Ok(format!("v={}", B64.encode(server_signature)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use postgres_protocol::authentication::sasl::{ChannelBinding, ScramSha256};

    fn exchange(stored_for: &str, client_password: &str) -> Result<(), ScramError> {
        run(
            stored_for,
            client_password,
            Binding::default(),
            ChannelBinding::unsupported(),
        )
    }

    /// One whole exchange between the server and postgres-protocol's client.
    fn run(
        stored: &str,
        password: &str,
        binding: Binding,
        cb: ChannelBinding,
    ) -> Result<(), ScramError> {
        let v = Verifier::parse(&Verifier::create(stored)).unwrap();
        let mut server = ScramServer::new(v, binding);
        let mut client = ScramSha256::new(password.as_bytes(), cb);
        let first = server.client_first(client.message())?;
        client.update(first.as_bytes()).unwrap();
        let fin = server.client_final(client.message())?;
        client
            .finish(fin.as_bytes())
            .map_err(|_| ScramError::Malformed("client rejected server"))
    }

    #[test]
    fn right_password_passes_both_ways() {
        exchange("s3cret", "s3cret").unwrap();
    }

    #[test]
    fn wrong_password_fails() {
        assert_eq!(exchange("s3cret", "guess"), Err(ScramError::WrongPassword));
    }

    fn bound(binding: Binding, client_cb: ChannelBinding) -> Result<(), ScramError> {
        run("pw", "pw", binding, client_cb)
    }

    #[test]
    fn channel_binding() {
        let hash = vec![7u8; 32];
        let plus = Binding {
            endpoint: Some(hash.clone()),
            plus_selected: true,
        };
        bound(
            plus.clone(),
            ChannelBinding::tls_server_end_point(hash.clone()),
        )
        .unwrap();
        // A different certificate hash (a man in the middle) fails.
        assert!(bound(plus, ChannelBinding::tls_server_end_point(vec![8u8; 32])).is_err());
        // Offered but not used by a client that could: a downgrade, refused.
        let offered = Binding {
            endpoint: Some(hash),
            plus_selected: false,
        };
        assert!(bound(offered.clone(), ChannelBinding::unrequested()).is_err());
        bound(offered, ChannelBinding::unsupported()).unwrap();
    }

    #[test]
    fn cleartext_check() {
        let v = Verifier::parse(&Verifier::create("pässword")).unwrap();
        assert!(v.check_password("pässword"));
        assert!(!v.check_password("password"));
    }

    #[test]
    fn garbage_is_rejected_not_panicking() {
        let v = Verifier::parse(&Verifier::create("x")).unwrap();
        let mut s = ScramServer::new(v, Binding::default());
        assert!(s.client_first(b"").is_err());
        assert!(s.client_first(b"p=tls-server-end-point,,n=,r=abc").is_err());
        assert!(s.client_final(b"c=biws,r=x,p=AAAA").is_err());
        assert!(Verifier::parse("md5abc").is_err());
    }
}
