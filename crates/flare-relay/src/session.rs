//! Role capabilities: what a tab may do is decided by the type it holds. An [`OperatorSession`] can
//! `execute` any [`Command`]; a [`ViewerSession`] only has `read`, which takes a [`ReadCommand`], so
//! no code path hands a mutating command to the hub on a viewer's behalf. A tab's socket holds its
//! [`TabSession`] and, for live views, [`Subscriptions`]: neither hands out the hub itself.
//!
//! Job file commands are answered here with the relay's [`Transfers`]: `submit_job` resolves its
//! upload id to a folder, `get_available_apps_to_upload` lists the job library, and the two
//! downloads build a zip to fetch over HTTP.
//!
//! What a session may read is an explicit [`Permissions`] set ([`permissions`]), decided from the
//! role and whether the login is a kiosk's: every read is checked against it before it reaches the
//! hub, and a refused one is audited like a refused mutation.
//!
//! A successful job command (abort, delete, clone, reset errors, job log config, submit) makes the
//! hub re-poll the job list and the jobs it names at once (see [`Hub::poll_soon`]).

use std::sync::Arc;

use flare_model::{
    Command, FlareError, MutateCommand, ReadCommand, Reply, Role, Topic, UpstreamState,
};
use tokio::sync::watch;

use crate::audit::{Audit, AuditRecord};
use crate::auth::Activity;
use crate::clock::now_ms;
use crate::hub::{Hub, Start, Subscription};
use crate::transfers::Transfers;

pub mod permissions;

pub use permissions::{Capability, Permissions, SessionKind};

/// Who a tab acts for.
#[derive(Clone, Debug)]
pub struct Actor {
    pub user: String,
    pub role: Role,
    pub identity: String,
    pub study: String,
    /// For a kiosk session: its token, as `<id> (<label>)` (audited with every refusal).
    pub kiosk: Option<String>,
}

impl Actor {
    /// What this actor may do: from its role and whether it is a kiosk screen.
    pub fn permissions(&self) -> Permissions {
        Permissions::of(SessionKind::of(self.role, self.kiosk.is_some()))
    }

    /// Records one command of this actor, with its outcome, in the audit trail.
    fn record(&self, audit: &Audit, command: &str, outcome: &str, message: Option<&str>) {
        audit.record(&AuditRecord {
            at_ms: now_ms(),
            user: &self.user,
            role: self.role,
            identity: &self.identity,
            study: &self.study,
            command,
            outcome,
            message,
            kiosk_token: self.kiosk.as_deref(),
        });
    }
}

/// The relay's job files as one console login sees them.
#[derive(Clone)]
pub struct TabFiles {
    pub transfers: Arc<Transfers>,
    /// The console login ([`crate::auth::LoginSession::id`]) uploads and downloads belong to.
    pub owner: String,
}

/// What a tab holds whatever its role. Private to this module: only the session types below
/// decide what reaches the hub.
struct Tab {
    hub: Arc<Hub>,
    actor: Actor,
    audit: Arc<Audit>,
    files: TabFiles,
    permissions: Permissions,
    /// The login's last use, renewed by the tab's commands and subscriptions.
    activity: Option<Activity>,
}

/// A tab of an operator: may send any command its NVFlare identity is authorized for.
pub struct OperatorSession(Tab);

/// A tab of a viewer (a kiosk screen too): may only read, and only what its [`Permissions`]
/// allow.
pub struct ViewerSession(Tab);

/// What a tab's socket may ask its hub besides commands: topics to watch and the link state. It
/// holds the hub privately and has no way to run a command.
#[derive(Clone)]
pub struct Subscriptions {
    hub: Arc<Hub>,
    activity: Option<Activity>,
}

impl Subscriptions {
    /// Subscribes to a topic (see [`Hub::subscribe`]); a use of the login.
    pub async fn subscribe(&self, topic: Topic) -> (Subscription, Start) {
        if let Some(activity) = &self.activity {
            activity.touch();
        }
        self.hub.subscribe(topic).await
    }

    /// A new receiver and snapshot of a topic, for a resync (see [`Hub::restart`]).
    pub fn restart(&self, topic: &Topic) -> Start {
        self.hub.restart(topic)
    }

    /// The link state (see [`Hub::upstream`]).
    pub fn upstream(&self) -> watch::Receiver<UpstreamState> {
        self.hub.upstream()
    }
}

impl Tab {
    /// Runs a read the actor's `permissions` allow, answering the job library and downloads on
    /// the relay; any other read is refused and audited, and never reaches the hub.
    async fn read(&self, command: &ReadCommand) -> Result<Reply, FlareError> {
        let (hub, files) = (&self.hub, &self.files);
        if let Err(refusal) = self.permissions.check_read(command) {
            self.record(command.name(), "refused", Some(refusal.message()));
            return Err(refusal);
        }
        match command {
            ReadCommand::GetAvailableAppsToUpload => {
                files.transfers.library_names().map(Reply::Names)
            }
            ReadCommand::DownloadJobResult { job_id } => {
                files
                    .transfers
                    .download_job(hub, &files.owner, job_id, false)
                    .await
            }
            ReadCommand::DownloadJobComponents { job_id } => {
                files
                    .transfers
                    .download_job(hub, &files.owner, job_id, true)
                    .await
            }
            other => hub.execute(&Command::Read(other.clone())).await,
        }
    }

    /// Records one command of the tab's actor, with its outcome, in the audit trail.
    fn record(&self, command: &str, outcome: &str, message: Option<&str>) {
        self.actor.record(&self.audit, command, outcome, message);
    }
}

/// The topics a successful mutating command changed: the job list and every job it names (the
/// job it acted on, and the job it created for `submit_job` and `clone_job`).
fn topics_changed_by(command: &MutateCommand, reply: &Reply) -> Vec<Topic> {
    let named = match command {
        MutateCommand::AbortJob { job_id }
        | MutateCommand::DeleteJob { job_id }
        | MutateCommand::ResetErrors { job_id }
        | MutateCommand::ConfigureJobLog { job_id, .. }
        | MutateCommand::CloneJob { job_id } => Some(job_id.clone()),
        MutateCommand::SubmitJob { .. } => None,
        _ => return Vec::new(),
    };
    let created = match reply {
        Reply::JobId(job_id) => Some(job_id.clone()),
        _ => None,
    };
    std::iter::once(Topic::Jobs)
        .chain(
            named
                .into_iter()
                .chain(created)
                .map(|job_id| Topic::Job { job_id }),
        )
        .collect()
}

/// A tab's capability.
pub enum TabSession {
    Operator(OperatorSession),
    Viewer(ViewerSession),
}

impl OperatorSession {
    /// Runs any command; mutating ones are audited with their outcome.
    pub async fn execute(&self, command: &Command) -> Result<Reply, FlareError> {
        let tab = &self.0;
        let result = match command {
            Command::Read(read_command) => tab.read(read_command).await,
            Command::Mutate(MutateCommand::SubmitJob {
                upload_id,
                submit_token,
            }) => {
                tab.files
                    .transfers
                    .submit(
                        &tab.hub,
                        &tab.files.owner,
                        upload_id,
                        submit_token.as_deref(),
                    )
                    .await
            }
            Command::Mutate(_) => tab.hub.execute(command).await,
        };
        if let (Command::Mutate(mutate), Ok(reply)) = (command, &result) {
            for topic in topics_changed_by(mutate, reply) {
                tab.hub.poll_soon(&topic);
            }
        }
        if command.is_mutating() {
            let (outcome, message) = match &result {
                Ok(_) => ("ok", None),
                Err(e) => ("error", Some(e.to_string())),
            };
            tab.record(command.name(), outcome, message.as_deref());
        }
        result
    }
}

impl ViewerSession {
    /// Runs a read-only command its permissions allow.
    pub async fn read(&self, command: ReadCommand) -> Result<Reply, FlareError> {
        self.0.read(&command).await
    }

    /// Refuses a mutating command and audits the refusal; it never reaches the hub.
    fn refuse(&self, command: &MutateCommand) -> FlareError {
        let error = FlareError::ReadOnlySession {
            message: format!(
                "viewer sessions are read-only: {} was refused",
                command.name()
            ),
        };
        self.0
            .record(command.name(), "refused", Some(error.message()));
        error
    }
}

impl TabSession {
    /// The capability for `actor` on `hub`: an operator's own login gets an [`OperatorSession`],
    /// everyone else (kiosk screens included) a [`ViewerSession`] with their permissions.
    pub fn new(hub: Arc<Hub>, actor: Actor, audit: Arc<Audit>, files: TabFiles) -> TabSession {
        let permissions = actor.permissions();
        let tab = Tab {
            hub,
            actor,
            audit,
            files,
            permissions,
            activity: None,
        };
        match permissions.kind() {
            SessionKind::Operator => TabSession::Operator(OperatorSession(tab)),
            SessionKind::Viewer | SessionKind::Kiosk => TabSession::Viewer(ViewerSession(tab)),
        }
    }

    /// What every tab holds, whatever its role.
    fn tab(&self) -> &Tab {
        match self {
            TabSession::Operator(operator) => &operator.0,
            TabSession::Viewer(viewer) => &viewer.0,
        }
    }

    /// The same tab, renewing `activity` (its login's) with every command and subscription.
    pub fn with_activity(mut self, activity: Activity) -> TabSession {
        let tab = match &mut self {
            TabSession::Operator(operator) => &mut operator.0,
            TabSession::Viewer(viewer) => &mut viewer.0,
        };
        tab.activity = Some(activity);
        self
    }

    /// What the tab may read and watch.
    pub fn permissions(&self) -> Permissions {
        self.tab().permissions
    }

    /// Who the tab acts for.
    pub fn actor(&self) -> &Actor {
        &self.tab().actor
    }

    /// The tab's topics and link state, without the hub's commands.
    pub fn subscriptions(&self) -> Subscriptions {
        let tab = self.tab();
        Subscriptions {
            hub: tab.hub.clone(),
            activity: tab.activity.clone(),
        }
    }

    /// Runs a command a tab sent, if its role allows it. A viewer's mutating command is refused
    /// and audited; it never reaches the hub.
    pub async fn dispatch(&self, command: Command) -> Result<Reply, FlareError> {
        if let Some(activity) = &self.tab().activity {
            activity.touch();
        }
        match (self, command) {
            (TabSession::Operator(operator), command) => operator.execute(&command).await,
            (TabSession::Viewer(viewer), Command::Read(read)) => viewer.read(read).await,
            (TabSession::Viewer(viewer), Command::Mutate(mutate)) => Err(viewer.refuse(&mutate)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: &str) -> Topic {
        Topic::Job { job_id: id.into() }
    }

    #[test]
    fn job_commands_re_poll_the_job_list_and_the_jobs_they_name() {
        let id = || "j1".to_owned();
        let cases = [
            (
                MutateCommand::AbortJob { job_id: id() },
                Reply::Text("ok".into()),
                vec![Topic::Jobs, job("j1")],
            ),
            (
                MutateCommand::DeleteJob { job_id: id() },
                Reply::Deleted {
                    job_id: id(),
                    submit_records_marked_deleted: 0,
                },
                vec![Topic::Jobs, job("j1")],
            ),
            (
                MutateCommand::ResetErrors { job_id: id() },
                Reply::Done,
                vec![Topic::Jobs, job("j1")],
            ),
            (
                MutateCommand::ConfigureJobLog {
                    job_id: id(),
                    config: "DEBUG".into(),
                    target: "all".into(),
                },
                Reply::Done,
                vec![Topic::Jobs, job("j1")],
            ),
            (
                MutateCommand::CloneJob { job_id: id() },
                Reply::JobId("j2".into()),
                vec![Topic::Jobs, job("j1"), job("j2")],
            ),
            (
                MutateCommand::SubmitJob {
                    upload_id: "u".into(),
                    submit_token: None,
                },
                Reply::JobId("j3".into()),
                vec![Topic::Jobs, job("j3")],
            ),
            (
                MutateCommand::SetTimeout { seconds: 5.0 },
                Reply::Done,
                vec![],
            ),
            (
                MutateCommand::DisableClient {
                    client_name: "site-1".into(),
                },
                Reply::Done,
                vec![],
            ),
        ];
        for (command, reply, want) in cases {
            assert_eq!(
                topics_changed_by(&command, &reply),
                want,
                "{}",
                command.name()
            );
        }
    }
}
