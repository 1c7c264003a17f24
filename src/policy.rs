//! Which job actions this session may use, and why not: the console role, the NVFlare identity's
//! role under the default provisioned policy (COMMANDS.md a.4), and the job's state.
//!
//! The console disables what would surely fail and says why; NVFlare's own policy still decides
//! (a site may have changed it), and its refusal is shown when it comes.

use flare_model::{JobMeta, Role};

/// The NVFlare identity as `list_studies` describes it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Identity {
    pub name: String,
    pub org: String,
    /// `project_admin`, `org_admin`, `lead` or `member`; empty while unknown.
    pub role: String,
}

/// An action the console offers on a job (or, for `Submit`, on the study).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JobAction {
    Submit,
    Abort,
    Delete,
    Clone,
    DownloadResult,
    DownloadComponents,
    Logs,
    ResetErrors,
}

impl JobAction {
    /// True when the relay treats the command as mutating (viewers cannot send it).
    pub fn is_mutating(self) -> bool {
        matches!(
            self,
            JobAction::Submit
                | JobAction::Abort
                | JobAction::Delete
                | JobAction::Clone
                | JobAction::ResetErrors
        )
    }

    /// What the action does, for reasons ("… cannot <verb> …").
    fn verb(self) -> &'static str {
        match self {
            JobAction::Submit => "submit jobs",
            JobAction::Abort => "abort this job",
            JobAction::Delete => "delete this job",
            JobAction::Clone => "clone this job",
            JobAction::DownloadResult => "download this job's result",
            JobAction::DownloadComponents => "download job components",
            JobAction::Logs => "read job logs",
            JobAction::ResetErrors => "reset errors",
        }
    }
}

/// Whether an action can be used now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Allowed {
    Yes,
    /// Disabled, with the reason shown next to the button.
    No(String),
}

impl Allowed {
    pub fn is_yes(&self) -> bool {
        matches!(self, Allowed::Yes)
    }

    /// The reason, when disabled.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Allowed::Yes => None,
            Allowed::No(r) => Some(r),
        }
    }
}

/// Everything the decision depends on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Who {
    pub console_role: Role,
    /// None while `list_studies` has not answered (then only NVFlare decides).
    pub identity: Option<Identity>,
}

/// True for a status after which the job never changes.
pub fn is_finished(status: &str) -> bool {
    flare_model::jobs::is_terminal_status(status)
}

/// The job relation the default policy cares about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scope {
    /// Every job.
    Any,
    /// Jobs whose submitter is in the identity's org (`o:submitter`).
    OwnOrg,
    /// Jobs the identity submitted (`n:submitter`).
    Own,
    None,
}

/// The default policy's scope for `action` and an NVFlare role; None for an unknown role.
fn scope(role: &str, action: JobAction) -> Option<Scope> {
    use JobAction::*;
    Some(match (role, action) {
        ("project_admin", _) => Scope::Any,
        (_, ResetErrors) => Scope::Any,
        ("org_admin", Submit | Clone) => Scope::None,
        ("org_admin", Abort | Delete | DownloadResult) => Scope::OwnOrg,
        ("lead", Submit) => Scope::Any,
        ("lead", Clone | Abort | Delete | DownloadResult) => Scope::Own,
        ("org_admin" | "lead" | "member", DownloadComponents | Logs) => Scope::None,
        ("member", _) => Scope::None,
        _ => return None,
    })
}

/// Whether `who` may use `action` on the job described by `meta` (None for `Submit`).
pub fn allowed(who: &Who, action: JobAction, meta: Option<&JobMeta>) -> Allowed {
    if action.is_mutating() && who.console_role == Role::Viewer {
        return Allowed::No(
            "This is a read-only (viewer) session: it can watch but not change anything."
                .to_owned(),
        );
    }
    if let Some(id) = who.identity.as_ref().filter(|i| !i.role.is_empty())
        && let Some(scope) = scope(&id.role, action)
    {
        let denied = || {
            Allowed::No(format!(
                "Your NVFlare role ({}) cannot {} under the default policy.",
                id.role,
                action.verb()
            ))
        };
        match (scope, meta) {
            (Scope::None, _) => return denied(),
            (Scope::Own, Some(m)) if m.submitter_name.as_deref() != Some(id.name.as_str()) => {
                return Allowed::No(format!(
                    "Your NVFlare role ({}) can only {} if you submitted it; {} did.",
                    id.role,
                    action.verb(),
                    m.submitter_name.as_deref().unwrap_or("someone else")
                ));
            }
            (Scope::OwnOrg, Some(m)) if m.submitter_org.as_deref() != Some(id.org.as_str()) => {
                return Allowed::No(format!(
                    "Your NVFlare role ({}) can act only on jobs submitted from your org ({}).",
                    id.role, id.org
                ));
            }
            _ => {}
        }
    }
    let Some(meta) = meta else {
        return Allowed::Yes;
    };
    let status = meta.status.as_str();
    match action {
        JobAction::DownloadResult if !status.starts_with("FINISHED") => Allowed::No(format!(
            "The result can be downloaded once the job has finished (it is {status})."
        )),
        JobAction::Delete if matches!(status, "RUNNING" | "DISPATCHED") => {
            Allowed::No(format!("A {status} job cannot be deleted; abort it first."))
        }
        JobAction::Abort if is_finished(status) => {
            Allowed::No(format!("The job has already finished ({status})."))
        }
        JobAction::ResetErrors if status != "RUNNING" => {
            Allowed::No("Errors can be reset only while the job runs.".to_owned())
        }
        _ => Allowed::Yes,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// `lead@nvidia.com` of org `nvidia`, in NVFlare role `role`; also used by the browser tests.
    pub(crate) fn who(console: Role, role: &str) -> Who {
        Who {
            console_role: console,
            identity: Some(Identity {
                name: "lead@nvidia.com".to_owned(),
                org: "nvidia".to_owned(),
                role: role.to_owned(),
            }),
        }
    }

    fn meta(status: &str, submitter: &str, org: &str) -> JobMeta {
        JobMeta {
            job_id: "j1".to_owned(),
            status: status.to_owned(),
            submitter_name: Some(submitter.to_owned()),
            submitter_org: Some(org.to_owned()),
            ..JobMeta::default()
        }
    }

    #[test]
    fn default_policy_matrix() {
        use JobAction::*;
        let own = meta("FINISHED:COMPLETED", "lead@nvidia.com", "nvidia");
        let other_org = meta("FINISHED:COMPLETED", "x@other.com", "other");
        let same_org = meta("FINISHED:COMPLETED", "y@nvidia.com", "nvidia");
        // (role, action, job, allowed)
        let cases = [
            ("project_admin", Logs, &other_org, true),
            ("project_admin", DownloadComponents, &other_org, true),
            ("project_admin", Clone, &other_org, true),
            ("lead", Logs, &own, false),
            ("lead", DownloadComponents, &own, false),
            ("lead", DownloadResult, &own, true),
            ("lead", DownloadResult, &same_org, false),
            ("lead", Clone, &own, true),
            ("lead", Clone, &same_org, false),
            ("lead", Delete, &own, true),
            ("org_admin", Clone, &own, false),
            ("org_admin", Delete, &same_org, true),
            ("org_admin", Delete, &other_org, false),
            ("org_admin", DownloadResult, &same_org, true),
            ("member", DownloadResult, &own, false),
            ("member", Delete, &own, false),
        ];
        for (role, action, job, want) in cases {
            let got = allowed(&who(Role::Operator, role), action, Some(job));
            assert_eq!(got.is_yes(), want, "{role} {action:?}: {got:?}");
        }
        assert!(!allowed(&who(Role::Operator, "org_admin"), Submit, None).is_yes());
        assert!(!allowed(&who(Role::Operator, "member"), Submit, None).is_yes());
        assert!(allowed(&who(Role::Operator, "lead"), Submit, None).is_yes());
    }

    #[test]
    fn reasons_name_the_role_and_the_state() {
        let running = meta("RUNNING", "lead@nvidia.com", "nvidia");
        let lead = who(Role::Operator, "lead");
        assert_eq!(
            allowed(&lead, JobAction::Logs, Some(&running)).reason(),
            Some("Your NVFlare role (lead) cannot read job logs under the default policy.")
        );
        assert_eq!(
            allowed(&lead, JobAction::DownloadResult, Some(&running)).reason(),
            Some("The result can be downloaded once the job has finished (it is RUNNING).")
        );
        assert_eq!(
            allowed(&lead, JobAction::Delete, Some(&running)).reason(),
            Some("A RUNNING job cannot be deleted; abort it first.")
        );
        assert!(allowed(&lead, JobAction::Abort, Some(&running)).is_yes());
        let done = meta("FINISHED:ABORTED", "lead@nvidia.com", "nvidia");
        assert!(!allowed(&lead, JobAction::Abort, Some(&done)).is_yes());
        let other = meta("FINISHED:COMPLETED", "admin@nvidia.com", "nvidia");
        assert_eq!(
            allowed(&lead, JobAction::Clone, Some(&other)).reason(),
            Some(
                "Your NVFlare role (lead) can only clone this job if you submitted it; \
                 admin@nvidia.com did."
            )
        );
    }

    #[test]
    fn viewers_cannot_mutate_but_may_read() {
        let viewer = who(Role::Viewer, "project_admin");
        let done = meta("FINISHED:COMPLETED", "a", "b");
        for action in [
            JobAction::Abort,
            JobAction::Delete,
            JobAction::Clone,
            JobAction::Submit,
            JobAction::ResetErrors,
        ] {
            let got = allowed(&viewer, action, Some(&done));
            assert!(
                got.reason().unwrap().contains("read-only (viewer) session"),
                "{action:?}"
            );
        }
        assert!(allowed(&viewer, JobAction::DownloadResult, Some(&done)).is_yes());
        assert!(allowed(&viewer, JobAction::Logs, Some(&done)).is_yes());
    }

    #[test]
    fn unknown_identity_leaves_the_decision_to_nvflare() {
        let unknown = Who {
            console_role: Role::Operator,
            identity: None,
        };
        let done = meta("FINISHED:COMPLETED", "a", "b");
        assert!(allowed(&unknown, JobAction::Logs, Some(&done)).is_yes());
        assert!(allowed(&unknown, JobAction::Clone, Some(&done)).is_yes());
        // The job's state still counts.
        assert!(!allowed(&unknown, JobAction::Abort, Some(&done)).is_yes());
    }
}
