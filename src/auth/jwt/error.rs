//! [`JwtError`]: why a token was refused, and the message and hint the client gets.

use crate::error::{sqlstate, PgError};

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

    #[test]
    fn utc_formatting() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_700_000_000), "2023-11-14 22:13:20 UTC");
    }
}
