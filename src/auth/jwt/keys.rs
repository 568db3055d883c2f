//! The keys a [`JwtVerifier`] trusts: the HS256 secret, PEM public keys and JWKS files,
//! read once at start.

use super::{family_name, JwtVerifier};
use crate::config::JwtConfig;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey};
use std::path::Path;

/// A key Querent trusts.
pub(super) struct Key {
    /// Where it came from, for messages: `jwt.secret`, a PEM path, `jwks.json#kid`.
    pub(super) source: String,
    /// The JWKS `kid`, when it came from a JWKS file.
    pub(super) kid: Option<String>,
    pub(super) key: DecodingKey,
}

fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn read(setting: &str, path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{setting}: cannot read {}: {e}", path.display()))
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
