//! What each kind of console session may read and watch: a [`Permissions`] set of
//! [`Capability`]s, decided at login from the role and whether the login came from a kiosk token,
//! and checked by the tab's session before any read reaches NVFlare.
//!
//! Every [`ReadCommand`] and [`Topic`] is matched exhaustively here, so a new one does not compile
//! until someone decides which capability it needs.

use flare_model::{FlareError, ReadCommand, Role, Topic};

/// One thing a session may be allowed to do. Reads are grouped by what they reveal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Capability {
    /// `get_system_info`: server status and connected sites (the wall's system panel).
    SystemInfo,
    /// `list_jobs`: the job list (the wall's job board).
    JobList,
    /// `get_job_meta`, `get_job_status`, `show_stats`, `show_errors`: one job's meta, status and
    /// live stats (the wall's running jobs).
    JobStatus,
    /// `check_status`, `get_connected_client_list`, `get_client_job_status`, `report_resources`,
    /// `report_version`: site details beyond the system view.
    SiteStatus,
    /// `list_job_components`.
    JobComponents,
    /// `get_job_logs`.
    JobLogs,
    /// `download_job_result`, `download_job_components`: a job's files as a zip.
    Downloads,
    /// `wait_for_job`, `monitor_job`: reads that hold a command slot until a job ends.
    WaitForJob,
    /// `get_client_env`: the sites' environment reports (`report_env`).
    SiteEnvironment,
    /// `ls_target`, `cat_target`, `head_target`, `tail_target`, `grep_target`,
    /// `get_working_directory`, `head_target_log`, `tail_target_log`: shell reads of site files.
    SiteFiles,
    /// `list_studies`, `show_study`.
    Studies,
    /// `get_available_apps_to_upload`: the relay's job library.
    JobLibrary,
    /// Any `MutateCommand` (still subject to NVFlare's own policy).
    Mutate,
}

impl Capability {
    /// Every capability, in the order the README's table lists them.
    pub const ALL: [Capability; 13] = [
        Capability::SystemInfo,
        Capability::JobList,
        Capability::JobStatus,
        Capability::SiteStatus,
        Capability::JobComponents,
        Capability::JobLogs,
        Capability::Downloads,
        Capability::WaitForJob,
        Capability::SiteEnvironment,
        Capability::SiteFiles,
        Capability::Studies,
        Capability::JobLibrary,
        Capability::Mutate,
    ];

    const fn bit(self) -> u16 {
        1 << self as u16
    }

    /// The capability a read needs.
    pub fn of_read(command: &ReadCommand) -> Capability {
        match command {
            ReadCommand::GetSystemInfo => Capability::SystemInfo,
            ReadCommand::ListJobs(_) => Capability::JobList,
            ReadCommand::GetJobMeta { .. }
            | ReadCommand::GetJobStatus { .. }
            | ReadCommand::ShowStats { .. }
            | ReadCommand::ShowErrors { .. } => Capability::JobStatus,
            ReadCommand::CheckStatus { .. }
            | ReadCommand::GetConnectedClientList
            | ReadCommand::GetClientJobStatus { .. }
            | ReadCommand::ReportResources { .. }
            | ReadCommand::ReportVersion { .. } => Capability::SiteStatus,
            ReadCommand::ListJobComponents { .. } => Capability::JobComponents,
            ReadCommand::GetJobLogs { .. } => Capability::JobLogs,
            ReadCommand::DownloadJobResult { .. } | ReadCommand::DownloadJobComponents { .. } => {
                Capability::Downloads
            }
            ReadCommand::WaitForJob { .. } | ReadCommand::MonitorJob { .. } => {
                Capability::WaitForJob
            }
            ReadCommand::GetClientEnv { .. } => Capability::SiteEnvironment,
            ReadCommand::LsTarget { .. }
            | ReadCommand::CatTarget { .. }
            | ReadCommand::HeadTarget { .. }
            | ReadCommand::TailTarget { .. }
            | ReadCommand::HeadTargetLog { .. }
            | ReadCommand::TailTargetLog { .. }
            | ReadCommand::GrepTarget { .. }
            | ReadCommand::GetWorkingDirectory { .. } => Capability::SiteFiles,
            ReadCommand::ListStudies | ReadCommand::ShowStudy { .. } => Capability::Studies,
            ReadCommand::GetAvailableAppsToUpload => Capability::JobLibrary,
        }
    }
}

/// The kind of a console session, which decides its [`Permissions`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionKind {
    Operator,
    Viewer,
    /// A viewer signed in with a kiosk token: a shared screen that shows the wall.
    Kiosk,
}

impl SessionKind {
    /// The kind of a login of `role`, from a kiosk token or not (a kiosk is never an operator).
    pub fn of(role: Role, kiosk: bool) -> SessionKind {
        match (role, kiosk) {
            (_, true) => SessionKind::Kiosk,
            (Role::Operator, false) => SessionKind::Operator,
            (Role::Viewer, false) => SessionKind::Viewer,
        }
    }

    /// How a refusal names the session.
    fn noun(self) -> &'static str {
        match self {
            SessionKind::Operator => "an operator session",
            SessionKind::Viewer => "a viewer session",
            SessionKind::Kiosk => "a kiosk screen",
        }
    }
}

/// The reads a kiosk screen needs: exactly what the wall shows.
const KIOSK: [Capability; 3] = [
    Capability::SystemInfo,
    Capability::JobList,
    Capability::JobStatus,
];

/// What one session may do: a set of [`Capability`]s and the topics it may watch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Permissions {
    kind: SessionKind,
    bits: u16,
}

impl Permissions {
    /// The permissions of a session kind: operators everything, viewers every read, kiosks the
    /// wall's reads.
    pub fn of(kind: SessionKind) -> Permissions {
        let granted = |c: &Capability| match kind {
            SessionKind::Operator => true,
            SessionKind::Viewer => *c != Capability::Mutate,
            SessionKind::Kiosk => KIOSK.contains(c),
        };
        let bits = Capability::ALL
            .iter()
            .filter(|c| granted(c))
            .fold(0, |bits, c| bits | c.bit());
        Permissions { kind, bits }
    }

    /// The session kind these permissions are for.
    pub fn kind(&self) -> SessionKind {
        self.kind
    }

    /// True when the session holds `capability`.
    pub fn allows(&self, capability: Capability) -> bool {
        self.bits & capability.bit() != 0
    }

    /// `Ok` for a read the session may run, else the `authorization_error` it answers.
    pub fn check_read(&self, command: &ReadCommand) -> Result<(), FlareError> {
        if self.allows(Capability::of_read(command)) {
            return Ok(());
        }
        let reason = match self.kind {
            SessionKind::Kiosk => "it shows only the wall (system, jobs and running jobs)",
            SessionKind::Viewer | SessionKind::Operator => "the console does not grant it",
        };
        Err(FlareError::AuthorizationError {
            message: format!(
                "{} may not run {}: {reason}",
                self.kind.noun(),
                command.name()
            ),
        })
    }

    /// True when the session may watch `topic`. Every topic today is one the wall watches, so
    /// every session may watch them all; a new topic must be decided here.
    pub fn may_watch(&self, topic: &Topic) -> bool {
        match topic {
            Topic::System => self.allows(Capability::SystemInfo),
            Topic::Jobs => self.allows(Capability::JobList),
            Topic::Job { .. } => self.allows(Capability::JobStatus),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators_hold_everything_viewers_every_read_kiosks_the_wall() {
        let operator = Permissions::of(SessionKind::Operator);
        let viewer = Permissions::of(SessionKind::Viewer);
        let kiosk = Permissions::of(SessionKind::Kiosk);
        for capability in Capability::ALL {
            assert!(operator.allows(capability), "{capability:?}");
            let is_read = capability != Capability::Mutate;
            assert_eq!(viewer.allows(capability), is_read, "{capability:?}");
            assert_eq!(
                kiosk.allows(capability),
                KIOSK.contains(&capability),
                "{capability:?}"
            );
        }
        for topic in [
            Topic::System,
            Topic::Jobs,
            Topic::Job { job_id: "j".into() },
        ] {
            for permissions in [operator, viewer, kiosk] {
                assert!(permissions.may_watch(&topic), "{permissions:?} {topic:?}");
            }
        }
    }

    #[test]
    fn a_kiosk_is_never_an_operator() {
        assert_eq!(SessionKind::of(Role::Operator, true), SessionKind::Kiosk);
        assert_eq!(SessionKind::of(Role::Viewer, true), SessionKind::Kiosk);
        assert_eq!(SessionKind::of(Role::Viewer, false), SessionKind::Viewer);
        assert_eq!(
            SessionKind::of(Role::Operator, false),
            SessionKind::Operator
        );
    }

    #[test]
    fn a_refused_read_says_who_may_not_do_what() {
        let kiosk = Permissions::of(SessionKind::Kiosk);
        let error = kiosk
            .check_read(&ReadCommand::GetClientEnv {
                client_names: vec![],
            })
            .expect_err("refused");
        assert_eq!(
            error.message(),
            "a kiosk screen may not run get_client_env: it shows only the wall (system, jobs and running jobs)"
        );
        assert!(matches!(error, FlareError::AuthorizationError { .. }));
        assert!(kiosk.check_read(&ReadCommand::GetSystemInfo).is_ok());
    }
}
