//! `auth = "jwt"`: the client's cleartext password is a JWT (HS256, RS256 or ES256), verified
//! against the keys in `[jwt]`; its claims become the session's [`Principal`].
//!
//! Key choice: a token whose `kid` names a key in the JWKS file is checked with that key only.
//! Otherwise every configured key of the token's family is tried (the HS256 secret for HS256,
//! the PEM keys and the JWKS keys without a `kid` for RS256/ES256). A `kid` that matches
//! nothing, when no other key of that family exists, is "unknown kid". The signature is
//! always checked before any claim, so the time, audience and issuer messages only ever
//! describe tokens Querent's keys signed.

mod claims;
mod error;
mod keys;

pub use self::error::JwtError;

use self::keys::Key;
use super::Principal;
use base64::Engine;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, AlgorithmFamily, Header, Validation};
use serde_json::{Map, Value};
use std::fmt;

type Claims = Map<String, Value>;

/// Verifies tokens with the keys and rules of a `[jwt]` section; built once at start.
pub struct JwtVerifier {
    algorithms: Vec<Algorithm>,
    keys: Vec<Key>,
    /// Whether a JWKS file is configured (so an unmatched `kid` is worth reporting).
    has_jwks: bool,
    audience: Option<String>,
    issuer: Option<String>,
    user_claim: String,
    roles_claim: String,
    attributes_claim: String,
    leeway: u64,
}

impl fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print key material.
        f.debug_struct("JwtVerifier")
            .field("algorithms", &self.algorithms)
            .field(
                "keys",
                &self.keys.iter().map(|k| &k.source).collect::<Vec<_>>(),
            )
            .field("audience", &self.audience)
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

fn family_name(f: AlgorithmFamily) -> &'static str {
    match f {
        AlgorithmFamily::Hmac => "HMAC",
        AlgorithmFamily::Rsa => "RSA",
        AlgorithmFamily::Ec => "EC",
        _ => "EdDSA",
    }
}

impl JwtVerifier {
    /// Checks `token` for the login name `user` and returns the principal its claims describe.
    pub fn verify(&self, token: &str, user: &str) -> Result<Principal, JwtError> {
        self.verify_for(token, Some(user))
    }

    /// Checks a bearer token (the HTTP API): the user is the token's own user claim.
    pub fn verify_bearer(&self, token: &str) -> Result<Principal, JwtError> {
        self.verify_for(token, None)
    }

    fn verify_for(&self, token: &str, user: Option<&str>) -> Result<Principal, JwtError> {
        let token = token.trim();
        let header = jsonwebtoken::decode_header(token).map_err(|e| self.header_error(token, e))?;
        if !self.algorithms.contains(&header.alg) {
            return Err(JwtError::AlgorithmNotAllowed {
                alg: format!("{:?}", header.alg),
                allowed: self.allowed(),
            });
        }
        let candidates = self.candidates(&header)?;
        let mut validation = Validation::new(header.alg);
        validation.leeway = self.leeway;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        let mut required = vec!["exp"];
        match &self.audience {
            Some(a) => {
                validation.set_audience(&[a]);
                required.push("aud");
            }
            None => validation.validate_aud = false,
        }
        if let Some(i) = &self.issuer {
            validation.set_issuer(&[i]);
            required.push("iss");
        }
        validation.set_required_spec_claims(&required);
        let mut claims = None;
        for key in &candidates {
            match jsonwebtoken::decode::<Claims>(token, &key.key, &validation) {
                Ok(data) => {
                    tracing::debug!(key = %key.source, "JWT verified");
                    claims = Some(data.claims);
                    break;
                }
                Err(e) if matches!(e.kind(), ErrorKind::InvalidSignature) => continue,
                Err(e) => return Err(self.claims_error(token, e)),
            }
        }
        let Some(claims) = claims else {
            return Err(JwtError::BadSignature {
                tried: candidates.iter().map(|k| k.source.clone()).collect(),
            });
        };
        self.principal(&claims, user)
    }

    /// Why a header did not parse: an algorithm jsonwebtoken does not know (`none`) or a
    /// token that is not a JWT at all.
    fn header_error(&self, token: &str, e: jsonwebtoken::errors::Error) -> JwtError {
        let parts: Vec<&str> = token.split('.').collect();
        if parts.len() != 3 {
            return JwtError::Malformed(format!(
                "expected three base64url parts separated by dots, got {}",
                parts.len()
            ));
        }
        let alg = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[0].trim_end_matches('='))
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            .and_then(|h| h.get("alg").and_then(Value::as_str).map(str::to_string));
        match alg {
            Some(alg) if alg.parse::<Algorithm>().is_err() => JwtError::AlgorithmNotAllowed {
                alg,
                allowed: self.allowed(),
            },
            _ => JwtError::Malformed(format!("bad header: {e}")),
        }
    }

    fn allowed(&self) -> String {
        self.algorithms
            .iter()
            .map(|a| format!("{a:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn candidates(&self, header: &Header) -> Result<Vec<&Key>, JwtError> {
        let family = header.alg.family();
        if let Some(kid) = &header.kid {
            let named: Vec<&Key> = self
                .keys
                .iter()
                .filter(|k| k.kid.as_deref() == Some(kid.as_str()))
                .collect();
            if let Some(k) = named.iter().find(|k| k.key.family() != family) {
                return Err(JwtError::BadSignature {
                    tried: vec![format!(
                        "{} is an {} key but the token says {:?}",
                        k.source,
                        family_name(k.key.family()),
                        header.alg
                    )],
                });
            }
            if !named.is_empty() {
                return Ok(named);
            }
        }
        let others: Vec<&Key> = self
            .keys
            .iter()
            .filter(|k| k.kid.is_none() && k.key.family() == family)
            .collect();
        if !others.is_empty() {
            return Ok(others);
        }
        match &header.kid {
            Some(kid) if self.has_jwks => Err(JwtError::UnknownKid {
                kid: kid.clone(),
                known: self.keys.iter().filter_map(|k| k.kid.clone()).collect(),
            }),
            _ => Err(JwtError::NoKey {
                alg: format!("{:?}", header.alg),
            }),
        }
    }
}

#[cfg(test)]
mod tests;
