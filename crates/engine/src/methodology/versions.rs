//! Standards that change over time: versions with an effective date, so that history keeps the
//! targets it was judged against.
//!
//! ```toml
//! [standards]
//! id = "2024"                      # the first version's id (default "v1"), in force from the start
//! [standards.csi]
//! target = 4.5
//!
//! [[standards.revisions]]          # each revision inherits the previous version
//! id = "2025-Q2"
//! effective_from = "2025-04-01"    # a local date in the configured time zone
//! [standards.revisions.csi]
//! target = 4.6
//! ```
//!
//! A window is judged by the version in force on its first day; a window that spans a change
//! keeps the older version until it closes.

use super::profile::Profile;
use super::standards::{StandardOverride, Standards};
use crate::window::{Day, LocalDate};
use serde::{de, Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The id of the first version when the config names none.
pub const FIRST_VERSION: &str = "v1";

/// One version of the standards, in force from `effective_from` until the next version's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StandardsVersion {
    /// The id rows record in `standards_version`.
    pub id: Arc<str>,
    /// First local day in force; `None` for the first version (in force since the beginning).
    pub effective_from: Option<LocalDate>,
    /// Targets and composite parameters of this version.
    pub standards: Standards,
}

/// Every version of the standards, ordered by effective date; never empty.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VersionedStandards(Vec<StandardsVersion>);

impl VersionedStandards {
    /// One version in force forever (the usual case, and tests').
    pub fn single(standards: Standards) -> VersionedStandards {
        VersionedStandards(vec![StandardsVersion { id: FIRST_VERSION.into(), effective_from: None, standards }])
    }

    /// The version in force on a local day.
    pub fn at(&self, day: Day) -> &StandardsVersion {
        self.0.iter().rev().find(|v| v.effective_from.is_none_or(|f| f.0 <= day)).unwrap_or(&self.0[0])
    }

    /// The latest version (what live gauges show and what `norms` proposes changes to).
    pub fn latest(&self) -> &StandardsVersion {
        &self.0[self.0.len() - 1]
    }

    /// A version by id.
    pub fn get(&self, id: &str) -> Option<&StandardsVersion> {
        self.0.iter().find(|v| &*v.id == id)
    }

    /// The profile every version belongs to.
    pub fn profile(&self) -> Profile {
        self.0[0].standards.profile()
    }

    /// Every version, oldest first.
    pub fn versions(&self) -> &[StandardsVersion] {
        &self.0
    }
}

impl Default for VersionedStandards {
    /// The regulation's standards as the only version, `v1`.
    fn default() -> Self {
        VersionedStandards::single(Standards::default())
    }
}

/// The `[standards]` table as written: overrides that become [`VersionedStandards`] once the
/// profile whose defaults they override is known ([`StandardsBook::resolve`]).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct StandardsBook {
    id: Option<String>,
    #[serde(default)]
    revisions: Vec<Revision>,
    #[serde(flatten)]
    metrics: BTreeMap<String, StandardOverride>,
}

#[derive(Debug, Clone, Deserialize)]
struct Revision {
    id: String,
    effective_from: String,
    #[serde(flatten)]
    metrics: BTreeMap<String, StandardOverride>,
}

impl<'de> Deserialize<'de> for VersionedStandards {
    /// `[standards]` of the marketplace profile: the first version's overrides by metric id, plus `id` and `[[standards.revisions]]`.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        StandardsBook::deserialize(d)?.resolve(Profile::Marketplace).map_err(de::Error::custom)
    }
}

impl StandardsBook {
    /// The versions these overrides make of `profile`'s default standards; errors say what to fix.
    pub fn resolve(&self, profile: Profile) -> Result<VersionedStandards, String> {
        let book = self.clone();
        let mut first = Standards::for_profile(profile);
        first.apply(book.metrics)?;
        let id = book.id.unwrap_or_else(|| FIRST_VERSION.to_owned());
        let mut versions = vec![StandardsVersion { id: checked_id(id)?.into(), effective_from: None, standards: first }];
        for r in book.revisions {
            let id = checked_id(r.id)?;
            let day = parse_date(&r.effective_from).map_err(|e| format!("standards revision {id:?}: {e}"))?;
            let prev = &versions[versions.len() - 1];
            if versions.iter().any(|v| *v.id == *id) {
                return Err(format!("standards revision id {id:?} is used twice; give every version its own id"));
            }
            if prev.effective_from.is_some_and(|f| f.0 >= day) {
                return Err(format!(
                    "standards revision {id:?} takes effect on {}, not after the previous revision's {}; list revisions in date order",
                    LocalDate(day),
                    prev.effective_from.map(|f| f.to_string()).unwrap_or_default()
                ));
            }
            let mut standards = prev.standards.clone();
            standards.apply(r.metrics).map_err(|e| format!("standards revision {id:?}: {e}"))?;
            versions.push(StandardsVersion { id: id.into(), effective_from: Some(LocalDate(day)), standards });
        }
        Ok(VersionedStandards(versions))
    }
}

fn checked_id(id: String) -> Result<String, String> {
    if id.trim().is_empty() || id.len() > 64 {
        return Err(format!("standards version id {id:?} must be 1 to 64 characters"));
    }
    Ok(id)
}

fn parse_date(s: &str) -> Result<Day, String> {
    LocalDate::parse(s).map(|d| d.0).ok_or_else(|| format!("effective_from {s:?} is not a date; write it as YYYY-MM-DD"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::methodology::MetricId;

    const BOOK: &str = "[csi]\ntarget = 4.4\n\n[[revisions]]\nid = \"2025-03\"\neffective_from = \"2025-03-12\"\n[revisions.csi]\nweight = 0.3\n\n\
                        [[revisions]]\nid = \"2025-04\"\neffective_from = \"2025-04-01\"\n[revisions.response_time_avg]\ntarget = \"20m\"\n";

    #[test]
    fn revisions_inherit_and_take_effect_on_their_day() {
        let v: VersionedStandards = toml::from_str(BOOK).unwrap();
        let day = |s: &str| parse_date(s).unwrap();
        assert_eq!(&*v.at(day("2025-03-11")).id, "v1");
        assert_eq!(&*v.at(day("2025-03-12")).id, "2025-03");
        assert_eq!(&*v.at(day("2025-03-31")).id, "2025-03");
        assert_eq!(&*v.at(day("2026-01-01")).id, "2025-04");
        assert_eq!(&*v.at(day("1999-01-01")).id, "v1");
        let april = &v.at(day("2025-04-01")).standards;
        assert_eq!((april.get(MetricId::Csi).target, april.get(MetricId::Csi).weight), (4.4, 0.3), "inherited from both earlier versions");
        assert_eq!(april.get(MetricId::ResponseTimeAvg).target, 1200.0);
        assert_eq!(v.at(day("2025-03-20")).standards.get(MetricId::ResponseTimeAvg).target, 1800.0);
        assert_eq!(&*v.latest().id, "2025-04");
        assert!(v.get("2025-03").is_some() && v.get("v9").is_none());
    }

    #[test]
    fn bad_books_say_what_to_fix() {
        let err = |s: &str| toml::from_str::<VersionedStandards>(s).unwrap_err().to_string();
        let e = err("[[revisions]]\nid = \"a\"\neffective_from = \"2025-02-30\"\n");
        assert!(e.contains("YYYY-MM-DD") && e.contains("\"a\""), "{e}");
        let e = err("[[revisions]]\nid = \"a\"\neffective_from = \"2025-02-01\"\n[[revisions]]\nid = \"b\"\neffective_from = \"2025-01-01\"\n");
        assert!(e.contains("date order"), "{e}");
        let e = err("[[revisions]]\nid = \"v1\"\neffective_from = \"2025-02-01\"\n");
        assert!(e.contains("used twice"), "{e}");
        let e = err("[[revisions]]\nid = \"a\"\neffective_from = \"2025-02-01\"\n[revisions.csat]\ntarget = 1\n");
        assert!(e.contains("unknown standard \"csat\""), "{e}");
        let e = err("[csi]\ntarjet = 4\n");
        assert!(e.contains("tarjet"), "{e}");
    }
}
