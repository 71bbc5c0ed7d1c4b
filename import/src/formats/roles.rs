//! The user's role map: which ASAPP role a vendor role takes, for the roles no documented rule
//! maps (bots, supervisors, IVR, Twilio's free-text roles) or to remap one that a rule does.
//!
//! Each entry is `VENDOR_ROLE=customer|agent|system` (from a repeated `--role-map` option);
//! both sides are matched case-insensitively and spaces around them are ignored. An entry of the
//! map wins over the format's documented rule, so `ivr=agent` remaps Genesys's IVR phrases.

use std::collections::BTreeMap;
use std::str::FromStr;

use asapp_conversations::types::ParticipantRole;

use super::redact::label;

/// The ASAPP role `text` names, in any case: only the roles the description lists, since an
/// import sends no other.
pub(crate) fn known_role(text: &str) -> Option<ParticipantRole> {
    Some(ParticipantRole::from(text.trim().to_ascii_lowercase())).filter(|role| !role.is_unknown())
}

/// Why a role map entry was refused. The entry is the user's own option value, so it is shown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoleMapError {
    /// No `=` in the entry.
    #[error("role map entry `{entry}` is not VENDOR_ROLE=customer|agent|system")]
    NotAnEntry {
        /// The entry as given.
        entry: String,
    },
    /// Nothing before the `=`.
    #[error("role map entry `{entry}` has no vendor role before `=`")]
    NoVendorRole {
        /// The entry as given.
        entry: String,
    },
    /// The role after the `=` is not one of ASAPP's.
    #[error("role map entry `{entry}` maps to `{target}`, which is not customer, agent or system")]
    UnknownRole {
        /// The entry as given.
        entry: String,
        /// What came after the `=`.
        target: String,
    },
    /// The same vendor role mapped to two different roles.
    #[error(
        "role map entry `{entry}` maps `{vendor_role}` again, to another role than `{earlier}`"
    )]
    Conflict {
        /// The later entry, as given.
        entry: String,
        /// The vendor role, as the later entry spells it.
        vendor_role: String,
        /// The role an earlier entry gave it.
        earlier: ParticipantRole,
    },
}

/// One parsed entry: a vendor role and the ASAPP role it takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleMapEntry {
    /// The vendor role, trimmed (matched case-insensitively).
    pub vendor_role: String,
    /// The ASAPP role.
    pub role: ParticipantRole,
}

impl FromStr for RoleMapEntry {
    type Err = RoleMapError;

    /// `VENDOR_ROLE=customer|agent|system`.
    fn from_str(entry: &str) -> Result<Self, RoleMapError> {
        let Some((vendor_role, target)) = entry.split_once('=') else {
            return Err(RoleMapError::NotAnEntry {
                entry: entry.to_owned(),
            });
        };
        let vendor_role = vendor_role.trim();
        if vendor_role.is_empty() {
            return Err(RoleMapError::NoVendorRole {
                entry: entry.to_owned(),
            });
        }
        let target = target.trim();
        let role = known_role(target).ok_or_else(|| RoleMapError::UnknownRole {
            entry: entry.to_owned(),
            target: target.to_owned(),
        })?;
        Ok(Self {
            vendor_role: vendor_role.to_owned(),
            role,
        })
    }
}

/// Vendor roles mapped to ASAPP roles by the user; empty by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleMap {
    /// By the vendor role in lower case.
    roles: BTreeMap<String, ParticipantRole>,
}

impl RoleMap {
    /// Parses the option values, one entry each; the first bad entry is the error. The same
    /// entry twice is fine; the same vendor role mapped to two roles is not.
    pub fn parse<I, S>(entries: I) -> Result<Self, RoleMapError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut map = Self::default();
        for entry in entries {
            let entry = entry.as_ref();
            map.insert(entry, entry.parse()?)?;
        }
        Ok(map)
    }

    /// Adds one parsed entry (`entry` is its text, for the error).
    fn insert(&mut self, entry: &str, parsed: RoleMapEntry) -> Result<(), RoleMapError> {
        let key = parsed.vendor_role.to_lowercase();
        match self.roles.get(&key) {
            Some(earlier) if *earlier != parsed.role => Err(RoleMapError::Conflict {
                entry: entry.to_owned(),
                vendor_role: parsed.vendor_role,
                earlier: earlier.clone(),
            }),
            Some(_) => Ok(()),
            None => {
                self.roles.insert(key, parsed.role);
                Ok(())
            }
        }
    }

    /// The entries, as `vendor_role=role` in the vendor roles' order, lower case: the same map
    /// however it was spelled.
    pub fn describe(&self) -> String {
        self.roles
            .iter()
            .map(|(vendor, role)| format!("{vendor}={role}"))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The role the user gave `vendor_role`, matched case-insensitively.
    pub fn get(&self, vendor_role: &str) -> Option<ParticipantRole> {
        if self.roles.is_empty() {
            return None;
        }
        self.roles.get(&vendor_role.trim().to_lowercase()).cloned()
    }

    /// The ASAPP role of `vendor_role`: the user's entry, else the format's documented rule.
    /// The error (for an invalid entry) names the field and says how to map the role.
    pub fn resolve(
        &self,
        field: &str,
        vendor_role: &str,
        documented: impl Fn(&str) -> Option<ParticipantRole>,
    ) -> Result<ParticipantRole, String> {
        self.get(vendor_role)
            .or_else(|| documented(vendor_role.trim()))
            .ok_or_else(|| match label(vendor_role) {
                Some(label) => format!(
                    "{field} `{label}` has no ASAPP role: map it with --role-map '{label}=customer|agent|system'"
                ),
                None => format!(
                    "{field} is not a role label (not shown) and has no ASAPP role"
                ),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_parse_case_insensitively_and_trimmed() {
        let map = RoleMap::parse(["CUSTOM_BOT=system", " Supervisor = AGENT ", "ivr=Customer"])
            .expect("valid entries");
        assert_eq!(map.get("custom_bot"), Some(ParticipantRole::System));
        assert_eq!(map.get("SUPERVISOR"), Some(ParticipantRole::Agent));
        assert_eq!(map.get("IVR"), Some(ParticipantRole::Customer));
        assert_eq!(map.get("acd"), None);
    }

    #[test]
    fn bad_entries_are_typed_errors_naming_the_entry() {
        let cases: &[(&str, RoleMapError)] = &[
            (
                "CUSTOM_BOT",
                RoleMapError::NotAnEntry {
                    entry: "CUSTOM_BOT".into(),
                },
            ),
            (
                "=agent",
                RoleMapError::NoVendorRole {
                    entry: "=agent".into(),
                },
            ),
            (
                "bot=robot",
                RoleMapError::UnknownRole {
                    entry: "bot=robot".into(),
                    target: "robot".into(),
                },
            ),
            (
                "bot=",
                RoleMapError::UnknownRole {
                    entry: "bot=".into(),
                    target: String::new(),
                },
            ),
        ];
        for (entry, expected) in cases {
            let error = RoleMap::parse([*entry]).expect_err(entry);
            assert_eq!(&error, expected, "{entry}");
            assert!(error.to_string().contains(entry), "{error}");
        }
    }

    #[test]
    fn a_vendor_role_mapped_twice_must_agree() {
        assert!(RoleMap::parse(["bot=system", "BOT=system"]).is_ok());
        let error = RoleMap::parse(["bot=system", "BOT=agent"]).expect_err("conflict");
        assert_eq!(
            error,
            RoleMapError::Conflict {
                entry: "BOT=agent".into(),
                vendor_role: "BOT".into(),
                earlier: ParticipantRole::System,
            }
        );
        assert_eq!(
            error.to_string(),
            "role map entry `BOT=agent` maps `BOT` again, to another role than `system`"
        );
    }

    #[test]
    fn the_map_wins_over_the_documented_rule() {
        let documented = |role: &str| (role == "ivr").then_some(ParticipantRole::System);
        let empty = RoleMap::default();
        assert_eq!(
            empty.resolve("purpose", "ivr", documented),
            Ok(ParticipantRole::System)
        );
        let remapped = RoleMap::parse(["IVR=agent"]).expect("valid");
        assert_eq!(
            remapped.resolve("purpose", "ivr", documented),
            Ok(ParticipantRole::Agent)
        );
        let error = empty
            .resolve("purpose", "voicemail", documented)
            .expect_err("unmapped");
        assert_eq!(
            error,
            "purpose `voicemail` has no ASAPP role: map it with --role-map 'voicemail=customer|agent|system'"
        );
    }
}
