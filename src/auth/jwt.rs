//! `auth = "jwt"`: the client's cleartext password is a JWT (HS256, RS256 or ES256), verified
//! against the keys in `[jwt]`; its claims become the session's [`Principal`].
//!
//! Key choice: a token whose `kid` names a key in the JWKS file is checked with that key only.
//! Otherwise every configured key of the token's family is tried (the HS256 secret for HS256,
//! the PEM keys and the JWKS keys without a `kid` for RS256/ES256). A `kid` that matches
//! nothing, when no other key of that family exists, is "unknown kid". The signature is
//! always checked before any claim, so the time, audience and issuer messages only ever
//! describe tokens Querent's keys signed.

use super::Principal;
use crate::config::JwtConfig;
use crate::error::{sqlstate, PgError};
use base64::Engine;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, Header, Validation};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

type Claims = Map<String, Value>;

/// A key Querent trusts.
struct Key {
    /// Where it came from, for messages: `jwt.secret`, a PEM path, `jwks.json#kid`.
    source: String,
    /// The JWKS `kid`, when it came from a JWKS file.
    kid: Option<String>,
    key: DecodingKey,
}

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

fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn read(setting: &str, path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{setting}: cannot read {}: {e}", path.display()))
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
    /// Reads the secret, PEM keys and JWKS file named in `cfg`. Errors name the setting and
    /// the file.
    pub fn load(cfg: &JwtConfig) -> Result<JwtVerifier, String> {
        let mut keys = Vec::new();
        if let Some(secret) = non_empty(&cfg.secret) {
            keys.push(Key {
                source: "jwt.secret".into(),
                kid: None,
                key: DecodingKey::from_secret(secret.as_bytes()),
            });
        }
        if let Some(path) = cfg
            .secret_file
            .as_deref()
            .filter(|p| !p.as_os_str().is_empty())
        {
            let bytes = read("jwt.secret_file", path)?;
            let secret = String::from_utf8_lossy(&bytes)
                .trim_end_matches(['\r', '\n'])
                .to_string();
            if secret.is_empty() {
                return Err(format!("jwt.secret_file: {} is empty", path.display()));
            }
            keys.push(Key {
                source: format!("jwt.secret_file {}", path.display()),
                kid: None,
                key: DecodingKey::from_secret(secret.as_bytes()),
            });
        }
        if let Some(k) = keys.first() {
            if let Ok(bytes) = k.key.try_get_as_bytes() {
                if bytes.len() < 32 {
                    tracing::warn!(
                        "{}: an HS256 secret shorter than 32 bytes is easy to guess",
                        k.source
                    );
                }
            }
        }
        for path in &cfg.public_keys.0 {
            let path = Path::new(path);
            let pem = read("jwt.public_keys", path)?;
            let key = DecodingKey::from_rsa_pem(&pem)
                .or_else(|_| DecodingKey::from_ec_pem(&pem))
                .map_err(|_| {
                    format!(
                        "jwt.public_keys: {} is not a PEM RSA or EC public key (-----BEGIN PUBLIC KEY-----)",
                        path.display()
                    )
                })?;
            check_key(&key).map_err(|e| format!("jwt.public_keys: {}: {e}", path.display()))?;
            keys.push(Key {
                source: path.display().to_string(),
                kid: None,
                key,
            });
        }
        let has_jwks = cfg
            .jwks
            .as_deref()
            .is_some_and(|p| !p.as_os_str().is_empty());
        if let Some(path) = cfg.jwks.as_deref().filter(|_| has_jwks) {
            let text = read("jwt.jwks", path)?;
            let set: JwkSet = serde_json::from_slice(&text).map_err(|e| {
                format!(
                    "jwt.jwks: {} is not a JWKS file ({{\"keys\": [...]}}): {e}",
                    path.display()
                )
            })?;
            for (i, jwk) in set.keys.iter().enumerate() {
                let kid = jwk.common.key_id.clone();
                let name = kid.clone().unwrap_or_else(|| format!("keys[{i}]"));
                let key = DecodingKey::from_jwk(jwk)
                    .map_err(|e| format!("jwt.jwks: {} key {name}: {e}", path.display()))?;
                check_key(&key)
                    .map_err(|e| format!("jwt.jwks: {} key {name}: {e}", path.display()))?;
                keys.push(Key {
                    source: format!("{}#{name}", path.display()),
                    kid,
                    key,
                });
            }
        }
        if keys.is_empty() {
            return Err("jwt: no key to verify tokens: set jwt.secret, jwt.secret_file, jwt.public_keys or jwt.jwks".into());
        }
        let algorithms = cfg
            .algorithms
            .0
            .iter()
            .map(|a| {
                a.parse::<Algorithm>()
                    .map_err(|_| format!("jwt.algorithms: unknown algorithm \"{a}\""))
            })
            .collect::<Result<Vec<_>, _>>()?;
        for alg in &algorithms {
            if !keys.iter().any(|k| k.key.family() == alg.family()) {
                tracing::warn!(
                    "jwt.algorithms allows {alg:?} but no {} key is configured; such tokens will be refused",
                    family_name(alg.family())
                );
            }
        }
        let leeway = cfg.leeway.0.as_secs() + u64::from(cfg.leeway.0.subsec_nanos() > 0);
        Ok(JwtVerifier {
            algorithms,
            keys,
            has_jwks,
            audience: non_empty(&cfg.audience).map(str::to_string),
            issuer: non_empty(&cfg.issuer).map(str::to_string),
            user_claim: cfg.user_claim.trim().to_string(),
            roles_claim: cfg.roles_claim.trim().to_string(),
            attributes_claim: cfg.attributes_claim.trim().to_string(),
            leeway,
        })
    }

    /// Checks `token` for the login name `user` and returns the principal its claims describe.
    pub fn verify(&self, token: &str, user: &str) -> Result<Principal, JwtError> {
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

    fn claims_error(&self, token: &str, e: jsonwebtoken::errors::Error) -> JwtError {
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

    fn principal(&self, claims: &Claims, user: &str) -> Result<Principal, JwtError> {
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
        if token_user != user {
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

/// Makes sure a key can build a verifier (an EC point is on the curve, for instance).
fn check_key(key: &DecodingKey) -> Result<(), String> {
    let alg = match key.family() {
        AlgorithmFamily::Rsa => Algorithm::RS256,
        AlgorithmFamily::Ec => Algorithm::ES256,
        AlgorithmFamily::Hmac => Algorithm::HS256,
        f => return Err(format!("{} keys are not supported", family_name(f))),
    };
    jsonwebtoken::crypto::verify("AAAA", b"probe", key, alg)
        .map(|_| ())
        .map_err(|e| format!("not a usable {alg:?} key: {e}"))
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

/// Why a token was refused. Every variant becomes SQLSTATE 28000 with a hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwtError {
    /// Not a JWT, or a part that does not decode.
    Malformed(String),
    /// The header's `alg` is not in `jwt.algorithms` (or not known at all).
    AlgorithmNotAllowed {
        /// The token's algorithm.
        alg: String,
        /// `jwt.algorithms`, empty when the algorithm is unknown.
        allowed: String,
    },
    /// No key of the token's family is configured.
    NoKey {
        /// The token's algorithm.
        alg: String,
    },
    /// The `kid` is in no JWKS key and no other key of that family exists.
    UnknownKid {
        /// The token's `kid`.
        kid: String,
        /// The key ids Querent has.
        known: Vec<String>,
    },
    /// No candidate key verified the signature.
    BadSignature {
        /// The keys tried (or why none could be).
        tried: Vec<String>,
    },
    /// `exp` is in the past (beyond the leeway).
    Expired {
        /// The token's `exp`, seconds since the epoch.
        exp: i64,
    },
    /// `nbf` is in the future (beyond the leeway).
    NotYetValid {
        /// The token's `nbf`, seconds since the epoch.
        nbf: i64,
    },
    /// `aud` does not contain `jwt.audience`.
    WrongAudience {
        /// `jwt.audience`.
        expected: String,
        /// The token's `aud`, as JSON, if any.
        got: Option<String>,
    },
    /// `iss` is not `jwt.issuer`.
    WrongIssuer {
        /// `jwt.issuer`.
        expected: String,
        /// The token's `iss`, as JSON, if any.
        got: Option<String>,
    },
    /// A required claim is absent.
    MissingClaim {
        /// Its name.
        claim: String,
        /// The setting that names it, if any.
        setting: Option<&'static str>,
    },
    /// A claim has the wrong shape.
    BadClaim {
        /// Its name.
        claim: String,
        /// What was expected.
        what: String,
    },
    /// The user claim names someone else.
    WrongUser {
        /// The user in the token.
        token_user: String,
        /// The startup user name.
        user: String,
    },
}

impl JwtError {
    /// The reason, without the "JWT authentication failed" prefix.
    pub fn reason(&self) -> String {
        match self {
            JwtError::Malformed(m) => format!("malformed token: {m}"),
            JwtError::AlgorithmNotAllowed { alg, .. } => {
                format!("algorithm not allowed: the token is signed with {alg}")
            }
            JwtError::NoKey { alg } => format!("no key configured for {alg} tokens"),
            JwtError::UnknownKid { kid, .. } => format!("unknown kid \"{kid}\""),
            JwtError::BadSignature { .. } => "bad signature".into(),
            JwtError::Expired { exp } => format!("token expired at {}", utc(*exp)),
            JwtError::NotYetValid { nbf } => {
                format!("token not yet valid: nbf is {}", utc(*nbf))
            }
            JwtError::WrongAudience { expected, got } => match got {
                Some(g) => format!("wrong audience: expected \"{expected}\", token has {g}"),
                None => format!("wrong audience: expected \"{expected}\", token has no aud"),
            },
            JwtError::WrongIssuer { expected, got } => match got {
                Some(g) => format!("wrong issuer: expected \"{expected}\", token has {g}"),
                None => format!("wrong issuer: expected \"{expected}\", token has no iss"),
            },
            JwtError::MissingClaim { claim, .. } => format!("token has no \"{claim}\" claim"),
            JwtError::BadClaim { claim, what } => {
                format!("claim \"{claim}\" must be {what}")
            }
            JwtError::WrongUser { token_user, user } => {
                format!("token is for user \"{token_user}\", not \"{user}\"")
            }
        }
    }

    fn hint(&self) -> String {
        match self {
            JwtError::Malformed(_) => {
                "send the JWT itself (header.payload.signature) as the password".into()
            }
            JwtError::AlgorithmNotAllowed { allowed, .. } => {
                format!("jwt.algorithms allows {allowed}")
            }
            JwtError::NoKey { .. } => {
                "set jwt.secret for HS256, or jwt.public_keys / jwt.jwks for RS256 and ES256".into()
            }
            JwtError::UnknownKid { known, .. } => format!(
                "jwt.jwks has key ids {}; reload Querent if the issuer rotated its keys",
                if known.is_empty() {
                    "(none)".to_string()
                } else {
                    known.join(", ")
                }
            ),
            JwtError::BadSignature { tried } => format!(
                "the token was not signed by a key Querent trusts (tried {})",
                tried.join(", ")
            ),
            JwtError::Expired { .. } => "get a fresh token from your identity provider".into(),
            JwtError::NotYetValid { .. } => {
                "check the clocks of the token issuer and of Querent (jwt.leeway)".into()
            }
            JwtError::WrongAudience { .. } => {
                "the token was issued for another service (jwt.audience)".into()
            }
            JwtError::WrongIssuer { .. } => {
                "the token comes from another identity provider (jwt.issuer)".into()
            }
            JwtError::MissingClaim { claim, setting } => match setting {
                Some(s) => format!("{s} names \"{claim}\" as the claim to read"),
                None if claim == "exp" => "Querent only accepts tokens that expire".into(),
                None => format!("the token must carry \"{claim}\""),
            },
            JwtError::BadClaim { .. } => {
                "see jwt.roles_claim and jwt.attributes_claim for the expected shapes".into()
            }
            JwtError::WrongUser { token_user, .. } => {
                format!("connect as user={token_user}, or get a token for this user")
            }
        }
    }

    /// The error sent to the client: SQLSTATE 28000 with the reason and a hint.
    pub fn to_pg(&self, user: &str) -> PgError {
        PgError::fatal(
            sqlstate::INVALID_AUTHORIZATION,
            format!(
                "JWT authentication failed for user \"{user}\": {}",
                self.reason()
            ),
        )
        .with_hint(self.hint())
    }
}

/// Seconds since the epoch as `2024-05-01 12:00:00 UTC`.
fn utc(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Dur, List};
    use jsonwebtoken::{encode, EncodingKey};
    use serde_json::json;
    use std::time::Duration;

    const SECRET: &str = "unit-test-secret-unit-test-secret!";

    fn fixture(name: &str) -> String {
        format!("{}/fixtures/jwt/{name}", env!("CARGO_MANIFEST_DIR"))
    }

    fn config() -> JwtConfig {
        JwtConfig {
            secret: Some(SECRET.into()),
            public_keys: List(vec![fixture("rsa.pub.pem"), fixture("ec.pub.pem")]),
            jwks: Some(fixture("jwks.json").into()),
            ..JwtConfig::default()
        }
    }

    fn now() -> i64 {
        jsonwebtoken::get_current_timestamp() as i64
    }

    fn claims(extra: Value) -> Value {
        let mut c = json!({"sub": "alice", "exp": now() + 300, "roles": ["analyst"],
                           "attrs": {"region_id": 3, "tier": "gold", "vip": true, "nested": {"x": 1}}});
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                c.as_object_mut().unwrap().remove(k);
            } else {
                c[k] = v.clone();
            }
        }
        c
    }

    fn hs(c: &Value) -> String {
        encode(
            &Header::new(Algorithm::HS256),
            c,
            &EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .unwrap()
    }

    fn signed(alg: Algorithm, key_file: &str, kid: Option<&str>, c: &Value) -> String {
        let pem = std::fs::read(fixture(key_file)).unwrap();
        let key = match alg.family() {
            AlgorithmFamily::Rsa => EncodingKey::from_rsa_pem(&pem).unwrap(),
            _ => EncodingKey::from_ec_pem(&pem).unwrap(),
        };
        let mut h = Header::new(alg);
        h.kid = kid.map(str::to_string);
        encode(&h, c, &key).unwrap()
    }

    fn verifier(cfg: JwtConfig) -> JwtVerifier {
        JwtVerifier::load(&cfg).unwrap()
    }

    #[test]
    fn hs256_rs256_es256_and_claims() {
        let v = verifier(config());
        let p = v.verify(&hs(&claims(json!({}))), "alice").unwrap();
        assert_eq!(p.user, "alice");
        assert_eq!(p.roles, vec!["analyst".to_string()]);
        assert_eq!(p.attributes.get("region_id").unwrap(), "3");
        assert_eq!(p.attributes.get("tier").unwrap(), "gold");
        assert_eq!(p.attributes.get("vip").unwrap(), "true");
        assert!(!p.attributes.contains_key("nested"));
        for (alg, key, kid) in [
            (Algorithm::RS256, "rsa.key", None),
            (Algorithm::RS256, "rsa.key", Some("rsa-1")),
            (Algorithm::ES256, "ec.key", None),
            (Algorithm::ES256, "ec.key", Some("ec-1")),
        ] {
            let t = signed(alg, key, kid, &claims(json!({"roles": "a b,c"})));
            let p = v
                .verify(&t, "alice")
                .unwrap_or_else(|e| panic!("{alg:?} {kid:?}: {e:?}"));
            assert_eq!(p.roles, vec!["a", "b", "c"]);
        }
    }

    #[test]
    fn jwks_alone_matches_by_kid() {
        let v = verifier(JwtConfig {
            jwks: Some(fixture("jwks.json").into()),
            ..JwtConfig::default()
        });
        let c = claims(json!({}));
        assert!(v
            .verify(
                &signed(Algorithm::ES256, "ec.key", Some("ec-1"), &c),
                "alice"
            )
            .is_ok());
        let e = v
            .verify(
                &signed(Algorithm::RS256, "rsa.key", Some("rsa-9"), &c),
                "alice",
            )
            .unwrap_err();
        assert!(
            matches!(&e, JwtError::UnknownKid { kid, known } if kid == "rsa-9" && known.len() == 2),
            "{e:?}"
        );
        assert!(e.to_pg("alice").hint.unwrap().contains("rsa-1, ec-1"));
        // The kid of an RSA key on an ES256 token.
        let e = v
            .verify(
                &signed(Algorithm::ES256, "ec.key", Some("rsa-1"), &c),
                "alice",
            )
            .unwrap_err();
        assert!(matches!(e, JwtError::BadSignature { .. }), "{e:?}");
        // No kid and no key without one: nothing to try.
        let e = v
            .verify(&signed(Algorithm::RS256, "rsa.key", None, &c), "alice")
            .unwrap_err();
        assert!(matches!(e, JwtError::NoKey { .. }), "{e:?}");
        let e = v.verify(&hs(&c), "alice").unwrap_err();
        assert!(matches!(e, JwtError::NoKey { .. }), "{e:?}");
    }

    #[test]
    fn every_failure_names_its_check() {
        let mut cfg = config();
        cfg.audience = Some("querent".into());
        cfg.issuer = Some("https://idp.example".into());
        let v = verifier(cfg);
        let ok = json!({"aud": "querent", "iss": "https://idp.example"});
        let good = claims(ok.clone());
        assert!(v.verify(&hs(&good), "alice").is_ok());
        let with = |extra: Value| {
            let mut c = good.clone();
            for (k, val) in extra.as_object().unwrap() {
                c[k] = val.clone();
            }
            c
        };
        let reason = |t: String, user: &str| v.verify(&t, user).unwrap_err().reason();

        let r = reason(hs(&with(json!({"exp": 1_700_000_000}))), "alice");
        assert_eq!(r, "token expired at 2023-11-14 22:13:20 UTC");
        let r = reason(hs(&with(json!({"nbf": now() + 3600}))), "alice");
        assert!(r.starts_with("token not yet valid: nbf is 20"), "{r}");
        // Within the leeway both pass.
        assert!(v
            .verify(&hs(&with(json!({"exp": now() - 5}))), "alice")
            .is_ok());
        assert!(v
            .verify(&hs(&with(json!({"nbf": now() + 5}))), "alice")
            .is_ok());
        let r = reason(hs(&with(json!({"aud": "grafana"}))), "alice");
        assert_eq!(
            r,
            "wrong audience: expected \"querent\", token has \"grafana\""
        );
        let mut no_aud = good.clone();
        no_aud.as_object_mut().unwrap().remove("aud");
        assert!(reason(hs(&no_aud), "alice").contains("token has no aud"));
        let r = reason(hs(&with(json!({"iss": "https://evil.example"}))), "alice");
        assert!(
            r.starts_with("wrong issuer: expected \"https://idp.example\""),
            "{r}"
        );
        let r = reason(
            signed(Algorithm::RS256, "untrusted-rsa.key", None, &good),
            "alice",
        );
        assert_eq!(r, "bad signature");
        let forged = encode(
            &Header::new(Algorithm::HS256),
            &good,
            &EncodingKey::from_secret(b"guess"),
        )
        .unwrap();
        assert_eq!(reason(forged, "alice"), "bad signature");
        assert!(reason("not-a-token".into(), "alice").starts_with("malformed token"));
        assert!(reason("a.b.c".into(), "alice").starts_with("malformed token"));
        let r = reason(
            encode(
                &Header::new(Algorithm::HS512),
                &good,
                &EncodingKey::from_secret(SECRET.as_bytes()),
            )
            .unwrap(),
            "alice",
        );
        assert_eq!(r, "algorithm not allowed: the token is signed with HS512");
        // alg "none": an unsigned token.
        let b64 = |v: Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string().as_bytes())
        };
        let none = format!("{}.{}.", b64(json!({"alg": "none"})), b64(good.clone()));
        assert_eq!(
            reason(none, "alice"),
            "algorithm not allowed: the token is signed with none"
        );
        assert_eq!(
            reason(hs(&good), "bob"),
            "token is for user \"alice\", not \"bob\""
        );
        let mut no_exp = good.clone();
        no_exp.as_object_mut().unwrap().remove("exp");
        assert_eq!(reason(hs(&no_exp), "alice"), "token has no \"exp\" claim");
        let r = reason(hs(&with(json!({"roles": 7}))), "alice");
        assert!(r.starts_with("claim \"roles\" must be"), "{r}");
        let r = reason(hs(&with(json!({"attrs": ["x"]}))), "alice");
        assert!(r.starts_with("claim \"attrs\" must be"), "{r}");

        let e = v.verify(&hs(&good), "bob").unwrap_err().to_pg("bob");
        assert_eq!(e.code, "28000");
        assert!(e
            .message
            .starts_with("JWT authentication failed for user \"bob\": "));
        assert!(e.hint.is_some());
    }

    #[test]
    fn only_configured_algorithms_pass() {
        let mut cfg = config();
        cfg.algorithms = List(vec!["RS256".into()]);
        let v = verifier(cfg);
        let c = claims(json!({}));
        assert!(v
            .verify(&signed(Algorithm::RS256, "rsa.key", None, &c), "alice")
            .is_ok());
        let e = v.verify(&hs(&c), "alice").unwrap_err();
        assert_eq!(
            e,
            JwtError::AlgorithmNotAllowed {
                alg: "HS256".into(),
                allowed: "RS256".into()
            }
        );
        assert_eq!(
            e.to_pg("alice").hint.unwrap(),
            "jwt.algorithms allows RS256"
        );
    }

    #[test]
    fn custom_claims_and_nested_paths() {
        let mut cfg = config();
        cfg.user_claim = "preferred_username".into();
        cfg.roles_claim = "realm_access.roles".into();
        cfg.attributes_claim = "https://querent/attrs".into();
        cfg.leeway = Dur(Duration::from_secs(0));
        let v = verifier(cfg);
        let c = json!({"sub": "x-123", "preferred_username": "alice", "exp": now() + 60,
                       "realm_access": {"roles": ["west", "admin"]},
                       "https://querent/attrs": {"region_id": "3"}});
        let p = v.verify(&hs(&c), "alice").unwrap();
        assert_eq!(p.roles, vec!["west", "admin"]);
        assert_eq!(p.attributes.get("region_id").unwrap(), "3");
        let e = v.verify(&hs(&json!({"sub": "alice", "exp": now() + 60})), "alice");
        assert!(matches!(
            e.unwrap_err(),
            JwtError::MissingClaim {
                setting: Some("jwt.user_claim"),
                ..
            }
        ));
    }

    #[test]
    fn load_errors_name_the_setting_and_file() {
        let e = JwtVerifier::load(&JwtConfig {
            public_keys: List(vec!["/no/such/key.pem".into()]),
            ..JwtConfig::default()
        })
        .unwrap_err();
        assert!(
            e.starts_with("jwt.public_keys: cannot read /no/such/key.pem"),
            "{e}"
        );
        let e = JwtVerifier::load(&JwtConfig {
            public_keys: List(vec![fixture("jwks.json")]),
            ..JwtConfig::default()
        })
        .unwrap_err();
        assert!(e.contains("is not a PEM RSA or EC public key"), "{e}");
        let e = JwtVerifier::load(&JwtConfig {
            jwks: Some(fixture("rsa.pub.pem").into()),
            ..JwtConfig::default()
        })
        .unwrap_err();
        assert!(
            e.starts_with("jwt.jwks:") && e.contains("not a JWKS file"),
            "{e}"
        );
        let e = JwtVerifier::load(&JwtConfig {
            secret_file: Some("/no/such/secret".into()),
            ..JwtConfig::default()
        })
        .unwrap_err();
        assert!(e.starts_with("jwt.secret_file: cannot read"), "{e}");
        let v = JwtVerifier::load(&JwtConfig {
            secret_file: Some(fixture("hs256.secret").into()),
            ..JwtConfig::default()
        })
        .unwrap();
        let secret = std::fs::read_to_string(fixture("hs256.secret")).unwrap();
        let t = encode(
            &Header::new(Algorithm::HS256),
            &claims(json!({})),
            &EncodingKey::from_secret(secret.trim_end().as_bytes()),
        )
        .unwrap();
        assert!(v.verify(&t, "alice").is_ok());
    }

    #[test]
    fn utc_formatting() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_700_000_000), "2023-11-14 22:13:20 UTC");
    }
}
