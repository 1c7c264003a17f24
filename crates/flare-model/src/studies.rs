//! Studies: the 2.9 multi-study registry as `list_studies`, `show_study` and the study mutations
//! report it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The caller as `list_studies` describes it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub name: String,
    #[serde(default)]
    pub org: String,
    #[serde(default)]
    pub role: String,
}

/// One entry of `list_studies().study_details`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StudyInfo {
    pub name: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub can_submit_job: bool,
    /// Why the caller cannot submit, when it cannot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `list_studies()` reply.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StudyList {
    #[serde(default)]
    pub identity: Identity,
    #[serde(default)]
    pub studies: Vec<String>,
    #[serde(default)]
    pub study_details: Vec<StudyInfo>,
}

/// `show_study()` / `register_study()` reply.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StudyDetail {
    pub name: String,
    /// Org → sites.
    #[serde(default)]
    pub site_orgs: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub sites: Vec<String>,
    #[serde(default)]
    pub users: Vec<String>,
}

/// `add_study_site()` / `remove_study_site()` reply.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StudySiteChange {
    pub study: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub added: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub already_enrolled: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_enrolled: Vec<String>,
    #[serde(default)]
    pub site_orgs: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub sites: Vec<String>,
}

/// `add_study_user()` / `remove_study_user()` reply.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StudyUserChange {
    pub study: String,
    pub user: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed: Option<bool>,
}
