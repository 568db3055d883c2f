//! Tests of [`JwtVerifier`]: loading keys, verifying tokens and reading their claims.

use super::*;
use crate::config::{Dur, JwtConfig, List};
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
