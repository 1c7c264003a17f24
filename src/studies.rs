//! Study forms' logic, pure so it is unit-tested natively: name validation, which sites a role may
//! pick, the `sites`/`site_orgs` selection the server wants from that role, and study paths.

use std::collections::{BTreeMap, BTreeSet};

use flare_model::{SiteSelection, StudyDetail, StudyList, StudySiteChange};

/// The implicit study every session starts in; it cannot be registered or removed.
pub const DEFAULT_STUDY: &str = "default";

/// Checks a new study's name as NVFlare does: `^[a-z0-9_-]{1,63}$` and not `default`.
pub fn validate_study_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("Enter a name for the study.".to_owned());
    }
    if name.len() > 63 {
        return Err(format!(
            "A study name has at most 63 characters (this one has {}).",
            name.len()
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !matches!(c, 'a'..='z' | '0'..='9' | '_' | '-'))
    {
        return Err(format!(
            "Use only lowercase letters, digits, \"_\" and \"-\" (not \"{bad}\")."
        ));
    }
    if name == DEFAULT_STUDY {
        return Err("\"default\" is the implicit study and cannot be registered.".to_owned());
    }
    Ok(())
}

/// The path of a study's job list: `/jobs` for the session's default study.
pub fn jobs_base(study: &str, default_study: &str) -> String {
    if study == default_study {
        "/jobs".to_owned()
    } else {
        format!("/studies/{study}/jobs")
    }
}

/// Which NVFlare roles may change studies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StudyRole {
    /// project_admin: any org's sites, sent as `site_orgs`; may remove studies.
    ProjectAdmin,
    /// org_admin: only its own org's sites, sent as `sites`.
    OrgAdmin,
    /// lead / member / unknown: read only.
    Other,
}

impl StudyRole {
    pub fn from_role(role: &str) -> Self {
        match role {
            "project_admin" => StudyRole::ProjectAdmin,
            "org_admin" => StudyRole::OrgAdmin,
            _ => StudyRole::Other,
        }
    }

    pub fn can_manage(self) -> bool {
        !matches!(self, StudyRole::Other)
    }
}

/// A site picked in a study form, with the org it belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pick {
    pub site: String,
    pub org: String,
}

/// The selection to send for `picks`: `sites` for an org_admin (its own org only), `site_orgs`
/// (`"org:a,b"`, one entry per org) for a project_admin.
pub fn selection(role: StudyRole, own_org: &str, picks: &[Pick]) -> Result<SiteSelection, String> {
    if picks.is_empty() {
        return Err("Pick at least one site.".to_owned());
    }
    match role {
        StudyRole::OrgAdmin => {
            if let Some(p) = picks.iter().find(|p| p.org != own_org) {
                return Err(format!(
                    "An org admin can only enroll sites of its own org ({own_org}); {} is in {}.",
                    p.site, p.org
                ));
            }
            Ok(SiteSelection::Sites(
                picks.iter().map(|p| p.site.clone()).collect(),
            ))
        }
        StudyRole::ProjectAdmin => {
            let mut by_org: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
            for p in picks {
                let org = p.org.trim();
                if org.is_empty() || org.contains([':', ',']) {
                    return Err(format!("Enter the org of site {}.", p.site));
                }
                by_org.entry(org).or_default().push(&p.site);
            }
            Ok(SiteSelection::SiteOrgs(
                by_org
                    .into_iter()
                    .map(|(org, sites)| format!("{org}:{}", sites.join(",")))
                    .collect(),
            ))
        }
        StudyRole::Other => {
            Err("Only project admins and org admins can change studies.".to_owned())
        }
    }
}

/// Orgs → sites of a study, as the form and the studies page group them. Sites the server listed
/// without an org go under "".
pub fn sites_by_org(detail: &StudyDetail) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = detail.site_orgs.clone();
    let known: BTreeSet<&String> = detail.site_orgs.values().flatten().collect();
    for site in &detail.sites {
        if !known.contains(site) {
            out.entry(String::new()).or_default().push(site.clone());
        }
    }
    for sites in out.values_mut() {
        sites.sort();
        sites.dedup();
    }
    out
}

/// Every site → org the console has seen in study details.
pub fn known_orgs<'a>(
    details: impl IntoIterator<Item = &'a StudyDetail>,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for d in details {
        for (org, sites) in &d.site_orgs {
            for s in sites {
                out.insert(s.clone(), org.clone());
            }
        }
    }
    out
}

/// A site offered in the create form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Offered {
    pub site: String,
    /// The org the console believes the site is in (the identity's org when unknown).
    pub org: String,
    /// Only connected sites can be enrolled.
    pub online: bool,
}

/// The sites a role may pick: connected ones plus offline ones (seen in history) disabled. An
/// org_admin sees only sites of its own org (and sites whose org the console does not know, which
/// it assumes to be its own since the server would refuse others).
pub fn offered_sites(
    role: StudyRole,
    own_org: &str,
    connected: &[String],
    seen: &[String],
    orgs: &BTreeMap<String, String>,
) -> Vec<Offered> {
    let online: BTreeSet<&String> = connected.iter().collect();
    let all: BTreeSet<&String> = connected.iter().chain(seen.iter()).collect();
    all.into_iter()
        .map(|site| Offered {
            site: site.clone(),
            org: orgs
                .get(site)
                .cloned()
                .unwrap_or_else(|| own_org.to_owned()),
            online: online.contains(site),
        })
        .filter(|o| role != StudyRole::OrgAdmin || o.org == own_org)
        .collect()
}

/// What a site change did, as one line: "added: a, b · already enrolled: c".
pub fn site_change_text(change: &StudySiteChange) -> String {
    let parts = [
        ("added", &change.added),
        ("already enrolled", &change.already_enrolled),
        ("removed", &change.removed),
        ("not enrolled", &change.not_enrolled),
    ];
    let text: Vec<String> = parts
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}: {}", v.join(", ")))
        .collect();
    if text.is_empty() {
        "nothing changed".to_owned()
    } else {
        text.join(" · ")
    }
}

/// The study names a session can switch to: `list_studies` plus the default and current ones.
pub fn switchable(list: Option<&StudyList>, default_study: &str, current: &str) -> Vec<String> {
    let mut out: BTreeSet<String> = BTreeSet::new();
    out.insert(default_study.to_owned());
    out.insert(current.to_owned());
    if let Some(list) = list {
        out.extend(list.studies.iter().cloned());
        out.extend(list.study_details.iter().map(|d| d.name.clone()));
    }
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn study_names_follow_nvflare_rules() {
        assert!(validate_study_name("cancer_2-b").is_ok());
        assert!(validate_study_name(&"a".repeat(63)).is_ok());
        assert!(validate_study_name("").is_err());
        assert!(validate_study_name(&"a".repeat(64)).is_err());
        assert!(validate_study_name("Cancer").unwrap_err().contains("\"C\""));
        assert!(validate_study_name("a b").is_err());
        assert!(validate_study_name("default").is_err());
    }

    fn pick(site: &str, org: &str) -> Pick {
        Pick {
            site: site.to_owned(),
            org: org.to_owned(),
        }
    }

    #[test]
    fn project_admin_sends_site_orgs_grouped_by_org() {
        let sel = selection(
            StudyRole::ProjectAdmin,
            "nvidia",
            &[
                pick("site-1", "nvidia"),
                pick("site-3", "acme"),
                pick("site-2", "nvidia"),
            ],
        )
        .unwrap();
        assert_eq!(
            sel,
            SiteSelection::SiteOrgs(vec![
                "acme:site-3".to_owned(),
                "nvidia:site-1,site-2".to_owned()
            ])
        );
        assert!(selection(StudyRole::ProjectAdmin, "n", &[pick("s", "")]).is_err());
    }

    #[test]
    fn org_admin_sends_plain_sites_of_its_org_only() {
        let sel = selection(StudyRole::OrgAdmin, "nvidia", &[pick("site-1", "nvidia")]).unwrap();
        assert_eq!(sel, SiteSelection::Sites(vec!["site-1".to_owned()]));
        assert!(selection(StudyRole::OrgAdmin, "nvidia", &[pick("x", "acme")]).is_err());
        assert!(selection(StudyRole::OrgAdmin, "nvidia", &[]).is_err());
        assert!(selection(StudyRole::Other, "nvidia", &[pick("site-1", "nvidia")]).is_err());
    }

    #[test]
    fn offered_sites_mark_offline_and_filter_org_admins() {
        let orgs: BTreeMap<String, String> = [("site-3".to_owned(), "acme".to_owned())].into();
        let connected = vec!["site-1".to_owned(), "site-3".to_owned()];
        let seen = vec!["site-2".to_owned(), "site-1".to_owned()];
        let pa = offered_sites(StudyRole::ProjectAdmin, "nvidia", &connected, &seen, &orgs);
        assert_eq!(
            pa.iter()
                .map(|o| (o.site.as_str(), o.org.as_str(), o.online))
                .collect::<Vec<_>>(),
            [
                ("site-1", "nvidia", true),
                ("site-2", "nvidia", false),
                ("site-3", "acme", true)
            ]
        );
        let oa = offered_sites(StudyRole::OrgAdmin, "nvidia", &connected, &seen, &orgs);
        assert_eq!(
            oa.iter().map(|o| o.site.as_str()).collect::<Vec<_>>(),
            ["site-1", "site-2"]
        );
    }

    #[test]
    fn study_paths_and_change_texts() {
        assert_eq!(jobs_base("default", "default"), "/jobs");
        assert_eq!(jobs_base("s1", "default"), "/studies/s1/jobs");
        let change = StudySiteChange {
            study: "s".to_owned(),
            added: vec!["a".to_owned()],
            already_enrolled: vec!["b".to_owned(), "c".to_owned()],
            ..Default::default()
        };
        assert_eq!(
            site_change_text(&change),
            "added: a · already enrolled: b, c"
        );
        let mut detail = StudyDetail {
            name: "s".to_owned(),
            sites: vec!["x".to_owned(), "a".to_owned()],
            ..Default::default()
        };
        detail
            .site_orgs
            .insert("org".to_owned(), vec!["a".to_owned()]);
        let grouped = sites_by_org(&detail);
        assert_eq!(grouped[""], ["x"]);
        assert_eq!(grouped["org"], ["a"]);
    }
}
