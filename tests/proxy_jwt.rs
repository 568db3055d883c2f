//! `auth = "jwt"`: a JWT as the cleartext password over TLS, checked against an HS256 secret,
//! PEM public keys and a JWKS file (fixtures/jwt); every refusal names its check.

mod common;

use common::{connect, Proxy};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use std::process::Command;

const AUDIENCE: &str = "querent";
const ISSUER: &str = "https://idp.example";

fn fixture(name: &str) -> String {
    format!("fixtures/jwt/{name}")
}

fn now() -> i64 {
    jsonwebtoken::get_current_timestamp() as i64
}

/// Good claims for alice, with `extra` merged in (a null removes the claim).
fn claims(extra: Value) -> Value {
    let mut c = json!({
        "sub": "alice", "aud": AUDIENCE, "iss": ISSUER, "exp": now() + 600,
        "roles": ["analyst_west", "jwt_reader"], "attrs": {"region_id": 3}
    });
    for (k, v) in extra.as_object().unwrap() {
        if v.is_null() {
            c.as_object_mut().unwrap().remove(k);
        } else {
            c[k] = v.clone();
        }
    }
    c
}

fn secret() -> Vec<u8> {
    let s = std::fs::read_to_string(common::repo().join(fixture("hs256.secret"))).unwrap();
    s.trim_end().as_bytes().to_vec()
}

fn hs(alg: Algorithm, c: &Value) -> String {
    encode(&Header::new(alg), c, &EncodingKey::from_secret(&secret())).unwrap()
}

fn signed(alg: Algorithm, key_file: &str, kid: Option<&str>, c: &Value) -> String {
    let pem = std::fs::read(common::repo().join(fixture(key_file))).unwrap();
    let key = match alg {
        Algorithm::ES256 => EncodingKey::from_ec_pem(&pem).unwrap(),
        _ => EncodingKey::from_rsa_pem(&pem).unwrap(),
    };
    let mut h = Header::new(alg);
    h.kid = kid.map(str::to_string);
    encode(&h, c, &key).unwrap()
}

fn tls_flags() -> Vec<&'static str> {
    vec![
        "--auth",
        "jwt",
        "--tls-cert",
        "fixtures/tls/server.pem",
        "--tls-key",
        "fixtures/tls/server.key",
    ]
}

/// HS256 from a secret file, RS256 from a PEM key, RS256 and ES256 from the JWKS file.
fn jwt_proxy() -> Proxy {
    let pem = fixture("rsa.pub.pem");
    let secret = fixture("hs256.secret");
    let jwks = fixture("jwks.json");
    Proxy::start_env(
        &tls_flags(),
        &[
            ("QUERENT_JWT_SECRET_FILE", secret.as_str()),
            ("QUERENT_JWT_PUBLIC_KEYS", pem.as_str()),
            ("QUERENT_JWT_JWKS", jwks.as_str()),
            ("QUERENT_JWT_AUDIENCE", AUDIENCE),
            ("QUERENT_JWT_ISSUER", ISSUER),
        ],
    )
}

/// The proxy's log without terminal colours.
fn log(p: &Proxy) -> String {
    let text = p.log_text();
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(i) = rest.find('\x1b') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        rest = rest.find('m').map_or("", |j| &rest[j + 1..]);
    }
    out.push_str(rest);
    out
}

/// psql over verified TLS with `token` as the password: (stdout, stderr).
fn psql(p: &Proxy, user: &str, token: &str) -> (String, String) {
    let out = Command::new("psql")
        .arg(format!(
            "host=localhost port={} user={user} dbname=test sslmode=verify-full sslrootcert=fixtures/tls/ca.pem",
            p.port
        ))
        .args(["-XAtc", "select 1"])
        .env("PGPASSWORD", token)
        .current_dir(common::repo())
        .output()
        .expect("psql is installed (scripts/install-test-deps.sh)");
    (
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn hs256_rs256_es256_log_in_over_tls() {
    let p = jwt_proxy();
    let good = claims(json!({}));
    for (what, token) in [
        ("HS256 secret file", hs(Algorithm::HS256, &good)),
        (
            "RS256 PEM key",
            signed(Algorithm::RS256, "rsa.key", None, &good),
        ),
        (
            "RS256 JWKS kid",
            signed(Algorithm::RS256, "rsa.key", Some("rsa-1"), &good),
        ),
        (
            "ES256 JWKS kid",
            signed(Algorithm::ES256, "ec.key", Some("ec-1"), &good),
        ),
    ] {
        let (out, err) = psql(&p, "alice", &token);
        assert_eq!(out, "1", "{what}: {err}\nlog:\n{}", p.log_text());
    }
    // The roles claim became the session's principal.
    assert!(
        log(&p).contains(r#"roles=["analyst_west", "jwt_reader"]"#),
        "{}",
        p.log_text()
    );
    // A string roles claim works too.
    let token = hs(Algorithm::HS256, &claims(json!({"roles": "a, b c"})));
    assert_eq!(psql(&p, "alice", &token).0, "1");
    assert!(log(&p).contains(r#"roles=["a", "b", "c"]"#));

    // tokio-postgres without TLS: the token is never asked for.
    let err = connect(&format!("{} password={token}", p.dsn("alice")))
        .await
        .err()
        .unwrap();
    let db = err.as_db_error().expect("a server error");
    assert_eq!(db.code().code(), "28000");
    assert_eq!(
        db.message(),
        "JWT authentication requires an encrypted connection"
    );
    assert_eq!(db.hint(), Some("connect with sslmode=require"));
}

#[test]
fn every_refusal_names_its_check() {
    let p = jwt_proxy();
    let good = claims(json!({}));
    let expired = claims(json!({"exp": 1_700_000_000}));
    let cases: Vec<(&str, &str, String, &str, &str)> =
        vec![
        (
            "expired",
            "alice",
            hs(Algorithm::HS256, &expired),
            "token expired at 2023-11-14 22:13:20 UTC",
            "get a fresh token",
        ),
        (
            "nbf",
            "alice",
            hs(Algorithm::HS256, &claims(json!({"nbf": now() + 3600}))),
            "token not yet valid: nbf is 20",
            "jwt.leeway",
        ),
        (
            "audience",
            "alice",
            hs(Algorithm::HS256, &claims(json!({"aud": "grafana"}))),
            "wrong audience: expected \"querent\", token has \"grafana\"",
            "jwt.audience",
        ),
        (
            "issuer",
            "alice",
            hs(Algorithm::HS256, &claims(json!({"iss": "https://evil.example"}))),
            "wrong issuer: expected \"https://idp.example\", token has \"https://evil.example\"",
            "jwt.issuer",
        ),
        (
            "signature",
            "alice",
            signed(Algorithm::RS256, "untrusted-rsa.key", None, &good),
            "bad signature",
            "not signed by a key Querent trusts",
        ),
        (
            "kid",
            "alice",
            signed(Algorithm::ES256, "ec.key", Some("ec-9"), &good),
            "unknown kid \"ec-9\"",
            "jwt.jwks has key ids rsa-1, ec-1",
        ),
        (
            "malformed",
            "alice",
            "not-a-token".to_string(),
            "malformed token",
            "send the JWT itself",
        ),
        (
            "algorithm",
            "alice",
            hs(Algorithm::HS512, &good),
            "algorithm not allowed: the token is signed with HS512",
            "jwt.algorithms allows HS256, RS256, ES256",
        ),
        (
            "user",
            "bob",
            hs(Algorithm::HS256, &good),
            "token is for user \"alice\", not \"bob\"",
            "connect as user=alice",
        ),
        (
            "exp missing",
            "alice",
            hs(Algorithm::HS256, &claims(json!({"exp": null}))),
            "token has no \"exp\" claim",
            "only accepts tokens that expire",
        ),
    ];
    for (what, user, token, reason, hint) in cases {
        let (out, err) = psql(&p, user, &token);
        assert!(out.is_empty(), "{what}: logged in");
        let expected = format!("FATAL:  JWT authentication failed for user \"{user}\": {reason}");
        assert!(err.contains(&expected), "{what}: {err}");
        let hint_line = err.lines().find(|l| l.starts_with("HINT:")).unwrap_or("");
        assert!(hint_line.contains(hint), "{what}: {err}");
    }
    assert!(p.metric("querent_auth_failures_total") >= 10.0);
}

#[test]
fn start_refuses_bad_setups() {
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_querent"));
        c.arg("serve")
            .args(["--admin-listen", "", "--listen", "127.0.0.1:0"])
            .args(args)
            .current_dir(common::repo());
        for (k, v) in env {
            c.env(k, v);
        }
        let out = c.output().unwrap();
        assert!(!out.status.success(), "{args:?} {env:?} should fail");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let e = run(
        &["--auth", "jwt"],
        &[("QUERENT_JWT_SECRET", "0123456789abcdef0123456789abcdef")],
    );
    assert!(e.contains("mode jwt") && e.contains("needs TLS"), "{e}");
    let e = run(&tls_flags(), &[]);
    assert!(e.contains("jwt: mode jwt needs a key"), "{e}");
    let e = run(
        &tls_flags(),
        &[("QUERENT_JWT_PUBLIC_KEYS", "fixtures/jwt/missing.pem")],
    );
    assert!(
        e.contains("jwt.public_keys: cannot read fixtures/jwt/missing.pem"),
        "{e}"
    );
    let e = run(
        &tls_flags(),
        &[("QUERENT_JWT_JWKS", "fixtures/jwt/rsa.pub.pem")],
    );
    assert!(
        e.contains("jwt.jwks:") && e.contains("not a JWKS file"),
        "{e}"
    );
    let e = run(
        &tls_flags(),
        &[
            ("QUERENT_JWT_SECRET", "x"),
            ("QUERENT_JWT_ALGORITHMS", "HS256,none"),
        ],
    );
    assert!(
        e.contains("jwt.algorithms: unknown algorithm \"none\""),
        "{e}"
    );
}

/// A users file next to `auth = "jwt"` is loaded but does not decide anything.
#[test]
fn users_file_is_ignored_in_jwt_mode() {
    let dir = std::env::temp_dir().join(format!("querent-jwt-users-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let users = dir.join("users.toml");
    std::fs::write(&users, "[users.carol]\nroles = [\"file_role\"]\n").unwrap();
    let mut flags = tls_flags();
    let u = users.to_str().unwrap().to_string();
    flags.extend(["--users", u.as_str()]);
    let p = Proxy::start_env(
        &flags,
        &[("QUERENT_JWT_SECRET_FILE", "fixtures/jwt/hs256.secret")],
    );
    let token = hs(
        Algorithm::HS256,
        &json!({"sub": "alice", "exp": now() + 60, "roles": ["from_token"]}),
    );
    let (out, err) = psql(&p, "alice", &token);
    assert_eq!(out, "1", "{err}");
    assert!(log(&p).contains(r#"roles=["from_token"]"#));
    // carol is in the file but has no token: refused.
    let (out, err) = psql(&p, "carol", "not-a-token");
    assert!(out.is_empty() && err.contains("malformed token"), "{err}");
}
