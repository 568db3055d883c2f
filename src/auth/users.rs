//! The users file: one entry per login with a SCRAM verifier, roles and attributes.
//!
//! ```toml
//! [users.alice]
//! scram = "SCRAM-SHA-256$4096:...$...:..."
//! roles = ["analyst_west"]
//! attributes = { region_id = "3" }
//! ```

use super::scram::Verifier;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// One user.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct UserEntry {
    /// SCRAM-SHA-256 verifier; absent means the user can only log in under `auth = "trust"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scram: Option<String>,
    /// Role names, resolved against the policies.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Attributes usable in row filters as `${user.NAME}`.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

/// The whole users file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsersFile {
    /// Users by login name.
    #[serde(default)]
    pub users: BTreeMap<String, UserEntry>,
}

impl UsersFile {
    /// Loads and checks a users file. A missing file is an empty one only when `allow_missing`.
    pub fn load(path: &Path, allow_missing: bool) -> Result<UsersFile, String> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && allow_missing => {
                return Ok(UsersFile::default())
            }
            Err(e) => return Err(format!("cannot read users file {}: {e}", path.display())),
        };
        let file: UsersFile =
            toml::from_str(&text).map_err(|e| format!("users file {}: {e}", path.display()))?;
        for (name, u) in &file.users {
            if let Some(v) = &u.scram {
                Verifier::parse(v).map_err(|e| {
                    format!("users file {}: users.{name}.scram: {e}", path.display())
                })?;
            }
        }
        Ok(file)
    }

    /// Writes the file atomically (temp file + rename) so a crash never leaves half a file.
    pub fn save(&self, path: &Path) -> Result<(), String> {
        let text = toml::to_string_pretty(self).map_err(|e| e.to_string())?;
        let tmp = path.with_extension("toml.tmp");
        std::fs::write(&tmp, text).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
        std::fs::rename(&tmp, path).map_err(|e| format!("cannot write {}: {e}", path.display()))
    }

    /// Creates or updates a user. A new password replaces the verifier; given roles replace the
    /// roles; given attributes are merged in.
    pub fn upsert(
        &mut self,
        name: &str,
        password: Option<&str>,
        roles: &[String],
        attributes: &[(String, String)],
    ) {
        let entry = self.users.entry(name.to_string()).or_default();
        if let Some(p) = password {
            entry.scram = Some(Verifier::create(p));
        }
        if !roles.is_empty() {
            entry.roles = roles.to_vec();
        }
        for (k, v) in attributes {
            entry.attributes.insert(k.clone(), v.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upsert_save_load() {
        let dir = std::env::temp_dir().join(format!("querent-users-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("users.toml");
        let mut f = UsersFile::default();
        f.upsert(
            "alice",
            Some("pw"),
            &["analyst".into()],
            &[("region_id".into(), "3".into())],
        );
        f.save(&p).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(
            !text.contains("\"pw\""),
            "plain password must never be stored"
        );
        let mut g = UsersFile::load(&p, false).unwrap();
        assert_eq!(g.users["alice"].roles, vec!["analyst".to_string()]);
        g.upsert("alice", None, &[], &[("tier".into(), "gold".into())]);
        assert_eq!(g.users["alice"].attributes.len(), 2);
        assert_eq!(g.users["alice"].scram, f.users["alice"].scram);
        std::fs::write(&p, "[users.bob]\nscram = \"plain\"\n").unwrap();
        assert!(UsersFile::load(&p, false)
            .unwrap_err()
            .contains("users.bob.scram"));
    }
}
