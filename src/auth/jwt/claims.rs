//! Reading a verified token's claims: the principal they describe, and why a claim check
//! failed.

use super::{Claims, JwtError, JwtVerifier};
use crate::auth::Principal;
use jsonwebtoken::errors::ErrorKind;
use serde_json::Value;
use std::collections::BTreeMap;

impl JwtVerifier {
    pub(super) fn claims_error(&self, token: &str, e: jsonwebtoken::errors::Error) -> JwtError {
        // The signature was good (it is checked first): reading the claims again is safe.
        let claims: Claims =
            jsonwebtoken::dangerous::insecure_decode_claims(token).unwrap_or_default();
        let time = |name: &str| claims.get(name).and_then(Value::as_i64);
        let show = |name: &str| claims.get(name).map(Value::to_string);
        match e.kind() {
            ErrorKind::ExpiredSignature => JwtError::Expired {
                exp: time("exp").unwrap_or(0),
            },
            ErrorKind::ImmatureSignature => JwtError::NotYetValid {
                nbf: time("nbf").unwrap_or(0),
            },
            ErrorKind::InvalidAudience => JwtError::WrongAudience {
                expected: self.audience.clone().unwrap_or_default(),
                got: show("aud"),
            },
            ErrorKind::InvalidIssuer => JwtError::WrongIssuer {
                expected: self.issuer.clone().unwrap_or_default(),
                got: show("iss"),
            },
            ErrorKind::MissingRequiredClaim(c) if c == "aud" => JwtError::WrongAudience {
                expected: self.audience.clone().unwrap_or_default(),
                got: None,
            },
            ErrorKind::MissingRequiredClaim(c) if c == "iss" => JwtError::WrongIssuer {
                expected: self.issuer.clone().unwrap_or_default(),
                got: None,
            },
            ErrorKind::MissingRequiredClaim(c) => JwtError::MissingClaim {
                claim: c.clone(),
                setting: None,
            },
            ErrorKind::InvalidClaimFormat(c) => {
                JwtError::Malformed(format!("claim \"{c}\" has the wrong type"))
            }
            ErrorKind::InvalidAlgorithm => JwtError::AlgorithmNotAllowed {
                alg: jsonwebtoken::decode_header(token)
                    .map(|h| format!("{:?}", h.alg))
                    .unwrap_or_default(),
                allowed: self.allowed(),
            },
            _ => JwtError::Malformed(e.to_string()),
        }
    }

    pub(super) fn principal(
        &self,
        claims: &Claims,
        user: Option<&str>,
    ) -> Result<Principal, JwtError> {
        let missing = |claim: &str, setting: &'static str| JwtError::MissingClaim {
            claim: claim.to_string(),
            setting: Some(setting),
        };
        let bad = |claim: &str, what: &str| JwtError::BadClaim {
            claim: claim.to_string(),
            what: what.to_string(),
        };
        let token_user = match claim(claims, &self.user_claim) {
            Some(Value::String(s)) => s.clone(),
            None | Some(Value::Null) => return Err(missing(&self.user_claim, "jwt.user_claim")),
            Some(_) => return Err(bad(&self.user_claim, "a string (the user name)")),
        };
        if let Some(user) = user.filter(|u| *u != token_user) {
            return Err(JwtError::WrongUser {
                token_user,
                user: user.to_string(),
            });
        }
        let roles = match claim(claims, &self.roles_claim) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(s)) => s
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|r| !r.is_empty())
                .map(str::to_string)
                .collect(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| bad(&self.roles_claim, "an array of strings"))?,
            Some(_) => {
                return Err(bad(
                    &self.roles_claim,
                    "an array of strings or a space/comma separated string",
                ))
            }
        };
        let mut attributes = BTreeMap::new();
        match claim(claims, &self.attributes_claim) {
            None | Some(Value::Null) => {}
            Some(Value::Object(map)) => {
                for (k, v) in map {
                    let v = match v {
                        Value::String(s) => s.clone(),
                        Value::Number(n) => n.to_string(),
                        Value::Bool(b) => b.to_string(),
                        _ => continue,
                    };
                    attributes.insert(k.clone(), v);
                }
            }
            Some(_) => return Err(bad(&self.attributes_claim, "a JSON object")),
        }
        Ok(Principal {
            user: token_user,
            roles,
            attributes,
        })
    }
}

/// A claim by exact name, or else by a dotted path into nested objects
/// (`realm_access.roles`).
fn claim<'a>(claims: &'a Claims, name: &str) -> Option<&'a Value> {
    if let Some(v) = claims.get(name) {
        return Some(v);
    }
    let mut parts = name.split('.');
    let mut v = claims.get(parts.next()?)?;
    for p in parts {
        v = v.as_object()?.get(p)?;
    }
    Some(v)
}
